package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/mlflow-bulk/mlflow-bulk/drivers"
	"github.com/mlflow-bulk/mlflow-bulk/internal/dburi"
	"github.com/mlflow-bulk/mlflow-bulk/schema"
	"github.com/mlflow-bulk/mlflow-bulk/sinks"
)

// Driver is PostgreSQL.
type Driver struct{}

// Database describes PostgreSQL.
func (Driver) Database() *schema.Database { return postgresDatabase }

// Open connects to write, holding the import lock (see openSink).
func (Driver) Open(ctx context.Context, uri *dburi.URI, opts sinks.Options) (sinks.Sink, error) {
	return openSink(ctx, uri, opts)
}

// OpenReader connects in read-only transactions.
func (Driver) OpenReader(_ context.Context, uri *dburi.URI, password string) (*drivers.Reader, error) {
	cfg, err := pgx.ParseConfig(uri.PostgresURL())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", uri.Redacted(), err)
	}
	cfg.RuntimeParams["default_transaction_read_only"] = "on"
	if password != "" {
		cfg.Password = password
	}
	return &drivers.Reader{DB: stdlib.OpenDB(*cfg), Dialect: schema.Postgres}, nil
}
