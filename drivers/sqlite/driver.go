package sqlite

import (
	"context"
	"database/sql"

	"github.com/mlflow-bulk/mlflow-bulk/drivers"
	"github.com/mlflow-bulk/mlflow-bulk/internal/dburi"
	"github.com/mlflow-bulk/mlflow-bulk/schema"
	"github.com/mlflow-bulk/mlflow-bulk/sinks"
)

// Driver is SQLite: MLflow's default database, and mlflow-bulk's embedded target.
type Driver struct{}

// Database describes SQLite.
func (Driver) Database() *schema.Database { return sqliteDatabase }

// Open opens (creating it when missing) the SQLite file of uri to write.
func (Driver) Open(ctx context.Context, uri *dburi.URI, opts sinks.Options) (sinks.Sink, error) {
	return openSink(ctx, uri, opts)
}

// OpenReader opens the SQLite file of uri so that nothing is created or changed beside
// it, from a private copy where SQLite would otherwise have to write.
func (Driver) OpenReader(_ context.Context, uri *dburi.URI, _ string) (*drivers.Reader, error) {
	lite, err := openSQLiteSource(uri.Path)
	if err != nil {
		return nil, err
	}
	db, err := sql.Open("sqlite", lite.dsn)
	if err != nil {
		lite.cleanup()
		return nil, err
	}
	return &drivers.Reader{DB: db, Dialect: schema.SQLite, Notice: lite.notice, Cleanup: lite.cleanup}, nil
}
