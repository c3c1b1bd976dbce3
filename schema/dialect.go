package schema

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Dialect is the SQL dialect of a target database.
type Dialect string

const (
	Postgres Dialect = "postgresql"
	MySQL    Dialect = "mysql"
	SQLite   Dialect = "sqlite"
)

// Quote quotes an identifier (a table or column name) for the dialect, whatever mode
// the session is in.
func (d Dialect) Quote(name string) string { return d.Database().Quote(name) }

// EnforcesWidths reports whether VARCHAR(n) rejects longer values. SQLite stores them.
func (d Dialect) EnforcesWidths() bool { return d.Database().EnforcesWidths }

// MaxExperimentID is the largest experiment id the dialect's INTEGER column holds.
func (d Dialect) MaxExperimentID() int64 { return d.Database().MaxExperimentID }

// SinglePrecision reports whether a column of this type, as Inspect reports it, keeps
// floating-point values in single precision (MySQL's FLOAT, PostgreSQL's REAL); SQLite
// stores every REAL in eight bytes.
func (d Dialect) SinglePrecision(columnType string) bool {
	return d != SQLite && (columnType == "float" || columnType == "real")
}

// DB is what schema needs of a connection or transaction. Queries use '?' placeholders;
// sinks translate them for their dialect.
type DB interface {
	Exec(ctx context.Context, query string, args ...any) (int64, error)
	Query(ctx context.Context, query string, args ...any) (Rows, error)
}

// Rows is the result of Query, in the shape of database/sql's Rows.
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close() error
}

//go:embed ddl
var ddlFiles embed.FS

// CanCreate reports whether mlflow-bulk can create revision r on dialect d: it holds
// its DDL, or derives it from a newer revision's (history.go).
func CanCreate(r *Revision, d Dialect) bool { return held(r, d) || derivable(r, d) }

// held reports whether mlflow-bulk holds the DDL of revision r for dialect d as a file.
func held(r *Revision, d Dialect) bool {
	_, err := ddlFiles.ReadFile(ddlPath(r, d))
	return err == nil
}

// CreatableRevisions lists the revisions whose complete schema mlflow-bulk can create.
func CreatableRevisions(d Dialect) []*Revision {
	var out []*Revision
	for i := range chain {
		if CanCreate(&chain[i], d) {
			out = append(out, &chain[i])
		}
	}
	return out
}

func ddlPath(r *Revision, d Dialect) string { return fmt.Sprintf("ddl/%s/%s.sql", r.ID, d) }

// Statements returns the DDL of a complete MLflow database at revision r: every table,
// constraint and index, without the rows Create adds.
func Statements(r *Revision, d Dialect) ([]string, error) {
	var stmts []string
	var err error
	switch base, ok := heldBase(r, d); {
	case held(r, d):
		stmts, err = heldStatements(r, d)
	case ok && derivable(r, d):
		stmts, err = derive(r, base, d)
	default:
		return nil, fmt.Errorf("mlflow-bulk cannot create revision %s on %s; it can create %s", r.ID, d, creatableRange(d))
	}
	if err != nil {
		return nil, err
	}
	triggers, err := triggerStatements(r, d)
	if err != nil {
		return nil, err
	}
	return append(stmts, triggers...), nil
}

// creatableRange names the creatable revisions by their first and last.
func creatableRange(d Dialect) string {
	revs := CreatableRevisions(d)
	if len(revs) == 0 {
		return "none"
	}
	return fmt.Sprintf("%s to %s", revs[0], revs[len(revs)-1])
}

func heldStatements(r *Revision, d Dialect) ([]string, error) {
	data, err := ddlFiles.ReadFile(ddlPath(r, d))
	if err != nil {
		return nil, err
	}
	// Comment lines go first: they may hold ';' themselves.
	var code []string
	for _, line := range strings.Split(string(data), "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "--") {
			code = append(code, line)
		}
	}
	var stmts []string
	for _, part := range strings.Split(strings.Join(code, "\n"), ";") {
		if stmt := strings.TrimSpace(part); stmt != "" {
			stmts = append(stmts, stmt)
		}
	}
	return stmts, nil
}

// CreateOptions are the values MLflow itself would choose when it creates a database.
type CreateOptions struct {
	// Resume completes an interrupted creation (ErrPartialSchema): tables and indexes
	// that exist are left as they are.
	Resume bool
	// DefaultArtifactRoot is where the Default experiment keeps artifacts: MLflow's server
	// default is "mlflow-artifacts:/", a local client's "./mlruns" made absolute.
	DefaultArtifactRoot string
	Now                 time.Time
}

// Create builds a complete, empty MLflow database of revision r in db (which should be
// a transaction): all tables, the alembic_version row, the default workspace where the
// revision has workspaces, and the Default experiment 0, as MLflow does on first start.
func Create(ctx context.Context, db DB, d Dialect, r *Revision, opts CreateOptions) error {
	stmts, err := Statements(r, d)
	if err != nil {
		return err
	}
	var have map[string]bool
	if opts.Resume {
		if err := checkResumable(ctx, db, d, r, stmts); err != nil {
			return err
		}
		if have, err = existingObjects(ctx, db, d); err != nil {
			return err
		}
	}
	for _, stmt := range stmts {
		if have[createdObject(stmt)] {
			continue
		}
		if _, err := db.Exec(ctx, stmt); err != nil {
			if strings.Contains(stmt, "TRIGGER prevent_secrets_aad_mutation") {
				// MySQL and MariaDB with binary logging refuse triggers to users without
				// SUPER (error 1419): MLflow's own migration needs the same.
				return fmt.Errorf("create schema %s: the secrets table's trigger, which MLflow creates too: %w "+
					"(with binary logging on, MySQL and MariaDB need log_bin_trust_function_creators=1 or the SUPER privilege for it)", r.ID, err)
			}
			return fmt.Errorf("create schema %s: %w", r.ID, err)
		}
	}
	if _, err := db.Exec(ctx, "INSERT INTO alembic_version (version_num) VALUES (?)", r.ID); err != nil {
		return fmt.Errorf("stamp schema revision: %w", err)
	}
	if r.AtLeast("1b5f0d9ad7c1") {
		if _, err := db.Exec(ctx, "INSERT INTO workspaces (name, description) VALUES ('default', ?)", DefaultWorkspaceDescription); err != nil {
			return fmt.Errorf("create default workspace: %w", err)
		}
	}
	root := opts.DefaultArtifactRoot
	if root == "" {
		root = "mlflow-artifacts:/"
	}
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	cols := []string{"experiment_id", "name", "artifact_location", "lifecycle_stage"}
	args := []any{int64(0), "Default", JoinArtifactURI(root, "0"), "active"}
	if r.HasColumn("experiments", "creation_time") {
		cols = append(cols, "creation_time", "last_update_time")
		args = append(args, now.UnixMilli(), now.UnixMilli())
	}
	query := fmt.Sprintf("INSERT INTO experiments (%s) VALUES (%s)", strings.Join(cols, ", "), placeholders(len(cols)))
	if _, err := db.Exec(ctx, query, args...); err != nil {
		return fmt.Errorf("create Default experiment: %w", err)
	}
	return nil
}

// JoinArtifactURI appends a path segment to an artifact root the way MLflow joins URIs:
// exactly one '/' between them, and "scheme:/" roots such as mlflow-artifacts:/ kept.
func JoinArtifactURI(root, segment string) string {
	if strings.HasSuffix(root, "/") {
		return root + segment
	}
	return root + "/" + segment
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// ErrNotMLflow means the target holds tables but no alembic_version: it is some other
// database, and mlflow-bulk will not write into it.
var ErrNotMLflow = errors.New("the target holds tables but no alembic_version: not an MLflow database")

// UnknownRevisionError is a target at a revision mlflow-bulk does not know.
type UnknownRevisionError struct{ ID string }

func (e *UnknownRevisionError) Error() string {
	return fmt.Sprintf("the target is at alembic revision %s, which mlflow-bulk does not know "+
		"(a newer MLflow, or a branch); it writes into %s. Upgrade mlflow-bulk, or use a database of a supported MLflow version",
		e.ID, SupportedReleases())
}

// DefaultWorkspaceDescription is the description MLflow's migration gives the default
// workspace.
const DefaultWorkspaceDescription = "Default workspace for legacy resources"

// ErrPartialSchema means the target holds only empty tables of MLflow's schema and no
// revision: a creation that was interrupted (MySQL commits each CREATE at once, so a
// crash can leave half a schema). Create with Resume completes it.
var ErrPartialSchema = errors.New("the target holds part of MLflow's schema, empty and unstamped: an interrupted schema creation")

// Detect reads the revision of the database behind db. It returns (nil, nil) for an
// empty database (no tables at all), the revision for an MLflow database, and
// ErrPartialSchema, ErrNotMLflow or *UnknownRevisionError otherwise.
func Detect(ctx context.Context, db DB, d Dialect) (*Revision, error) {
	tables, err := listTables(ctx, db, d)
	if err != nil {
		return nil, err
	}
	if len(tables) == 0 {
		return nil, nil
	}
	if partial, err := isPartialSchema(ctx, db, d, tables); err != nil || partial {
		if err == nil {
			err = ErrPartialSchema
		}
		return nil, err
	}
	if !tables["alembic_version"] {
		return nil, ErrNotMLflow
	}
	rows, err := db.Query(ctx, "SELECT version_num FROM alembic_version")
	if err != nil {
		return nil, fmt.Errorf("read alembic_version: %w", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("read alembic_version: %w", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read alembic_version: %w", err)
	}
	if len(ids) != 1 {
		return nil, fmt.Errorf("alembic_version holds %d rows, expected exactly 1: the database is not a consistent MLflow database", len(ids))
	}
	r, ok := Lookup(ids[0])
	if !ok {
		return nil, &UnknownRevisionError{ID: ids[0]}
	}
	return r, nil
}

// listTables lists MLflow's tables (and any other program's), mlflow-bulk's own aside.
func listTables(ctx context.Context, db DB, d Dialect) (map[string]bool, error) {
	all, err := allTables(ctx, db, d)
	for name := range all {
		if OwnTable(name) {
			delete(all, name)
		}
	}
	return all, err
}

// allTables lists every table of the database.
func allTables(ctx context.Context, db DB, d Dialect) (map[string]bool, error) {
	rows, err := db.Query(ctx, d.Database().Introspection.Tables)
	if err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	defer rows.Close()
	tables := map[string]bool{}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, fmt.Errorf("list tables: %w", err)
		}
		tables[name] = true
	}
	return tables, rows.Err()
}

// ExperimentIDSequenceReset is the statement that moves the dialect's experiment id
// generator past explicitly inserted ids, "" where the database does that itself
// (MySQL's AUTO_INCREMENT, SQLite's rowid).
func ExperimentIDSequenceReset(d Dialect) string { return d.Database().SequenceReset }

// Collation says how the target compares the key columns of params, tags and metrics.
// MySQL and MariaDB usually compare case-insensitively and ignore trailing spaces (PAD
// SPACE), so keys MLflow keeps apart on PostgreSQL and SQLite ("lr" and "LR", "x" and
// "x ") collide on their primary keys.
type Collation struct {
	Name            string
	CaseInsensitive bool
	PadSpace        bool
}

// Exact reports whether distinct strings stay distinct.
func (c Collation) Exact() bool { return !c.CaseInsensitive && !c.PadSpace }

// Fold maps a key to what the collation compares. It covers case and trailing spaces;
// accent-insensitive collations may merge more, which the MySQL sink's row-count check
// then catches.
func (c Collation) Fold(s string) string {
	if c.PadSpace {
		s = strings.TrimRight(s, " ")
	}
	if c.CaseInsensitive {
		s = strings.ToLower(s)
	}
	return s
}

// KeyCollation reads the collation of the tracking tables' key columns.
func KeyCollation(ctx context.Context, db DB, d Dialect) (Collation, error) {
	query := d.Database().Introspection.Collation
	if query == "" {
		return Collation{Name: "binary"}, nil
	}
	rows, err := db.Query(ctx, query)
	if err != nil {
		return Collation{}, fmt.Errorf("read key collation: %w", err)
	}
	defer rows.Close()
	var name string
	if rows.Next() {
		if err := rows.Scan(&name); err != nil {
			return Collation{}, fmt.Errorf("read key collation: %w", err)
		}
	}
	if err := rows.Err(); err != nil {
		return Collation{}, err
	}
	lower := strings.ToLower(name)
	return Collation{
		Name:            name,
		CaseInsensitive: strings.Contains(lower, "_ci"),
		// MariaDB's *_nopad_* and MySQL 8's *_0900_* collations compare trailing spaces.
		PadSpace: !strings.Contains(lower, "nopad") && !strings.Contains(lower, "_0900_"),
	}, nil
}

// isPartialSchema reports whether every table is one of MLflow's newest schema and all
// of them, alembic_version included, are empty.
func isPartialSchema(ctx context.Context, db DB, d Dialect, tables map[string]bool) (bool, error) {
	stmts, err := Statements(Newest(), d)
	if err != nil {
		return false, nil
	}
	known := map[string]bool{}
	for _, s := range stmts {
		if strings.HasPrefix(s, "CREATE TABLE ") {
			known[createdObject(s)] = true
		}
	}
	for t := range tables {
		if !known[t] {
			return false, nil
		}
	}
	for t := range tables {
		rows, err := db.Query(ctx, "SELECT 1 FROM "+t+" LIMIT 1")
		if err != nil {
			return false, fmt.Errorf("read %s: %w", t, err)
		}
		hasRow := rows.Next()
		rows.Close()
		if hasRow {
			return false, nil
		}
	}
	return true, nil
}

// createdObject is the table or index a DDL statement creates.
func createdObject(stmt string) string {
	fields := strings.Fields(stmt)
	switch {
	case len(fields) > 2 && fields[1] == "TABLE":
		return fields[2]
	case len(fields) > 2 && (fields[1] == "INDEX" || fields[1] == "SEQUENCE"):
		return fields[2]
	case len(fields) > 3 && fields[1] == "UNIQUE" && fields[2] == "INDEX":
		return fields[3]
	}
	return ""
}

// existingObjects lists the tables, indexes and sequences the database has.
func existingObjects(ctx context.Context, db DB, d Dialect) (map[string]bool, error) {
	have, err := listTables(ctx, db, d)
	if err != nil {
		return nil, err
	}
	rows, err := db.Query(ctx, d.Database().Introspection.Indexes)
	if err != nil {
		return nil, fmt.Errorf("list indexes: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, err
		}
		have[name] = true
	}
	return have, rows.Err()
}
