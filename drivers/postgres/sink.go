package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/mlflow-bulk/mlflow-bulk/internal/dburi"
	"github.com/mlflow-bulk/mlflow-bulk/schema"
	"github.com/mlflow-bulk/mlflow-bulk/schema/live"
	"github.com/mlflow-bulk/mlflow-bulk/sinks"
)

// openSink connects to a PostgreSQL MLflow database. It accepts MLflow's URI forms
// (postgresql://, postgresql+psycopg2://, postgres://) with libpq query options.
func openSink(ctx context.Context, uri *dburi.URI, opts sinks.Options) (sinks.Sink, error) {
	cfg, err := pgx.ParseConfig(uri.PostgresURL())
	if err != nil {
		// pgx's ParseConfigError already redacts; say where without the URI's secrets.
		return nil, fmt.Errorf("%s: %w", uri.Redacted(), err)
	}
	if opts.Password != "" {
		cfg.Password = opts.Password
	}
	if opts.ReadOnly {
		cfg.RuntimeParams["default_transaction_read_only"] = "on"
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %s%s", uri.Redacted(), describeConnectError(err), missingDatabaseHint(err, cfg, opts.ReadOnly))
	}
	s := &pgSink{uri: uri, conn: conn, opts: opts}
	if !opts.ReadOnly && !opts.LockPerTransaction {
		if err := s.lock(ctx); err != nil {
			conn.Close(context.WithoutCancel(ctx))
			return nil, err
		}
	}
	return s, nil
}

// describeConnectError keeps the server's reason (wrong password, unknown database,
// refused connection) and drops pgx's repetition of the connection string.
// missingDatabaseHint says how to create a target database that does not exist
// (invalid_catalog_name): an import does not create one, as MLflow's server does not.
func missingDatabaseHint(err error, cfg *pgx.ConnConfig, readOnly bool) string {
	var pgErr *pgconn.PgError
	if readOnly || !errors.As(err, &pgErr) || pgErr.Code != "3D000" {
		return ""
	}
	return fmt.Sprintf("\nCreate it first, then run again: createdb -h %s -p %d -U %s %s (or, in psql, CREATE DATABASE %s;)",
		cfg.Host, cfg.Port, cfg.User, cfg.Database, pgx.Identifier{cfg.Database}.Sanitize())
}

func describeConnectError(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Message
	}
	msg := err.Error()
	if i := strings.LastIndex(msg, ": "); i >= 0 && strings.HasPrefix(msg, "failed to connect") {
		return msg[i+2:]
	}
	return msg
}

type pgSink struct {
	uri  *dburi.URI
	opts sinks.Options
	conn *pgx.Conn
	open *pgTx // the transaction in progress, rolled back by Close
}

func (s *pgSink) Dialect() schema.Dialect { return schema.Postgres }
func (s *pgSink) Describe() string        { return s.uri.Redacted() }

// Close rolls back a transaction still open and closes the connection.
func (s *pgSink) Close() error {
	var errTx error
	if s.open != nil {
		errTx = s.open.Rollback(context.Background())
	}
	return errors.Join(errTx, s.conn.Close(context.Background()))
}

func (s *pgSink) Begin(ctx context.Context) (sinks.Tx, error) {
	tx, err := s.conn.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("begin transaction on %s: %w", s.Describe(), err)
	}
	s.open = &pgTx{tx: tx}
	if s.opts.LockPerTransaction && !s.opts.ReadOnly {
		// A transaction-scoped advisory lock, released at commit or rollback.
		if _, err := tx.Exec(ctx, fmt.Sprintf("SET LOCAL lock_timeout = %d", s.opts.LockWaitLimit().Milliseconds())); err != nil {
			return nil, err
		}
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", int64(sinks.ImportLockKey)); err != nil {
			errRollback := tx.Rollback(context.WithoutCancel(ctx))
			return nil, errors.Join(fmt.Errorf("%s: %w (%w)", s.Describe(), sinks.ErrLocked, err), errRollback)
		}
		if _, err := tx.Exec(ctx, "SET LOCAL lock_timeout = 0"); err != nil {
			return nil, err
		}
	}
	return s.open, nil
}

// lock takes the import lock for the session; closing the connection releases it.
func (s *pgSink) lock(ctx context.Context) (err error) {
	var got bool
	if err := s.conn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1)", int64(sinks.ImportLockKey)).Scan(&got); err != nil {
		return fmt.Errorf("take the import lock: %w", err)
	}
	if got {
		return nil
	}
	s.opts.NotifyLockWait(s.lockHolder(ctx))
	if _, err := s.conn.Exec(ctx, fmt.Sprintf("SET lock_timeout = %d", s.opts.LockWaitLimit().Milliseconds())); err != nil {
		return err
	}
	defer func() {
		if _, resetErr := s.conn.Exec(context.WithoutCancel(ctx), "SET lock_timeout = 0"); resetErr != nil && err == nil {
			err = fmt.Errorf("reset lock_timeout after taking the import lock: %w", resetErr)
		}
	}()
	if _, err := s.conn.Exec(ctx, "SELECT pg_advisory_lock($1)", int64(sinks.ImportLockKey)); err != nil {
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "55P03" {
			return fmt.Errorf("%s: %w", s.Describe(), sinks.Locked(s.opts.LockWaitLimit()))
		}
		return fmt.Errorf("take the import lock: %w", err)
	}
	return nil
}

// lockHolder describes the session holding the import lock, from pg_locks and
// pg_stat_activity ("" when it cannot be read).
func (s *pgSink) lockHolder(ctx context.Context) string {
	var pid int
	var app, client, since string
	err := s.conn.QueryRow(ctx, `SELECT a.pid, COALESCE(a.application_name, ''), COALESCE(host(a.client_addr), 'a local socket'),
		COALESCE(to_char(a.backend_start, 'YYYY-MM-DD HH24:MI:SS'), '')
		FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
		WHERE l.locktype = 'advisory' AND l.granted AND l.classid = $1 AND l.objid = $2 LIMIT 1`,
		uint32(sinks.ImportLockKey>>32), uint32(sinks.ImportLockKey&0xffffffff)).Scan(&pid, &app, &client, &since)
	if err != nil {
		return ""
	}
	holder := fmt.Sprintf("server process %d from %s, connected since %s", pid, client, since)
	if app != "" {
		holder += " (" + app + ")"
	}
	return holder
}

type pgTx struct {
	tx pgx.Tx
}

// Waited is false: PostgreSQL cannot tell cheaply whether others wrote.
func (t *pgTx) Waited() bool { return false }

func (t *pgTx) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	tag, err := t.tx.Exec(ctx, DollarPlaceholders(query), args...)
	if err != nil {
		return 0, err
	}
	return tag.RowsAffected(), nil
}

func (t *pgTx) Query(ctx context.Context, query string, args ...any) (live.Rows, error) {
	rows, err := t.tx.Query(ctx, DollarPlaceholders(query), args...)
	if err != nil {
		return nil, err
	}
	return pgRows{rows}, nil
}

type pgRows struct{ pgx.Rows }

func (r pgRows) Close() error { r.Rows.Close(); return nil }

// Columns names the result's columns, as database/sql's Rows does.
func (r pgRows) Columns() ([]string, error) {
	var names []string
	for _, f := range r.FieldDescriptions() {
		names = append(names, f.Name)
	}
	return names, nil
}

// CopyFrom streams the rows through COPY. A failing row source makes pgx send CopyFail,
// so the server discards the whole COPY.
func (t *pgTx) CopyFrom(ctx context.Context, table string, columns []string, rows sinks.RowSource) (int64, error) {
	n, err := t.tx.CopyFrom(ctx, pgx.Identifier{table}, columns, rows)
	if err != nil {
		// The server only reports "COPY from stdin failed"; the cause is the source's.
		if srcErr := rows.Err(); srcErr != nil {
			return n, fmt.Errorf("copy into %s: %w", table, srcErr)
		}
		return n, fmt.Errorf("copy into %s: %w", table, err)
	}
	return n, nil
}

func (t *pgTx) Commit(ctx context.Context) error {
	if err := t.tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

func (t *pgTx) Rollback(ctx context.Context) error {
	err := t.tx.Rollback(context.WithoutCancel(ctx))
	if errors.Is(err, pgx.ErrTxClosed) {
		return nil
	}
	return err
}
