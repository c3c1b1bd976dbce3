package schema

import (
	"embed"
	"fmt"
	"regexp"
	"strings"
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

//go:embed ddl
var ddlFiles embed.FS

// CanCreate reports whether mlflow-bulk can create revision r on dialect d: it holds
// its DDL, derives it back from a newer revision's (history.go) or forward from the
// newest it holds (history_after.go).
func CanCreate(r *Revision, d Dialect) bool { return held(r, d) || derivable(r, d) || forwardable(r) }

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
	case forwardable(r):
		stmts, err = deriveForward(r, d)
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
	return append(append(stmts, leftoverStatements(r, d)...), triggers...), nil
}

// creatableRange names the creatable revisions by their first and last.
func creatableRange(d Dialect) string {
	revs := CreatableRevisions(d)
	if len(revs) == 0 {
		return "none"
	}
	return fmt.Sprintf("%s to %s", revs[0], revs[len(revs)-1])
}

func heldStatements(r *Revision, d Dialect) ([]string, error) { return statementsIn(ddlPath(r, d)) }

// statementsIn reads the statements of a held DDL file.
func statementsIn(path string) ([]string, error) {
	data, err := ddlFiles.ReadFile(path)
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

// anyOfArray is a CHECK as pg_dump writes it back (x::text = ANY (ARRAY['a'::character
// varying, …]::text[]), or with more parentheses). Created from that text, PostgreSQL stores it in another form than
// it stores MLflow's own CHECK (x IN ('a', …)), which SQLAlchemy writes: the held DDL
// writes it as MLflow does (internal/schemagen rewrites it), so that it reads back as
// MLflow's does.
var anyOfArray = []*regexp.Regexp{
	regexp.MustCompile(`\((\w+)\)::text = ANY \(\(ARRAY\[((?:'[^']*'::character varying(?:, )?)+)\]\)::text\[\]\)`),
	regexp.MustCompile(`(\w+)::text = ANY \(ARRAY\[((?:'[^']*'::character varying(?:, )?)+)\]::text\[\]\)`),
}

// CheckAsIn rewrites a PostgreSQL statement's CHECK constraints of pg_dump's form as
// x IN (…).
func CheckAsIn(stmt string) string {
	for _, re := range anyOfArray {
		stmt = re.ReplaceAllStringFunc(stmt, func(m string) string {
			parts := re.FindStringSubmatch(m)
			return parts[1] + " IN (" + strings.ReplaceAll(parts[2], "::character varying", "") + ")"
		})
	}
	return stmt
}

// JoinArtifactURI appends a path segment to an artifact root the way MLflow joins URIs:
// exactly one '/' between them, and "scheme:/" roots such as mlflow-artifacts:/ kept.
func JoinArtifactURI(root, segment string) string {
	if strings.HasSuffix(root, "/") {
		return root + segment
	}
	return root + "/" + segment
}

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
