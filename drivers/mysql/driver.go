package mysql

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/go-sql-driver/mysql"
	"github.com/mlflow-bulk/mlflow-bulk/drivers"
	"github.com/mlflow-bulk/mlflow-bulk/internal/dburi"
	"github.com/mlflow-bulk/mlflow-bulk/schema"
	"github.com/mlflow-bulk/mlflow-bulk/sinks"
)

// Driver is MySQL and MariaDB.
type Driver struct{}

// Database describes MySQL and MariaDB.
func (Driver) Database() *schema.Database { return mysqlDatabase }

// Open connects to write, holding the import lock (see openSink).
func (Driver) Open(ctx context.Context, uri *dburi.URI, opts sinks.Options) (sinks.Sink, error) {
	return openSink(ctx, uri, opts)
}

// OpenReader connects with sessions made read-only before anything is read, in
// ANSI_QUOTES mode so that mlflow-bulk's double-quoted identifiers read as names.
func (Driver) OpenReader(_ context.Context, uri *dburi.URI, password string) (*drivers.Reader, error) {
	cfg, _, err := config(uri)
	if err != nil {
		return nil, err
	}
	if password != "" {
		cfg.Passwd = password
	}
	connector, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", uri.Redacted(), err)
	}
	prepare := func(ctx context.Context, conn *sql.Conn) error {
		for _, stmt := range []string{"SET SESSION TRANSACTION READ ONLY", "SET SESSION sql_mode = CONCAT_WS(',', NULLIF(@@sql_mode, ''), 'ANSI_QUOTES')"} {
			if _, err := conn.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("%s: %w", uri.Redacted(), err)
			}
		}
		return nil
	}
	return &drivers.Reader{DB: sql.OpenDB(connector), Dialect: schema.MySQL, Prepare: prepare}, nil
}
