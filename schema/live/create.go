package live

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/mlflow-bulk/mlflow-bulk/schema"
)

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
func Create(ctx context.Context, db DB, d schema.Dialect, r *schema.Revision, opts CreateOptions) error {
	stmts, err := schema.Statements(r, d)
	if err != nil {
		return err
	}
	if stmts, err = ServerForm(ctx, db, d, stmts); err != nil {
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
		if _, err := db.Exec(ctx, "INSERT INTO workspaces (name, description) VALUES ('default', ?)", schema.DefaultWorkspaceDescription); err != nil {
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
	args := []any{int64(0), "Default", schema.JoinArtifactURI(root, "0"), "active"}
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

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// ErrPartialSchema means the target holds only empty tables of MLflow's schema and no
// revision: a creation that was interrupted (MySQL commits each CREATE at once, so a
// crash can leave half a schema). Create with Resume completes it.
var ErrPartialSchema = errors.New("the target holds part of MLflow's schema, empty and unstamped: an interrupted schema creation")

// isPartialSchema reports whether every table is one of MLflow's newest schema and all
// of them, alembic_version included, are empty.
func isPartialSchema(ctx context.Context, db DB, d schema.Dialect, tables map[string]bool) (bool, error) {
	// The newest schema mlflow-bulk creates holds every table of the older ones.
	stmts, err := schema.Statements(schema.NewestCreatable(), d)
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

// createdObject is the table, sequence or index a DDL statement creates; an index as
// "table.index", as MySQL's index names are the table's own (MLflow's schema on MySQL
// has two indexes named name).
func createdObject(stmt string) string {
	fields := strings.Fields(stmt)
	switch {
	case len(fields) > 2 && (fields[1] == "TABLE" || fields[1] == "SEQUENCE"):
		return fields[2]
	case len(fields) > 4 && fields[1] == "INDEX" && fields[3] == "ON":
		return strings.Trim(fields[4], "\"`") + "." + fields[2]
	case len(fields) > 5 && fields[1] == "UNIQUE" && fields[2] == "INDEX" && fields[4] == "ON":
		return strings.Trim(fields[5], "\"`") + "." + fields[3]
	}
	return ""
}

// existingObjects lists the tables, sequences and indexes ("table.index") the database
// has.
func existingObjects(ctx context.Context, db DB, d schema.Dialect) (map[string]bool, error) {
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

// ErrStrayTables stops completing an interrupted schema creation whose tables are not
// all of the revision being created: resuming over them would leave a database of two
// revisions, which no MLflow release opens.
var ErrStrayTables = errors.New("the target's tables are not those of the schema being created")

// checkResumable compares the tables an interrupted creation left with those of the
// revision being created: each must be one of its tables, with its columns. It names
// every one that is not.
func checkResumable(ctx context.Context, db DB, d schema.Dialect, r *schema.Revision, stmts []string) error {
	have, err := Inspect(ctx, db, d)
	if err != nil {
		return err
	}
	want := schema.DDLColumnsOf(stmts)
	var strays []string
	for name, t := range have {
		if schema.OwnTable(name) {
			continue
		}
		cols, ok := want[strings.ToLower(name)]
		if !ok {
			strays = append(strays, fmt.Sprintf("table %s is not in it", name))
			continue
		}
		var extra []string
		seen := map[string]bool{}
		for _, c := range t.Columns {
			lower := strings.ToLower(c.Name)
			seen[lower] = true
			if !cols[lower] {
				extra = append(extra, c.Name)
			}
		}
		var missing []string
		for c := range cols {
			if !seen[c] {
				missing = append(missing, c)
			}
		}
		sort.Strings(extra)
		sort.Strings(missing)
		switch {
		case len(extra) > 0 && len(missing) > 0:
			strays = append(strays, fmt.Sprintf("table %s has %s, which it lacks, and lacks %s", name, strings.Join(extra, ", "), strings.Join(missing, ", ")))
		case len(extra) > 0:
			strays = append(strays, fmt.Sprintf("table %s has %s, which it lacks", name, strings.Join(extra, ", ")))
		case len(missing) > 0:
			strays = append(strays, fmt.Sprintf("table %s lacks %s", name, strings.Join(missing, ", ")))
		}
	}
	if len(strays) == 0 {
		return nil
	}
	sort.Strings(strays)
	return fmt.Errorf("%w: the database holds part of a schema (an interrupted creation), but not of %s's: %s. "+
		"It holds no data: drop those tables (or the database) and create the schema again", ErrStrayTables, r, strings.Join(strays, "; "))
}

// ServerForm is the statements as the server at hand takes them from MLflow's
// migrations (the database's ServerDDL), or as they are.
func ServerForm(ctx context.Context, db DB, d schema.Dialect, stmts []string) ([]string, error) {
	desc := d.Database()
	if desc.ServerDDL == nil || desc.ServerVersion == "" {
		return stmts, nil
	}
	var version string
	err := EachRow(ctx, db, desc.ServerVersion, nil, func(scan func(...any) error) error { return scan(&version) })
	if err != nil {
		return nil, fmt.Errorf("ask the server its version: %w", err)
	}
	out := make([]string, len(stmts))
	for i, stmt := range stmts {
		out[i] = desc.ServerDDL(version, stmt)
	}
	return out, nil
}
