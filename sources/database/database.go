package database

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/mlflow-bulk/mlflow-bulk/drivers"
	"github.com/mlflow-bulk/mlflow-bulk/schema/live"
	"github.com/mlflow-bulk/mlflow-bulk/sources"

	"github.com/mlflow-bulk/mlflow-bulk/internal/dburi"
	"github.com/mlflow-bulk/mlflow-bulk/schema"
)

// The MLflow database reader: SQLite files and PostgreSQL or MySQL/MariaDB servers at
// any revision of MLflow's chain, opened read-only, streamed a page of runs at a time.

// runsPerPage bounds how many runs (with their params, tags and inputs) are in memory.
const runsPerPage = 256

// Detect reports whether location names an MLflow database: a URI with a database
// scheme, or a file a registered database keeps (its descriptor's FileMagic).
func Detect(location string) bool {
	if dburi.IsKeywordValue(location) {
		return true
	}
	if scheme, _, ok := strings.Cut(location, "://"); ok {
		_, known := schema.DatabaseFor(scheme)
		return known
	}
	f, err := os.Open(location)
	if err != nil {
		return false
	}
	defer f.Close()
	head := make([]byte, 64)
	n, _ := io.ReadFull(f, head)
	for _, db := range schema.Databases() {
		if len(db.FileMagic) > 0 && bytes.HasPrefix(head[:n], db.FileMagic) {
			return true
		}
	}
	return false
}

// Options are the database reader's.
type Options struct {
	sources.Options
	// Password overrides the password of the URI (--password-file).
	Password string
	// Drivers open the database to read; the command passes the set it built.
	Drivers *drivers.Registry
	// Name, when set, names the source in messages and reports instead of its URI: a
	// dump file loaded into a scratch database is the dump to the user.
	Name string
}

// Open opens an MLflow database read-only, through the driver of its database
// (opts.Drivers): SQLite without a file beside it changing, servers in read-only
// sessions.
func Open(ctx context.Context, location string, opts Options) (sources.Source, error) {
	u, err := dburi.Parse(location)
	if err != nil {
		return nil, err
	}
	if opts.Drivers == nil {
		return nil, fmt.Errorf("%s: reading an MLflow database needs the database drivers (database.Options.Drivers)", u.Redacted())
	}
	reader, err := opts.Drivers.OpenReader(ctx, location, opts.Password)
	if err != nil {
		return nil, err
	}
	src, err := openDatabase(ctx, u, reader, opts)
	// Drivers repeat the URI in their errors, query-string passwords included.
	return src, u.RedactError(err)
}

func openDatabase(ctx context.Context, u *dburi.URI, reader *drivers.Reader, opts Options) (sources.Source, error) {
	reader.DB.SetMaxOpenConns(1)
	s := &dbSource{reader: reader, db: reader.DB, dialect: reader.Dialect, chunk: opts.PointsPerRecord(), where: u.Redacted()}
	describe := "MLflow database " + u.Redacted()
	if opts.Name != "" {
		s.where, describe = opts.Name, opts.Name
	}
	if err := s.connect(ctx); err != nil {
		_ = reader.Close()
		return nil, err
	}
	s.Start(ctx, describe, s.read)
	return s, nil
}

type dbSource struct {
	sources.Producer
	db      *sql.DB
	conn    *sql.Conn
	dialect schema.Dialect
	rev     *schema.Revision
	chunk   int
	where   string
	// tables is the source's schema as read at open; unknownRev the revision id when
	// mlflow-bulk does not know it and reads it as the newest it knows.
	tables     map[string]*schema.TableInfo
	unknownRev string
	// reader is the driver's connection, closed (and a private copy removed) at Close.
	reader *drivers.Reader
}

func (s *dbSource) connect(ctx context.Context) error {
	conn, err := s.db.Conn(ctx)
	if err == nil {
		err = conn.PingContext(ctx)
	}
	if err != nil {
		var pgErr interface{ SQLState() string }
		if errors.As(err, &pgErr) {
			return fmt.Errorf("connect to %s: %v", s.where, err) //nolint:errorlint // the server's refusal is the message; callers must not take it for a failed statement
		}
		return fmt.Errorf("connect to %s: %w", s.where, err)
	}
	s.conn = conn
	if s.reader.Prepare != nil {
		if err := s.reader.Prepare(ctx, conn); err != nil {
			return err
		}
	}
	rev, err := live.Detect(ctx, connDB{conn, s.dialect}, s.dialect)
	var unknown *schema.UnknownRevisionError
	if errors.As(err, &unknown) {
		// A newer MLflow's database (or a branch's) is read by what it has: the tables
		// mlflow-bulk has rules for as the newest revision it knows, the others as rows.
		rev, err, s.unknownRev = schema.Newest(), nil, unknown.ID
	}
	switch {
	case err != nil:
		return fmt.Errorf("%s: %w", s.where, err)
	case rev == nil:
		return fmt.Errorf("%s: the database is empty: %w", s.where, sources.ErrNotRecognised)
	}
	s.rev = rev
	if s.tables, err = live.Inspect(ctx, connDB{conn, s.dialect}, s.dialect); err != nil {
		return fmt.Errorf("%s: %w", s.where, err)
	}
	return nil
}

// SchemaRevision is the revision the source's alembic_version row names, known to
// mlflow-bulk or not.
func (s *dbSource) SchemaRevision() string {
	if s.unknownRev != "" {
		return s.unknownRev
	}
	return s.rev.ID
}

func (s *dbSource) Close() error {
	err := s.Producer.Close()
	s.conn.Close()
	_ = s.reader.Close()
	return err
}

// connDB lets schema query through the source's connection.
type connDB struct {
	conn    *sql.Conn
	dialect schema.Dialect
}

func (c connDB) query(query string) string { return c.dialect.Database().Query(query) }

func (c connDB) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	return 0, errors.New("the source is read-only")
}

func (c connDB) Query(ctx context.Context, query string, args ...any) (live.Rows, error) {
	return c.conn.QueryContext(ctx, c.query(query), args...) //nolint:rowserrcheck,sqlclosecheck // the caller reads, checks and closes them
}

func (s *dbSource) q(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	rows, err := s.conn.QueryContext(ctx, connDB{s.conn, s.dialect}.query(query), args...) //nolint:rowserrcheck,sqlclosecheck // callers scan them with live.ScanRows
	if err != nil {
		return nil, s.readError(ctx, err)
	}
	return rows, nil
}

// readError names the source in a read error; a read cut short by a cancel is the
// cancel (drivers report a closed connection instead).
func (s *dbSource) readError(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return sources.CheckContext(ctx)
	}
	return fmt.Errorf("read %s: %w", s.where, err)
}

// each runs a query and calls fn for every row. A read that fails half-way (a dropped
// connection, a table gone) is an error, never a short stream.
func (s *dbSource) each(ctx context.Context, query string, args []any, fn func(scan func(...any) error) error) error {
	rows, err := s.q(ctx, query, args...) //nolint:rowserrcheck // live.ScanRows checks them
	if err != nil {
		return err
	}
	if err := live.ScanRows(rows, fn); err != nil {
		if ctx.Err() != nil {
			return sources.CheckContext(ctx)
		}
		return s.readError(ctx, err)
	}
	return nil
}

func (s *dbSource) origin(table string) sources.Origin {
	return sources.Origin{File: s.where + " table " + table}
}

func (s *dbSource) read(ctx context.Context) error {
	notice := "MLflow database at alembic revision " + s.rev.String()
	if s.unknownRev != "" {
		notice = fmt.Sprintf("MLflow database at alembic revision %s, unknown to mlflow-bulk (a newer MLflow, or a branch): read as %s, its other tables copied as they are", s.unknownRev, s.rev)
		if required, others := schema.UnknownColumns(s.rev, s.dialect, s.tables, false); len(required)+len(others) > 0 {
			notice += "; columns mlflow-bulk does not know, not read: " + strings.Join(append(required, others...), ", ")
		}
	}
	if err := s.Emit(ctx, &sources.Notice{Path: s.where, Message: notice}); err != nil {
		return err
	}
	if s.reader.Notice != "" {
		if err := s.Emit(ctx, &sources.Notice{Path: s.where, Message: s.reader.Notice}); err != nil {
			return err
		}
	}
	if err := s.readExperiments(ctx); err != nil {
		return err
	}
	if s.rev.HasTable("datasets") {
		if err := s.readDatasets(ctx); err != nil {
			return err
		}
	}
	if err := s.readRuns(ctx); err != nil {
		return err
	}
	if s.rev.HasTable("logged_models") {
		if err := s.readLoggedModels(ctx); err != nil {
			return err
		}
	}
	if s.rev.HasTable("registered_models") {
		if err := s.readRegistry(ctx); err != nil {
			return err
		}
	}
	if err := s.readTraces(ctx); err != nil {
		return err
	}
	return s.readOtherTables(ctx)
}

func nullable(v sql.NullInt64) *int64 {
	if !v.Valid {
		return nil
	}
	x := v.Int64
	return &x
}

func (s *dbSource) readExperiments(ctx context.Context) error {
	tags := map[int64][]sources.Tag{}
	if s.rev.HasTable("experiment_tags") {
		err := s.each(ctx, `SELECT experiment_id, "key", value FROM experiment_tags ORDER BY experiment_id, "key"`, nil, func(scan func(...any) error) error {
			var id int64
			var k string
			var v sql.NullString
			if err := scan(&id, &k, &v); err != nil {
				return err
			}
			tags[id] = append(tags[id], sources.Tag{Key: k, Value: v.String})
			return nil
		})
		if err != nil {
			return err
		}
	}
	times := "NULL, NULL"
	if s.rev.HasColumn("experiments", "creation_time") {
		times = "creation_time, last_update_time"
	}
	workspace := "NULL"
	if s.rev.HasColumn("experiments", "workspace") {
		workspace = "workspace"
	}
	var exps []*sources.Experiment
	err := s.each(ctx, "SELECT experiment_id, name, artifact_location, lifecycle_stage, "+times+", "+workspace+" FROM experiments ORDER BY experiment_id", nil, func(scan func(...any) error) error {
		var id int64
		var name string
		var loc, stage, ws sql.NullString
		var created, updated sql.NullInt64
		if err := scan(&id, &name, &loc, &stage, &created, &updated, &ws); err != nil {
			return err
		}
		lifecycle := sources.Lifecycle(stage.String)
		if lifecycle == "" {
			lifecycle = sources.LifecycleActive
		}
		exps = append(exps, &sources.Experiment{SourceID: fmt.Sprint(id), Name: name, ArtifactLocation: loc.String, LifecycleStage: lifecycle,
			CreationTime: nullable(created), LastUpdateTime: nullable(updated), Tags: tags[id], Workspace: ws.String, Origin: s.origin("experiments")})
		return nil
	})
	if err != nil {
		return err
	}
	for _, e := range exps {
		if err := s.Emit(ctx, e); err != nil {
			return err
		}
	}
	return nil
}

func (s *dbSource) readDatasets(ctx context.Context) error {
	return s.each(ctx, "SELECT dataset_uuid, experiment_id, name, digest, dataset_source_type, dataset_source, dataset_schema, dataset_profile FROM datasets ORDER BY experiment_id, name, digest", nil,
		func(scan func(...any) error) error {
			var d sources.Dataset
			var expID int64
			var dsSchema, profile sql.NullString
			if err := scan(&d.UUID, &expID, &d.Name, &d.Digest, &d.SourceType, &d.Source, &dsSchema, &profile); err != nil {
				return err
			}
			d.ExperimentSourceID, d.Key, d.Origin = fmt.Sprint(expID), d.UUID, s.origin("datasets")
			d.Schema, d.Profile = nullString(dsSchema), nullString(profile)
			return s.Emit(ctx, &d)
		})
}

// CountRuns counts the runs table. It runs on a connection of its own, since the
// source's own is busy streaming.
func (s *dbSource) CountRuns(ctx context.Context) (int64, error) {
	s.db.SetMaxOpenConns(2)
	var n int64
	err := s.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM runs").Scan(&n)
	return n, err
}
