package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/mlflow-bulk/mlflow-bulk/internal/dburi"
	"github.com/mlflow-bulk/mlflow-bulk/schema"
	"github.com/mlflow-bulk/mlflow-bulk/schema/live"
	"github.com/mlflow-bulk/mlflow-bulk/sinks"
	"modernc.org/sqlite" // registers the "sqlite" database/sql driver (pure Go, no cgo)
	sqlite3 "modernc.org/sqlite/lib"
)

// sqliteMaxVariables is SQLite's limit on bound parameters in one statement (since 3.32).
const sqliteMaxVariables = 32766

// sqliteRowsPerInsert bounds multi-row INSERTs: larger statements stop paying off.
const sqliteRowsPerInsert = 500

// openSink opens (creating if needed) an SQLite MLflow database file. MLflow runs
// every session with foreign keys on, so this sink does too.
func openSink(ctx context.Context, uri *dburi.URI, opts sinks.Options) (sinks.Sink, error) {
	var err error
	dir := filepath.Dir(uri.Path)
	if info, err := os.Stat(dir); err != nil || !info.IsDir() {
		return nil, fmt.Errorf("%s: folder %s does not exist; create it first", uri.Raw, dir)
	}
	// busy_timeout is SQLite's wait for the single writer's lock: the import lock.
	// threads lets SQLite's sorter use the other cores: building metrics' keys after a
	// bulk load (CREATE INDEX sorts) takes about a sixth less time with a second core.
	foreignKeys := 1
	if opts.Unchecked {
		foreignKeys = 0
	}
	dsn := "file:" + (&url.URL{Path: uri.Path}).EscapedPath() +
		fmt.Sprintf("?_pragma=foreign_keys(%d)&_pragma=busy_timeout(%d)&_pragma=threads(%d)", foreignKeys, opts.LockWaitLimit().Milliseconds(), sorterThreads())
	if opts.ReadOnly {
		// Reading never creates a file.
		if _, err := os.Stat(uri.Path); errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s: %w: there is no database to read (an import creates it)", uri.Raw, err)
		}
		// query_only refuses writes; mode=ro would also refuse rolling back the journal
		// a crashed import left behind, which SQLite must do before anyone reads.
		dsn += "&_pragma=query_only(1)"
	}
	var lock *os.File
	// Per transaction, SQLite's own single writer (BEGIN IMMEDIATE) is the lock.
	if !opts.ReadOnly && !opts.LockPerTransaction {
		if lock, err = lockFile(ctx, uri.Path, opts.LockWaitLimit(), opts.NotifyLockWait); err != nil {
			return nil, fmt.Errorf("%s: %w", uri.Raw, err)
		}
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		unlockFile(lock)
		return nil, fmt.Errorf("open %s: %w", uri.Raw, err)
	}
	// One connection: SQLite has a single writer, and per-connection pragmas must hold.
	db.SetMaxOpenConns(1)
	conn, err := db.Conn(ctx)
	if err != nil {
		db.Close()
		unlockFile(lock)
		return nil, fmt.Errorf("open %s: %w", uri.Raw, err)
	}
	if err := conn.PingContext(ctx); err != nil {
		conn.Close()
		db.Close()
		unlockFile(lock)
		return nil, fmt.Errorf("open %s: %w", uri.Raw, err)
	}
	// mlflow-bulk never attaches another database: with the limit at zero, no statement
	// (such as one built from a hostile SQL dump into a scratch copy) can reach a file
	// other than this one.
	if _, err := sqlite.Limit(conn, sqlite3.SQLITE_LIMIT_ATTACHED, 0); err != nil {
		conn.Close()
		db.Close()
		unlockFile(lock)
		return nil, fmt.Errorf("open %s: %w", uri.Raw, err)
	}
	return &sqliteSink{uri: uri, db: db, conn: conn, opts: opts, lock: lock}, nil
}

// sorterThreads is the number of helper threads SQLite's sorter may start: one per
// core beyond the first, at most four.
func sorterThreads() int { return min(max(runtime.NumCPU()-1, 0), 4) }

type sqliteSink struct {
	uri  *dburi.URI
	opts sinks.Options
	lock *os.File // the import lock, a flock on the database file
	// dataVersion is SQLite's counter of commits by other connections, as last seen.
	dataVersion int64
	db          *sql.DB
	conn        *sql.Conn
	open        *sqliteTx // the transaction in progress, rolled back by Close
}

func (s *sqliteSink) Dialect() schema.Dialect { return schema.SQLite }
func (s *sqliteSink) Describe() string        { return "sqlite:///" + filepath.ToSlash(s.uri.Path) }

// Close rolls back a transaction still open, so the write lock is never left behind.
func (s *sqliteSink) Close() error {
	var errTx error
	if s.open != nil {
		errTx = s.open.Rollback(context.Background())
	}
	errConn := s.conn.Close()
	errDB := s.db.Close()
	unlockFile(s.lock)
	return errors.Join(errTx, errConn, errDB)
}

// Begin takes SQLite's write lock at once (BEGIN IMMEDIATE), so a concurrent writer
// waits here for busy_timeout instead of failing halfway through an import.
func (s *sqliteSink) Begin(ctx context.Context) (sinks.Tx, error) {
	begin := "BEGIN IMMEDIATE"
	if s.opts.ReadOnly {
		begin = "BEGIN"
	}
	if _, err := s.conn.ExecContext(ctx, begin); err != nil {
		if busy(err) {
			return nil, fmt.Errorf("%s: %w", s.Describe(), sinks.Locked(s.opts.LockWaitLimit()))
		}
		return nil, fmt.Errorf("begin transaction on %s: %w", s.Describe(), err)
	}
	t := &sqliteTx{path: s.uri.Path, conn: s.conn, stmts: map[string]*sql.Stmt{}}
	// data_version changes when another connection commits: then what this sink read
	// before may be stale.
	var v int64
	if err := s.conn.QueryRowContext(ctx, "PRAGMA data_version").Scan(&v); err != nil {
		return nil, errors.Join(fmt.Errorf("begin transaction on %s: %w", s.Describe(), err), t.Rollback(context.WithoutCancel(ctx)))
	}
	t.waited = s.dataVersion != 0 && v != s.dataVersion
	s.dataVersion = v
	s.open = t
	return s.open, nil
}

type sqliteTx struct {
	path   string // the database file, for messages
	conn   *sql.Conn
	stmts  map[string]*sql.Stmt
	done   bool
	waited bool
}

func (t *sqliteTx) Waited() bool { return t.waited }

func (t *sqliteTx) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	res, err := t.conn.ExecContext(ctx, query, sqliteArgs(args)...)
	if err != nil {
		return 0, diskFull(err, t.path)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

func (t *sqliteTx) Query(ctx context.Context, query string, args ...any) (live.Rows, error) {
	return t.conn.QueryContext(ctx, query, sqliteArgs(args)...) //nolint:rowserrcheck,sqlclosecheck // the caller reads, checks and closes them
}

// sqliteArgs stores booleans as 0/1, as MLflow's SQLite databases hold them.
func sqliteArgs(args []any) []any {
	for i, a := range args {
		if b, ok := a.(bool); ok {
			if b {
				args[i] = int64(1)
			} else {
				args[i] = int64(0)
			}
		}
	}
	return args
}

func (t *sqliteTx) CopyFrom(ctx context.Context, table string, columns []string, rows sinks.RowSource) (int64, error) {
	perStmt := min(sqliteRowsPerInsert, sqliteMaxVariables/len(columns))
	args := make([]any, 0, perStmt*len(columns))
	var total int64
	flush := func() error {
		if len(args) == 0 {
			return nil
		}
		stmt, err := t.insertStmt(ctx, table, columns, len(args)/len(columns)) //nolint:sqlclosecheck // cached; closeStmts closes it at the transaction's end
		if err != nil {
			return err
		}
		res, err := stmt.ExecContext(ctx, sqliteArgs(args)...)
		if err != nil {
			return fmt.Errorf("insert into %s: %w", table, err)
		}
		// What SQLite stored: a trigger's RAISE(IGNORE) drops a row without an error.
		stored, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("insert into %s: %w", table, err)
		}
		total += stored
		args = args[:0]
		return nil
	}
	for rows.Next() {
		values, err := rows.Values()
		if err != nil {
			return total, err
		}
		args = append(args, values...)
		if len(args) == cap(args) {
			if err := flush(); err != nil {
				return total, err
			}
		}
	}
	if err := rows.Err(); err != nil {
		return total, err
	}
	return total, flush()
}

// insertStmt returns a prepared multi-row INSERT, cached per shape for the transaction.
func (t *sqliteTx) insertStmt(ctx context.Context, table string, columns []string, nrows int) (*sql.Stmt, error) {
	key := fmt.Sprintf("%s|%s|%d", table, strings.Join(columns, ","), nrows)
	if stmt, ok := t.stmts[key]; ok {
		return stmt, nil
	}
	row := "(" + strings.TrimSuffix(strings.Repeat("?,", len(columns)), ",") + ")"
	query := fmt.Sprintf("INSERT INTO %s (%s) VALUES %s", table, strings.Join(columns, ", "),
		strings.TrimSuffix(strings.Repeat(row+",", nrows), ","))
	stmt, err := t.conn.PrepareContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("prepare insert into %s: %w", table, err)
	}
	t.stmts[key] = stmt
	return stmt, nil
}

func (t *sqliteTx) closeStmts() {
	for k, stmt := range t.stmts {
		stmt.Close()
		delete(t.stmts, k)
	}
}

func (t *sqliteTx) Commit(ctx context.Context) error {
	t.closeStmts()
	if _, err := t.conn.ExecContext(ctx, "COMMIT"); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	t.done = true
	return nil
}

func (t *sqliteTx) Rollback(ctx context.Context) error {
	if t.done {
		return nil
	}
	t.closeStmts()
	t.done = true
	// Roll back even when ctx is cancelled: that is exactly when it matters.
	_, err := t.conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
	return err
}
