package mysql

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/go-sql-driver/mysql"
	"github.com/mlflow-bulk/mlflow-bulk/internal/dburi"
	"github.com/mlflow-bulk/mlflow-bulk/schema"
	"github.com/mlflow-bulk/mlflow-bulk/schema/live"
	"github.com/mlflow-bulk/mlflow-bulk/sinks"
)

// sessionSQLMode is added to the server's sql_mode for mlflow-bulk's session:
//   - STRICT_ALL_TABLES: an over-long value is an error, never a silent cut;
//   - NO_AUTO_VALUE_ON_ZERO: experiment 0 (Default) keeps id 0, as MLflow does;
//   - ANSI_QUOTES, PIPES_AS_CONCAT: identifiers such as "key" and || mean what they
//     mean on PostgreSQL and SQLite, so the importer's SQL is the same everywhere.
const sessionSQLMode = "STRICT_ALL_TABLES,NO_AUTO_VALUE_ON_ZERO,ANSI_QUOTES,PIPES_AS_CONCAT"

// openSink connects to a MySQL or MariaDB MLflow database. It accepts MLflow's URI forms
// (mysql://, mysql+pymysql://, mysql+mysqldb://, mariadb://) with ?charset=. The option
// x-local-infile=false makes it use INSERTs even where the server allows LOAD DATA LOCAL.
func openSink(ctx context.Context, uri *dburi.URI, opts sinks.Options) (sinks.Sink, error) {
	cfg, tool, err := config(uri)
	if err != nil {
		return nil, err
	}
	if opts.Password != "" {
		cfg.Passwd = opts.Password
	}
	useLoadData := tool["x-local-infile"] != "false"
	connector, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", uri.Redacted(), err)
	}
	db := sql.OpenDB(connector)
	db.SetMaxOpenConns(1)
	// One pinned connection: the session settings below must hold for every statement.
	conn, err := db.Conn(ctx)
	if err == nil {
		err = conn.PingContext(ctx)
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to %s: %s%s", uri.Redacted(), describeMySQLError(err), missingDatabaseHint(err, cfg.DBName, opts.ReadOnly))
	}
	s := &mysqlSink{uri: uri, db: db, conn: conn, opts: opts, lockName: "mlflow-bulk:" + cfg.DBName}
	if _, err := conn.ExecContext(ctx, "SET SESSION sql_mode = CONCAT_WS(',', NULLIF(@@sql_mode, ''), '"+sessionSQLMode+"')"); err != nil {
		s.Close()
		return nil, fmt.Errorf("%s: set session sql_mode: %w", uri.Redacted(), err)
	}
	if !opts.ReadOnly && !opts.LockPerTransaction {
		if err := s.lock(ctx); err != nil {
			s.Close()
			return nil, err
		}
	}
	var localInfile int64
	var maxPacket int64
	if err := conn.QueryRowContext(ctx, "SELECT @@local_infile, @@max_allowed_packet").Scan(&localInfile, &maxPacket); err != nil {
		s.Close()
		return nil, fmt.Errorf("%s: read server settings: %w", uri.Redacted(), err)
	}
	s.maxPacket = int(maxPacket)
	switch {
	case !useLoadData:
		s.notices = append(s.notices, "x-local-infile=false: rows are written with multi-row INSERTs")
	case localInfile == 0:
		s.notices = append(s.notices, "the server has local_infile off, so rows are written with multi-row INSERTs instead of LOAD DATA LOCAL INFILE (slower); SET GLOBAL local_infile = 1 to allow it")
	default:
		s.loadData = true
	}
	return s, nil
}

// missingDatabaseHint says how to create a target database that does not exist (error
// 1049): an import does not create one, as MLflow's server does not.
func missingDatabaseHint(err error, name string, readOnly bool) string {
	var myErr *mysql.MySQLError
	if readOnly || !errors.As(err, &myErr) || myErr.Number != 1049 {
		return ""
	}
	return fmt.Sprintf("\nCreate it first, then run again: in the mariadb or mysql client, CREATE DATABASE %s CHARACTER SET utf8mb4;", "`"+strings.ReplaceAll(name, "`", "``")+"`")
}

func describeMySQLError(err error) string {
	var myErr *mysql.MySQLError
	if errors.As(err, &myErr) {
		return myErr.Message
	}
	return err.Error()
}

type mysqlSink struct {
	uri       *dburi.URI
	opts      sinks.Options
	lockName  string
	db        *sql.DB
	conn      *sql.Conn
	open      *mysqlTx // the transaction in progress, rolled back by Close
	loadData  bool
	maxPacket int
	notices   []string
}

func (s *mysqlSink) Dialect() schema.Dialect { return schema.MySQL }
func (s *mysqlSink) Describe() string        { return s.uri.Redacted() }
func (s *mysqlSink) Notices() []string       { return s.notices }

// Close rolls back a transaction still open (database/sql would otherwise wait for it
// forever) and closes the connection.
func (s *mysqlSink) Close() error {
	var errTx error
	if s.open != nil {
		errTx = s.open.Rollback(context.Background())
	}
	errConn := s.conn.Close()
	return errors.Join(errTx, errConn, s.db.Close())
}

func (s *mysqlSink) Begin(ctx context.Context) (sinks.Tx, error) {
	t := &mysqlTx{sink: s}
	if s.opts.LockPerTransaction && !s.opts.ReadOnly {
		// Named locks belong to the session: taken here, released when the
		// transaction ends.
		if err := s.lock(ctx); err != nil {
			return nil, err
		}
		t.locked = true
	}
	tx, err := s.conn.BeginTx(ctx, &sql.TxOptions{ReadOnly: s.opts.ReadOnly})
	if err != nil {
		return nil, errors.Join(fmt.Errorf("begin transaction on %s: %w", s.Describe(), err), t.release())
	}
	t.tx = tx
	s.open = t
	return s.open, nil
}

// lock takes the import lock, a named lock of the session: closing the connection
// releases it.
func (s *mysqlSink) lock(ctx context.Context) error {
	var got sql.NullInt64
	if err := s.conn.QueryRowContext(ctx, "SELECT GET_LOCK(?, 0)", s.lockName).Scan(&got); err != nil {
		return fmt.Errorf("take the import lock: %w", err)
	}
	if got.Int64 != 1 {
		var holder sql.NullInt64
		if err := s.conn.QueryRowContext(ctx, "SELECT IS_USED_LOCK(?)", s.lockName).Scan(&holder); err == nil && holder.Valid {
			s.opts.NotifyLockWait(fmt.Sprintf("connection %d", holder.Int64))
		} else {
			s.opts.NotifyLockWait("")
		}
		// GET_LOCK counts whole seconds: round up, never down to "do not wait".
		secs := int64(math.Ceil(s.opts.LockWaitLimit().Seconds()))
		if err := s.conn.QueryRowContext(ctx, "SELECT GET_LOCK(?, ?)", s.lockName, secs).Scan(&got); err != nil {
			return fmt.Errorf("take the import lock: %w", err)
		}
		if got.Int64 != 1 {
			return fmt.Errorf("%s: %w", s.Describe(), sinks.Locked(s.opts.LockWaitLimit()))
		}
	}
	return nil
}

type mysqlTx struct {
	sink   *mysqlSink
	tx     *sql.Tx
	done   bool
	locked bool // holds the per-transaction import lock
}

// release gives up the per-transaction import lock; an error leaves it held until the
// connection closes, which the caller reports.
func (t *mysqlTx) release() error {
	if !t.locked {
		return nil
	}
	t.locked = false
	if _, err := t.sink.conn.ExecContext(context.Background(), "DO RELEASE_LOCK(?)", t.sink.lockName); err != nil {
		return fmt.Errorf("release the import lock: %w", err)
	}
	return nil
}

// Waited is false: MySQL cannot tell cheaply whether others wrote.
func (t *mysqlTx) Waited() bool { return false }

func (t *mysqlTx) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	res, err := t.tx.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, t.sink.connectionLost(err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

func (t *mysqlTx) Query(ctx context.Context, query string, args ...any) (live.Rows, error) {
	rows, err := t.tx.QueryContext(ctx, query, args...) //nolint:rowserrcheck,sqlclosecheck // the caller reads, checks and closes them
	if err != nil {
		return nil, t.sink.connectionLost(err)
	}
	return rows, nil
}

func (t *mysqlTx) Commit(ctx context.Context) error {
	err := t.tx.Commit()
	errLock := t.release()
	if err != nil {
		return fmt.Errorf("commit: %w", t.sink.connectionLost(err))
	}
	t.done = true
	return errLock
}

func (t *mysqlTx) Rollback(ctx context.Context) error {
	if t.done {
		return nil
	}
	t.done = true
	err := t.tx.Rollback()
	errLock := t.release()
	if errors.Is(err, sql.ErrTxDone) {
		err = nil
	}
	return errors.Join(err, errLock)
}

func quoteColumns(columns []string) string {
	quoted := make([]string, len(columns))
	for i, c := range columns {
		quoted[i] = "`" + c + "`"
	}
	return strings.Join(quoted, ", ")
}

func (t *mysqlTx) CopyFrom(ctx context.Context, table string, columns []string, rows sinks.RowSource) (int64, error) {
	if t.sink.loadData {
		return t.loadData(ctx, table, columns, rows)
	}
	return t.insertRows(ctx, table, columns, rows)
}

var readerHandlerSeq atomic.Int64

// loadData streams the rows as tab-separated text through LOAD DATA LOCAL INFILE,
// from memory: a goroutine encodes rows into a pipe the driver reads.
func (t *mysqlTx) loadData(ctx context.Context, table string, columns []string, rows sinks.RowSource) (int64, error) {
	name := fmt.Sprintf("mlflow-bulk-%d", readerHandlerSeq.Add(1))
	pr, pw := io.Pipe()
	mysql.RegisterReaderHandler(name, func() io.Reader { return pr })
	defer mysql.DeregisterReaderHandler(name)
	var sent int64
	encodeErr := make(chan error, 1)
	go func() {
		w := bufio.NewWriterSize(pw, 64*1024)
		var buf []byte
		err := func() error {
			for rows.Next() {
				values, err := rows.Values()
				if err != nil {
					return err
				}
				buf = buf[:0]
				for i, v := range values {
					if i > 0 {
						buf = append(buf, '\t')
					}
					if buf, err = appendTSV(buf, v); err != nil {
						return fmt.Errorf("column %s: %w", columns[i], err)
					}
				}
				buf = append(buf, '\n')
				if _, err := w.Write(buf); err != nil {
					return err
				}
				sent++
			}
			if err := rows.Err(); err != nil {
				return err
			}
			return w.Flush()
		}()
		encodeErr <- err
		pw.CloseWithError(err)
	}()
	query := fmt.Sprintf("LOAD DATA LOCAL INFILE 'Reader::%s' INTO TABLE `%s` CHARACTER SET utf8mb4 "+
		"FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n' (%s)", name, table, quoteColumns(columns))
	res, execErr := t.tx.ExecContext(ctx, query)
	// Unblock the encoder if the server stopped reading early.
	pr.CloseWithError(io.ErrClosedPipe)
	if err := <-encodeErr; err != nil && !errors.Is(err, io.ErrClosedPipe) {
		return 0, fmt.Errorf("load into %s: %w", table, err)
	}
	if execErr != nil {
		return 0, fmt.Errorf("load into %s: %w", table, execErr)
	}
	loaded, _ := res.RowsAffected()
	// With LOCAL, the server turns duplicate keys and bad values into warnings and goes
	// on; a row count short of what was sent is such a silent loss: fail instead.
	if loaded != sent {
		return loaded, fmt.Errorf("load into %s: the server stored %d of %d rows (%s)", table, loaded, sent, t.firstWarning(ctx))
	}
	return loaded, nil
}

func (t *mysqlTx) firstWarning(ctx context.Context) string {
	var level, msg string
	var code int
	if err := t.tx.QueryRowContext(ctx, "SHOW WARNINGS LIMIT 1").Scan(&level, &code, &msg); err != nil {
		return "no warning given"
	}
	return msg
}

// appendTSV encodes one value for LOAD DATA: \N is NULL; backslash, tab and newline
// are escaped; floats in their shortest exact form.
func appendTSV(buf []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(buf, '\\', 'N'), nil
	case string:
		for i := 0; i < len(x); i++ {
			switch c := x[i]; c {
			case '\\':
				buf = append(buf, '\\', '\\')
			case '\t':
				buf = append(buf, '\\', 't')
			case '\n':
				buf = append(buf, '\\', 'n')
			case '\r':
				buf = append(buf, '\\', 'r')
			case 0:
				buf = append(buf, '\\', '0')
			default:
				buf = append(buf, c)
			}
		}
		return buf, nil
	case int64:
		return strconv.AppendInt(buf, x, 10), nil
	case int:
		return strconv.AppendInt(buf, int64(x), 10), nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return buf, fmt.Errorf("%v cannot be stored; sanitise it first", x)
		}
		return strconv.AppendFloat(buf, x, 'g', -1, 64), nil
	case bool:
		if x {
			return append(buf, '1'), nil
		}
		return append(buf, '0'), nil
	}
	return buf, fmt.Errorf("unsupported value type %T", v)
}

// insertRows is the path without LOAD DATA: multi-row INSERTs, each below the server's
// max_allowed_packet and MySQL's 65,535 placeholders.
func (t *mysqlTx) insertRows(ctx context.Context, table string, columns []string, rows sinks.RowSource) (int64, error) {
	budget := min(t.sink.maxPacket/2, 8<<20)
	maxRows := 65535 / len(columns)
	prefix := fmt.Sprintf("INSERT INTO `%s` (%s) VALUES ", table, quoteColumns(columns))
	rowPlaceholder := "(" + strings.TrimSuffix(strings.Repeat("?,", len(columns)), ",") + ")"
	var args []any
	var total int64
	size, n := len(prefix), 0
	flush := func() error {
		if n == 0 {
			return nil
		}
		query := prefix + strings.TrimSuffix(strings.Repeat(rowPlaceholder+",", n), ",")
		res, err := t.tx.ExecContext(ctx, query, args...)
		if err != nil {
			return fmt.Errorf("insert into %s: %w", table, err)
		}
		affected, _ := res.RowsAffected()
		total += affected
		args, size, n = args[:0], len(prefix), 0
		return nil
	}
	for rows.Next() {
		values, err := rows.Values()
		if err != nil {
			return total, err
		}
		rowSize := len(rowPlaceholder)
		for _, v := range values {
			if s, ok := v.(string); ok {
				rowSize += 2*len(s) + 3 // worst case: every byte escaped, quotes
			} else {
				rowSize += 24
			}
		}
		if n > 0 && (size+rowSize > budget || n >= maxRows) {
			if err := flush(); err != nil {
				return total, err
			}
		}
		args = append(args, values...)
		size += rowSize
		n++
	}
	if err := rows.Err(); err != nil {
		return total, err
	}
	return total, flush()
}
