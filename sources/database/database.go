package database

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"os"
	"strings"

	"github.com/mlflow-bulk/mlflow-bulk/sources"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/mlflow-bulk/mlflow-bulk/internal/dburi"
	"github.com/mlflow-bulk/mlflow-bulk/schema"
)

// The MLflow database reader: SQLite files and PostgreSQL or MySQL/MariaDB servers at
// any revision of MLflow's chain, opened read-only, streamed a page of runs at a time.

// runsPerPage bounds how many runs (with their params, tags and inputs) are in memory.
const runsPerPage = 256

var sqliteMagic = []byte("SQLite format 3\x00")

// Detect reports whether location names an MLflow database: a URI with a database
// scheme, or a file that is an SQLite database.
func Detect(location string) bool {
	if scheme, _, ok := strings.Cut(location, "://"); ok {
		_, known := schema.DatabaseFor(scheme)
		return known
	}
	f, err := os.Open(location)
	if err != nil {
		return false
	}
	defer f.Close()
	head := make([]byte, len(sqliteMagic))
	n, _ := f.Read(head)
	return n == len(head) && bytes.Equal(head, sqliteMagic)
}

// Open opens an MLflow database read-only: SQLite with mode=ro and query_only
// (no journal is ever written), servers in read-only transactions.
func Open(ctx context.Context, location string, opts sources.Options) (sources.Source, error) {
	u, err := dburi.Parse(location)
	if err != nil {
		return nil, err
	}
	src, err := openDatabase(ctx, u, opts)
	// Drivers repeat the URI in their errors, query-string passwords included.
	return src, u.RedactError(err)
}

func openDatabase(ctx context.Context, u *dburi.URI, opts sources.Options) (sources.Source, error) {
	known, ok := schema.DatabaseFor(u.Scheme)
	if !ok {
		return nil, fmt.Errorf("%s: %w", u.Redacted(), sources.ErrNotRecognised)
	}
	dialect := known.Dialect
	var lite sqliteSource
	if dialect == schema.SQLite {
		var err error
		if lite, err = openSQLiteSource(u.Path); err != nil {
			return nil, err
		}
	}
	db, err := openReadOnly(u, dialect, lite.dsn, opts.Password)
	if err != nil {
		lite.cleanup()
		return nil, err
	}
	db.SetMaxOpenConns(1)
	s := &dbSource{db: db, dialect: dialect, chunk: opts.PointsPerRecord(), where: u.Redacted(), allowUnknown: opts.AllowUnknownRevision, sqlite: lite}
	if err := s.connect(ctx); err != nil {
		db.Close()
		lite.cleanup()
		return nil, err
	}
	s.Start(ctx, "MLflow database "+u.Redacted(), s.read)
	return s, nil
}

// openReadOnly opens a database with its driver so that nothing can be written: SQLite
// by the DSN openSQLiteSource chose (read-only, query_only, nothing beside the file),
// PostgreSQL in read-only transactions; MySQL sessions are made read-only in connect.
func openReadOnly(u *dburi.URI, dialect schema.Dialect, sqliteDSN, password string) (*sql.DB, error) {
	switch dialect {
	case schema.SQLite:
		return sql.Open("sqlite", sqliteDSN)
	case schema.Postgres:
		cfg, err := pgx.ParseConfig(u.PostgresURL())
		if err != nil {
			return nil, fmt.Errorf("%s: %w", u.Redacted(), err)
		}
		cfg.RuntimeParams["default_transaction_read_only"] = "on"
		if password != "" {
			cfg.Password = password
		}
		return stdlib.OpenDB(*cfg), nil
	case schema.MySQL:
		cfg, _, err := u.MySQLConfig()
		if err != nil {
			return nil, err
		}
		if password != "" {
			cfg.Passwd = password
		}
		connector, err := mysql.NewConnector(cfg)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", u.Redacted(), err)
		}
		return sql.OpenDB(connector), nil
	}
	return nil, fmt.Errorf("%s: mlflow-bulk has no driver to read %s", u.Redacted(), dialect.Database().Name)
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
	tables       map[string]*schema.TableInfo
	allowUnknown bool
	unknownRev   string
	// sqlite says how an SQLite file is read (a private copy is removed at Close).
	sqlite sqliteSource
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
	if s.dialect == schema.MySQL {
		for _, stmt := range []string{"SET SESSION TRANSACTION READ ONLY", "SET SESSION sql_mode = CONCAT_WS(',', NULLIF(@@sql_mode, ''), 'ANSI_QUOTES')"} {
			if _, err := conn.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("%s: %w", s.where, err)
			}
		}
	}
	rev, err := schema.Detect(ctx, connDB{conn, s.dialect}, s.dialect)
	var unknown *schema.UnknownRevisionError
	if errors.As(err, &unknown) {
		if !s.allowUnknown {
			return fmt.Errorf("%s: the source is at alembic revision %s, which mlflow-bulk does not know (a newer MLflow, or a branch); it knows %s. "+
				"--allow-unknown-revision reads it as %s and copies the tables it has no rules for as they are", s.where, unknown.ID, schema.SupportedReleases(), schema.Newest().ID)
		}
		rev, err, s.unknownRev = schema.Newest(), nil, unknown.ID
	}
	switch {
	case err != nil:
		return fmt.Errorf("%s: %w", s.where, err)
	case rev == nil:
		return fmt.Errorf("%s: the database is empty: %w", s.where, sources.ErrNotRecognised)
	}
	s.rev = rev
	if s.tables, err = schema.Inspect(ctx, connDB{conn, s.dialect}, s.dialect); err != nil {
		return fmt.Errorf("%s: %w", s.where, err)
	}
	return nil
}

func (s *dbSource) Close() error {
	err := s.Producer.Close()
	s.conn.Close()
	s.db.Close()
	s.sqlite.cleanup()
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

func (c connDB) Query(ctx context.Context, query string, args ...any) (schema.Rows, error) {
	return c.conn.QueryContext(ctx, c.query(query), args...) //nolint:rowserrcheck,sqlclosecheck // the caller reads, checks and closes them
}

func (s *dbSource) q(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	rows, err := s.conn.QueryContext(ctx, connDB{s.conn, s.dialect}.query(query), args...) //nolint:rowserrcheck,sqlclosecheck // callers scan them with schema.ScanRows
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
	rows, err := s.q(ctx, query, args...) //nolint:rowserrcheck // schema.ScanRows checks them
	if err != nil {
		return err
	}
	if err := schema.ScanRows(rows, fn); err != nil {
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
		notice = fmt.Sprintf("MLflow database at alembic revision %s, unknown to mlflow-bulk: read as %s, its other tables copied as they are (--allow-unknown-revision)", s.unknownRev, s.rev.ID)
	}
	if err := s.Emit(ctx, &sources.Notice{Path: s.where, Message: notice}); err != nil {
		return err
	}
	if s.sqlite.notice != "" {
		if err := s.Emit(ctx, &sources.Notice{Path: s.where, Message: s.sqlite.notice}); err != nil {
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
	var exps []*sources.Experiment
	err := s.each(ctx, "SELECT experiment_id, name, artifact_location, lifecycle_stage, "+times+" FROM experiments ORDER BY experiment_id", nil, func(scan func(...any) error) error {
		var id int64
		var name string
		var loc, stage sql.NullString
		var created, updated sql.NullInt64
		if err := scan(&id, &name, &loc, &stage, &created, &updated); err != nil {
			return err
		}
		lifecycle := sources.Lifecycle(stage.String)
		if lifecycle == "" {
			lifecycle = sources.LifecycleActive
		}
		exps = append(exps, &sources.Experiment{SourceID: fmt.Sprint(id), Name: name, ArtifactLocation: loc.String, LifecycleStage: lifecycle,
			CreationTime: nullable(created), LastUpdateTime: nullable(updated), Tags: tags[id], Origin: s.origin("experiments")})
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

// readRuns pages through runs by id; each page's params, tags, inputs and latest
// metrics come in one query per table, then each run's history streams in chunks.
func (s *dbSource) readRuns(ctx context.Context) error {
	deleted := "NULL"
	if s.rev.HasColumn("runs", "deleted_time") {
		deleted = "deleted_time"
	}
	after := ""
	for {
		if err := sources.CheckContext(ctx); err != nil {
			return err
		}
		var page []*sources.Run
		byID := map[string]*sources.Run{}
		err := s.each(ctx, "SELECT run_uuid, experiment_id, name, source_type, source_name, entry_point_name, source_version, user_id, status, "+
			"start_time, end_time, "+deleted+", lifecycle_stage, artifact_uri FROM runs WHERE run_uuid > ? ORDER BY run_uuid LIMIT ?", []any{after, runsPerPage},
			func(scan func(...any) error) error {
				r := &sources.Run{Verbatim: true, Origin: s.origin("runs")}
				var expID sql.NullInt64
				var name, st, sn, ep, sv, user, status, stage, art sql.NullString
				var start, end, del sql.NullInt64
				if err := scan(&r.RunID, &expID, &name, &st, &sn, &ep, &sv, &user, &status, &start, &end, &del, &stage, &art); err != nil {
					return err
				}
				r.ExperimentSourceID = fmt.Sprint(expID.Int64)
				r.Name, r.SourceType, r.SourceName, r.EntryPointName = name.String, sources.SourceType(st.String), sn.String, ep.String
				r.SourceVersion, r.UserID, r.Status, r.LifecycleStage, r.ArtifactURI = sv.String, user.String, sources.RunStatus(status.String), sources.Lifecycle(stage.String), art.String
				r.StartTime, r.EndTime, r.DeletedTime = nullable(start), nullable(end), nullable(del)
				page = append(page, r)
				byID[r.RunID] = r
				return nil
			})
		if err != nil {
			return err
		}
		if len(page) == 0 {
			return nil
		}
		after = page[len(page)-1].RunID
		if err := s.readPageChildren(ctx, page, byID); err != nil {
			return err
		}
		for _, r := range page {
			if err := s.Emit(ctx, r); err != nil {
				return err
			}
			if err := s.readMetrics(ctx, r.RunID); err != nil {
				return err
			}
		}
	}
}

func inList(n int) string { return strings.TrimSuffix(strings.Repeat("?, ", n), ", ") }

func (s *dbSource) readPageChildren(ctx context.Context, page []*sources.Run, byID map[string]*sources.Run) error {
	ids := make([]any, len(page))
	for i, r := range page {
		ids[i] = r.RunID
	}
	in := inList(len(ids))
	kv := func(table string, add func(r *sources.Run, k, v string)) error {
		return s.each(ctx, `SELECT run_uuid, "key", value FROM `+table+` WHERE run_uuid IN (`+in+`) ORDER BY run_uuid, "key"`, ids, func(scan func(...any) error) error {
			var id, k string
			var v sql.NullString
			if err := scan(&id, &k, &v); err != nil {
				return err
			}
			add(byID[id], k, v.String)
			return nil
		})
	}
	if err := kv("params", func(r *sources.Run, k, v string) { r.Params = append(r.Params, sources.Tag{Key: k, Value: v}) }); err != nil {
		return err
	}
	if err := kv("tags", func(r *sources.Run, k, v string) { r.Tags = append(r.Tags, sources.Tag{Key: k, Value: v}) }); err != nil {
		return err
	}
	if s.rev.HasTable("latest_metrics") {
		err := s.each(ctx, `SELECT run_uuid, "key", value, "timestamp", step, is_nan FROM latest_metrics WHERE run_uuid IN (`+in+`) ORDER BY run_uuid, "key"`, ids,
			func(scan func(...any) error) error {
				var id string
				var m sources.Metric
				var ts sql.NullInt64
				var isNaN bool
				if err := scan(&id, &m.Key, &m.Value, &ts, &m.Step, &isNaN); err != nil {
					return err
				}
				m.Timestamp = ts.Int64
				if isNaN {
					m.Value = math.NaN()
				}
				byID[id].LatestMetrics = append(byID[id].LatestMetrics, m)
				return nil
			})
		if err != nil {
			return err
		}
	}
	if s.rev.HasTable("inputs") {
		return s.readInputs(ctx, ids, in, byID)
	}
	return nil
}

// readInputs reads the page's edges: datasets used by a run (destination = run) and
// logged models used or produced by it (source = run).
func (s *dbSource) readInputs(ctx context.Context, ids []any, in string, byID map[string]*sources.Run) error {
	step := "0"
	if s.rev.HasColumn("inputs", "step") {
		step = "step"
	}
	args := append(append([]any{}, ids...), ids...)
	type located struct {
		run *sources.Run
		i   int
	}
	byUUID := map[string]located{}
	var uuids []any
	err := s.each(ctx, "SELECT input_uuid, source_type, source_id, destination_type, destination_id, "+step+
		" FROM inputs WHERE (destination_type = 'RUN' AND destination_id IN ("+in+")) OR (source_type IN ('RUN_INPUT', 'RUN_OUTPUT') AND source_id IN ("+in+"))"+
		" ORDER BY input_uuid", args, func(scan func(...any) error) error {
		var in sources.Input
		if err := scan(&in.UUID, &in.SourceType, &in.SourceID, &in.DestinationType, &in.DestinationID, &in.Step); err != nil {
			return err
		}
		run := byID[in.DestinationID]
		if in.DestinationType != "RUN" {
			run = byID[in.SourceID]
		}
		run.Inputs = append(run.Inputs, in)
		byUUID[in.UUID] = located{run, len(run.Inputs) - 1}
		uuids = append(uuids, in.UUID)
		return nil
	})
	if err != nil || len(uuids) == 0 {
		return err
	}
	return s.each(ctx, "SELECT input_uuid, name, value FROM input_tags WHERE input_uuid IN ("+inList(len(uuids))+") ORDER BY input_uuid, name", uuids,
		func(scan func(...any) error) error {
			var id, k, v string
			if err := scan(&id, &k, &v); err != nil {
				return err
			}
			loc := byUUID[id]
			loc.run.Inputs[loc.i].Tags = append(loc.run.Inputs[loc.i].Tags, sources.Tag{Key: k, Value: v})
			return nil
		})
}

func (s *dbSource) readMetrics(ctx context.Context, runID string) error {
	isNaN := "is_nan"
	if !s.rev.HasColumn("metrics", "is_nan") {
		isNaN = "0"
	}
	points := make([]sources.Metric, 0, s.chunk)
	err := s.each(ctx, `SELECT "key", value, "timestamp", step, `+isNaN+` FROM metrics WHERE run_uuid = ? ORDER BY `+s.dialect.Database().MetricOrder, []any{runID},
		func(scan func(...any) error) error {
			var m sources.Metric
			var nan bool
			if err := scan(&m.Key, &m.Value, &m.Timestamp, &m.Step, &nan); err != nil {
				return err
			}
			if nan {
				m.Value = math.NaN()
			}
			points = append(points, m)
			if len(points) == s.chunk {
				if err := s.Emit(ctx, &sources.Metrics{RunID: runID, Points: points, Origin: s.origin("metrics")}); err != nil {
					return err
				}
				points = make([]sources.Metric, 0, s.chunk)
			}
			return nil
		})
	if err != nil {
		return err
	}
	if len(points) > 0 {
		return s.Emit(ctx, &sources.Metrics{RunID: runID, Points: points, Origin: s.origin("metrics")})
	}
	return nil
}

func nullString(v sql.NullString) *string {
	if !v.Valid {
		return nil
	}
	x := v.String
	return &x
}

// pagesOf calls fn with the ids in pages of at most runsPerPage, each with its IN list.
func pagesOf[T any](items []T, id func(T) any, fn func(page []T, ids []any, in string) error) error {
	for start := 0; start < len(items); start += runsPerPage {
		page := items[start:min(start+runsPerPage, len(items))]
		ids := make([]any, len(page))
		for i, it := range page {
			ids[i] = id(it)
		}
		if err := fn(page, ids, inList(len(ids))); err != nil {
			return err
		}
	}
	return nil
}

// readLoggedModels streams MLflow 3's logged models with their params, tags and metrics,
// a page of models at a time with one query per table.
func (s *dbSource) readLoggedModels(ctx context.Context) error {
	var models []*sources.LoggedModel
	byID := map[string]*sources.LoggedModel{}
	err := s.each(ctx, "SELECT model_id, experiment_id, name, artifact_location, creation_timestamp_ms, last_updated_timestamp_ms, status, "+
		"lifecycle_stage, model_type, source_run_id, status_message FROM logged_models ORDER BY model_id", nil, func(scan func(...any) error) error {
		m := &sources.LoggedModel{Origin: s.origin("logged_models")}
		var expID int64
		var stage, typ, run, msg sql.NullString
		if err := scan(&m.ModelID, &expID, &m.Name, &m.ArtifactLocation, &m.CreationTimestamp, &m.LastUpdatedTimestamp, &m.Status, &stage, &typ, &run, &msg); err != nil {
			return err
		}
		m.ExperimentSourceID = fmt.Sprint(expID)
		m.LifecycleStage, m.ModelType, m.SourceRunID, m.StatusMessage = nullString(stage), nullString(typ), nullString(run), nullString(msg)
		models = append(models, m)
		byID[m.ModelID] = m
		return nil
	})
	if err != nil {
		return err
	}
	return pagesOf(models, func(m *sources.LoggedModel) any { return m.ModelID }, func(page []*sources.LoggedModel, ids []any, in string) error {
		err := s.keyValuesOf(ctx, "SELECT model_id, param_key, param_value FROM logged_model_params WHERE model_id IN ("+in+") ORDER BY model_id, param_key", ids,
			func(id string, t sources.Tag) { byID[id].Params = append(byID[id].Params, t) })
		if err != nil {
			return err
		}
		err = s.keyValuesOf(ctx, "SELECT model_id, tag_key, tag_value FROM logged_model_tags WHERE model_id IN ("+in+") ORDER BY model_id, tag_key", ids,
			func(id string, t sources.Tag) { byID[id].Tags = append(byID[id].Tags, t) })
		if err != nil {
			return err
		}
		err = s.each(ctx, "SELECT model_id, experiment_id, metric_name, metric_timestamp_ms, metric_step, metric_value, run_id, dataset_uuid, dataset_name, dataset_digest "+
			"FROM logged_model_metrics WHERE model_id IN ("+in+") ORDER BY model_id, metric_name, metric_timestamp_ms, metric_step, run_id", ids,
			func(scan func(...any) error) error {
				var id string
				var mm sources.ModelMetric
				var metricExp int64
				var value sql.NullFloat64
				var du, dn, dd sql.NullString
				if err := scan(&id, &metricExp, &mm.Name, &mm.Timestamp, &mm.Step, &value, &mm.RunID, &du, &dn, &dd); err != nil {
					return err
				}
				if value.Valid {
					v := value.Float64
					mm.Value = &v
				}
				mm.ExperimentSourceID = fmt.Sprint(metricExp)
				mm.DatasetUUID, mm.DatasetName, mm.DatasetDigest = nullString(du), nullString(dn), nullString(dd)
				byID[id].Metrics = append(byID[id].Metrics, mm)
				return nil
			})
		if err != nil {
			return err
		}
		for _, m := range page {
			if err := s.Emit(ctx, m); err != nil {
				return err
			}
		}
		return nil
	})
}

// keyValuesOf reads (owner id, key, value) rows.
func (s *dbSource) keyValuesOf(ctx context.Context, query string, ids []any, add func(id string, t sources.Tag)) error {
	return s.each(ctx, query, ids, func(scan func(...any) error) error {
		var id, k string
		var v sql.NullString
		if err := scan(&id, &k, &v); err != nil {
			return err
		}
		add(id, sources.Tag{Key: k, Value: v.String})
		return nil
	})
}

// readRegistry streams the model registry, a page of registered models at a time, each
// with its versions, tags and aliases, one query per table and page.
func (s *dbSource) readRegistry(ctx context.Context) error {
	var models []*sources.RegisteredModel
	byName := map[string]*sources.RegisteredModel{}
	err := s.each(ctx, "SELECT name, creation_time, last_updated_time, description FROM registered_models ORDER BY name", nil, func(scan func(...any) error) error {
		m := &sources.RegisteredModel{Origin: s.origin("registered_models")}
		var created, updated sql.NullInt64
		var desc sql.NullString
		if err := scan(&m.Name, &created, &updated, &desc); err != nil {
			return err
		}
		m.CreationTime, m.LastUpdatedTime, m.Description = nullable(created), nullable(updated), nullString(desc)
		models = append(models, m)
		byName[m.Name] = m
		return nil
	})
	if err != nil {
		return err
	}
	link, storage := "NULL", "NULL"
	if s.rev.HasColumn("model_versions", "run_link") {
		link = "run_link"
	}
	if s.rev.HasColumn("model_versions", "storage_location") {
		storage = "storage_location"
	}
	return pagesOf(models, func(m *sources.RegisteredModel) any { return m.Name }, func(page []*sources.RegisteredModel, ids []any, in string) error {
		err := s.each(ctx, "SELECT name, version, creation_time, last_updated_time, description, user_id, current_stage, source, run_id, status, status_message, "+
			link+", "+storage+" FROM model_versions WHERE name IN ("+in+") ORDER BY name, version", ids, func(scan func(...any) error) error {
			var name string
			var v sources.ModelVersion
			var created, updated sql.NullInt64
			var desc, user, stage, src, run, status, msg, rl, sl sql.NullString
			if err := scan(&name, &v.Version, &created, &updated, &desc, &user, &stage, &src, &run, &status, &msg, &rl, &sl); err != nil {
				return err
			}
			v.CreationTime, v.LastUpdatedTime = nullable(created), nullable(updated)
			v.Description, v.UserID, v.CurrentStage, v.Source, v.RunID = nullString(desc), nullString(user), nullString(stage), nullString(src), nullString(run)
			v.Status, v.StatusMessage, v.RunLink, v.StorageLocation = nullString(status), nullString(msg), nullString(rl), nullString(sl)
			byName[name].Versions = append(byName[name].Versions, v)
			return nil
		})
		if err != nil {
			return err
		}
		if s.rev.HasTable("registered_model_tags") {
			err := s.keyValuesOf(ctx, `SELECT name, "key", value FROM registered_model_tags WHERE name IN (`+in+`) ORDER BY name, "key"`, ids,
				func(name string, t sources.Tag) { byName[name].Tags = append(byName[name].Tags, t) })
			if err != nil {
				return err
			}
		}
		if s.rev.HasTable("model_version_tags") {
			err := s.each(ctx, `SELECT name, version, "key", value FROM model_version_tags WHERE name IN (`+in+`) ORDER BY name, version, "key"`, ids,
				func(scan func(...any) error) error {
					var name, k string
					var version int64
					var v sql.NullString
					if err := scan(&name, &version, &k, &v); err != nil {
						return err
					}
					m := byName[name]
					for i := range m.Versions {
						if m.Versions[i].Version == version {
							m.Versions[i].Tags = append(m.Versions[i].Tags, sources.Tag{Key: k, Value: v.String})
						}
					}
					return nil
				})
			if err != nil {
				return err
			}
		}
		if s.rev.HasTable("registered_model_aliases") {
			err := s.each(ctx, "SELECT name, alias, version FROM registered_model_aliases WHERE name IN ("+in+") ORDER BY name, alias", ids,
				func(scan func(...any) error) error {
					var name string
					var a sources.ModelAlias
					if err := scan(&name, &a.Alias, &a.Version); err != nil {
						return err
					}
					byName[name].Aliases = append(byName[name].Aliases, a)
					return nil
				})
			if err != nil {
				return err
			}
		}
		for _, m := range page {
			if err := s.Emit(ctx, m); err != nil {
				return err
			}
		}
		return nil
	})
}

// traceTables are the tables that hang off trace_info, the column naming the trace, and
// the revision that created them, in foreign-key order.
var traceTables = []struct{ table, key, since string }{
	{"trace_tags", "request_id", "867495a8f9d4"},
	{"trace_request_metadata", "request_id", "867495a8f9d4"},
	{"assessments", "trace_id", "770bee3ae1dd"},
	{"spans", "trace_id", "a1b2c3d4e5f6"},
	{"trace_metrics", "request_id", "b7c8d9e0f1a2"},
	{"span_metrics", "trace_id", "c8d9e0f1a2b3"},
}

// readTraces streams traces a page of trace_info rows at a time, each with the rows of
// the tables that refer to it: one query per table and page.
func (s *dbSource) readTraces(ctx context.Context) error {
	if !s.rev.AtLeast("867495a8f9d4") {
		return nil
	}
	after := ""
	for {
		page, err := s.tableRows(ctx, "trace_info", "SELECT "+s.selectList("trace_info")+" FROM trace_info WHERE request_id > ? ORDER BY request_id LIMIT ?", after, runsPerPage)
		if err != nil {
			return err
		}
		if len(page.Rows) == 0 {
			return nil
		}
		idCol, expCol := indexOf(page.Columns, "request_id"), indexOf(page.Columns, "experiment_id")
		traces := make([]*sources.Trace, len(page.Rows))
		byID := map[string]*sources.Trace{}
		ids := make([]any, len(page.Rows))
		for i, row := range page.Rows {
			id := fmt.Sprint(row[idCol])
			traces[i] = &sources.Trace{RequestID: id, ExperimentSourceID: fmt.Sprint(row[expCol]), Origin: s.origin("trace_info"),
				Tables: []sources.TableRows{{Table: "trace_info", Columns: page.Columns, Rows: [][]any{row}}}}
			byID[id], ids[i] = traces[i], id
		}
		for _, child := range traceTables {
			if !s.rev.AtLeast(child.since) {
				continue
			}
			rows, err := s.tableRows(ctx, child.table, "SELECT "+s.selectList(child.table)+" FROM "+child.table+" WHERE "+child.key+" IN ("+inList(len(ids))+")", ids...)
			if err != nil {
				return err
			}
			key := indexOf(rows.Columns, child.key)
			for _, row := range rows.Rows {
				tr := byID[fmt.Sprint(row[key])]
				if last := len(tr.Tables) - 1; tr.Tables[last].Table != child.table {
					tr.Tables = append(tr.Tables, sources.TableRows{Table: child.table, Columns: rows.Columns})
				}
				last := &tr.Tables[len(tr.Tables)-1]
				last.Rows = append(last.Rows, row)
			}
		}
		for _, tr := range traces {
			if err := s.Emit(ctx, tr); err != nil {
				return err
			}
		}
		after = traces[len(traces)-1].RequestID
	}
}

func indexOf(list []string, s string) int {
	for i, x := range list {
		if strings.EqualFold(x, s) {
			return i
		}
	}
	return -1
}

// selectList is the column list that reads a table's values as MLflow wrote them:
// generated columns left out (the target computes its own) and JSON documents as their
// stored text (PostgreSQL's driver would decode them, losing key order and spacing).
// Column names come out as the table's.
func (s *dbSource) selectList(table string) string {
	info := s.tables[table]
	if info == nil {
		return "*"
	}
	var exprs []string
	for _, c := range info.Columns {
		if c.Generated {
			continue
		}
		q := s.dialect.Quote(c.Name)
		if text := s.dialect.Database().JSONText; text != nil && (c.Type == "json" || c.Type == "jsonb") {
			q = text(q) + " AS " + q
		}
		exprs = append(exprs, q)
	}
	return strings.Join(exprs, ", ")
}

// tableRows reads a query's rows as generic values: text as strings, bytes of binary
// columns as bytes, JSON documents re-encoded as text, numbers and booleans as they come.
func (s *dbSource) tableRows(ctx context.Context, table, query string, args ...any) (sources.TableRows, error) {
	rows, err := s.q(ctx, query, args...) //nolint:rowserrcheck // schema.ScanRows checks them
	if err != nil {
		return sources.TableRows{}, err
	}
	defer rows.Close() // ScanRows closes them too; this covers the early returns
	cols, err := rows.Columns()
	if err != nil {
		return sources.TableRows{}, err
	}
	out := sources.TableRows{Table: table}
	binary := make([]bool, len(cols))
	info := s.tables[table]
	for i, c := range cols {
		out.Columns = append(out.Columns, strings.ToLower(c))
		if info != nil {
			if col := info.Column(out.Columns[i]); col != nil {
				binary[i] = col.Binary
			}
		}
	}
	err = schema.ScanRows(rows, func(scan func(...any) error) error {
		values, err := schema.ScanValues(scan, len(cols))
		if err != nil {
			return err
		}
		for i, v := range values {
			var err error
			if values[i], err = plainValue(v, binary[i]); err != nil {
				return err
			}
		}
		out.Rows = append(out.Rows, values)
		return nil
	})
	if err != nil {
		if ctx.Err() != nil {
			return sources.TableRows{}, sources.CheckContext(ctx)
		}
		return sources.TableRows{}, fmt.Errorf("read %s table %s: %w", s.where, table, err)
	}
	return out, nil
}

// CountRuns counts the runs table. It runs on a connection of its own, since the
// source's own is busy streaming.
func (s *dbSource) CountRuns(ctx context.Context) (int64, error) {
	s.db.SetMaxOpenConns(2)
	var n int64
	err := s.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM runs").Scan(&n)
	return n, err
}
