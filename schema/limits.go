package schema

import (
	"context"
	"fmt"
	"strconv"
	"strings"
)

// ValueLimits are the limits MLflow's own validation applies to values when it logs
// them, for the MLflow releases whose head a revision is. They are stricter than the
// columns (params.value is VARCHAR(8000), the limit 6000) and apply on every database.
type ValueLimits struct {
	ParamValue         int
	TagValue           int
	ExperimentTagValue int
	// Truncates: over-long param and run-tag values are cut to the limit (MLflow 2.11
	// and later, with its default MLFLOW_TRUNCATE_LONG_VALUES) instead of rejected.
	// Experiment tags are always rejected.
	Truncates bool
}

// Limits returns MLflow's value limits at this revision. acf3f17fdcc7 is the head of
// 2.8 to 2.12, and only 2.11 and 2.12 truncate; its newest releases decide.
func (r *Revision) Limits() ValueLimits {
	l := ValueLimits{ParamValue: 250, TagValue: 250, ExperimentTagValue: 5000}
	if r.AtLeast("cc1f77228345") {
		l.ParamValue = 500
	}
	if r.AtLeast("2d6e25af4d3e") {
		l.ParamValue = 6000
	}
	if r.AtLeast("7ac759974ad8") {
		l.TagValue = 5000
	}
	if r.AtLeast("f5a4f2784254") {
		l.TagValue = 8000
	}
	l.Truncates = r.AtLeast("acf3f17fdcc7")
	return l
}

// ForRelease returns the revision an MLflow release runs at ("2.9", "1.30.1", "3.10").
func ForRelease(version string) (*Revision, error) {
	want, err := parseVersion(version)
	if err != nil {
		return nil, err
	}
	for i := len(chain) - 1; i >= 0; i-- {
		r := &chain[i]
		if r.Releases == "" || strings.HasPrefix(r.Releases, "after") {
			continue
		}
		lo, hi, _ := strings.Cut(r.Releases, " – ")
		if hi == "" {
			hi = lo
		}
		low, _ := parseVersion(lo)
		high, _ := parseVersion(hi)
		// An upper bound covers its patch releases: "2.2" covers 2.2.5.
		upTo := want
		if len(upTo) > len(high) {
			upTo = upTo[:len(high)]
		}
		if compareVersions(want, low) >= 0 && compareVersions(upTo, high) <= 0 {
			return r, nil
		}
	}
	return nil, fmt.Errorf("mlflow-bulk does not know which schema MLflow %s uses; it knows %s", version, SupportedReleases())
}

func parseVersion(v string) ([]int, error) {
	var out []int
	for _, part := range strings.Split(strings.TrimPrefix(v, "v"), ".") {
		n, err := strconv.Atoi(part)
		if err != nil {
			return nil, fmt.Errorf("%q is not an MLflow version such as 2.9 or 3.1.4", v)
		}
		out = append(out, n)
	}
	return out, nil
}

// compareVersions compares two versions, missing components counting as 0.
func compareVersions(a, b []int) int {
	for i := 0; i < max(len(a), len(b)); i++ {
		x, y := 0, 0
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return 0
}

var columnsQuery = map[Dialect]string{
	// SQLite does not enforce widths, so it reports none.
	SQLite:   "SELECT name, '0' FROM pragma_table_info(?)",
	Postgres: "SELECT column_name::text, COALESCE(character_maximum_length, 0)::text FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ?",
	MySQL:    "SELECT COLUMN_NAME, CAST(COALESCE(CHARACTER_MAXIMUM_LENGTH, 0) AS CHAR) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?",
}

// CheckColumns verifies that the database holds every tracking table and column of
// revision r, at least as wide: the check for a target at an unknown revision. It
// returns what is missing or too narrow.
func CheckColumns(ctx context.Context, db DB, d Dialect, r *Revision) error {
	var problems []string
	for _, t := range trackingTables {
		if !r.HasTable(t.name) {
			continue
		}
		rows, err := db.Query(ctx, columnsQuery[d], t.name)
		if err != nil {
			return fmt.Errorf("read columns of %s: %w", t.name, err)
		}
		have := map[string]int{} // column -> width, 0 = unbounded or unknown
		for rows.Next() {
			var name, width string
			if err := rows.Scan(&name, &width); err != nil {
				rows.Close()
				return fmt.Errorf("read columns of %s: %w", t.name, err)
			}
			have[strings.ToLower(name)], _ = strconv.Atoi(width)
		}
		rows.Close()
		if len(have) == 0 {
			problems = append(problems, "table "+t.name+" is missing")
			continue
		}
		for _, c := range r.Columns(t.name) {
			w, ok := have[c]
			switch {
			case !ok:
				problems = append(problems, fmt.Sprintf("column %s.%s is missing", t.name, c))
			case d != SQLite && w > 0 && w < r.MaxChars(t.name, c):
				problems = append(problems, fmt.Sprintf("column %s.%s holds %d characters, mlflow-bulk writes up to %d", t.name, c, w, r.MaxChars(t.name, c)))
			}
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("the target's tables do not hold what mlflow-bulk writes: %s", strings.Join(problems, "; "))
	}
	return nil
}

// Column is a column of a target table as the database reports it.
type Column struct {
	Name    string
	Boolean bool // PostgreSQL BOOLEAN: integers from SQLite or MySQL need converting
}

var insertableQuery = map[Dialect]string{
	// hidden 2 and 3 are generated columns.
	SQLite:   "SELECT name, CASE WHEN UPPER(type) = 'BOOLEAN' THEN 'boolean' ELSE '' END FROM pragma_table_xinfo(?) WHERE hidden NOT IN (2, 3)",
	Postgres: "SELECT column_name::text, data_type::text FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ? AND is_generated = 'NEVER'",
	MySQL:    "SELECT COLUMN_NAME, DATA_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND EXTRA NOT LIKE '%GENERATED%'",
}

// InsertableColumns lists the columns of a table that take inserted values (generated
// ones left out), as the database has them; nil when the table does not exist. It serves
// tables whose shape mlflow-bulk copies rather than models (traces).
func InsertableColumns(ctx context.Context, db DB, d Dialect, table string) ([]Column, error) {
	rows, err := db.Query(ctx, insertableQuery[d], table)
	if err != nil {
		return nil, fmt.Errorf("read columns of %s: %w", table, err)
	}
	defer rows.Close()
	var cols []Column
	for rows.Next() {
		var name, typ string
		if err := rows.Scan(&name, &typ); err != nil {
			return nil, fmt.Errorf("read columns of %s: %w", table, err)
		}
		cols = append(cols, Column{Name: strings.ToLower(name), Boolean: d == Postgres && typ == "boolean"})
	}
	return cols, rows.Err()
}

// deferredKeys are, per dialect, the statements that take the keys and indexes off
// metrics for a bulk load into a new database, and those that put them back with
// MLflow's names. Only PostgreSQL gains from it enough to be worth it (indexes built
// after a load are twice as fast there); elsewhere the keys stay.
var deferredKeys = map[Dialect]struct{ drop, add []string }{
	Postgres: {
		drop: []string{
			"ALTER TABLE metrics DROP CONSTRAINT metric_pk, DROP CONSTRAINT metrics_run_uuid_fkey",
			"DROP INDEX index_metrics_run_uuid",
			"DROP INDEX IF EXISTS index_metrics_run_uuid_key_step",
		},
		add: []string{
			`ALTER TABLE metrics ADD CONSTRAINT metric_pk PRIMARY KEY ("key", "timestamp", step, run_uuid, value, is_nan), ` +
				"ADD CONSTRAINT metrics_run_uuid_fkey FOREIGN KEY (run_uuid) REFERENCES runs (run_uuid)",
			"CREATE INDEX index_metrics_run_uuid ON metrics (run_uuid)",
		},
	},
}

// DeferKeys returns the statements that take metrics' keys off for a bulk load, and
// those that put them back; none where the dialect keeps them. The revision decides
// whether the newer (run_uuid, key, step) index is part of it.
func DeferKeys(d Dialect, r *Revision) (drop, add []string) {
	k, ok := deferredKeys[d]
	if !ok || !r.AtLeast("bd07f7e963c5") {
		return nil, nil
	}
	add = append([]string{}, k.add...)
	if r.AtLeast("a5b4c3d2e1f0") {
		add = append(add, `CREATE INDEX index_metrics_run_uuid_key_step ON metrics (run_uuid, "key", step)`)
	}
	return k.drop, add
}

// KeysDeferred reports whether metrics is in the state DeferKeys leaves it in: a bulk
// load into a new database that has not finished (its keys are still to be built).
func KeysDeferred(ctx context.Context, db DB, d Dialect) (bool, error) {
	if d != Postgres {
		return false, nil
	}
	// A metrics table without any primary key is only ever left by DeferKeys.
	rows, err := db.Query(ctx, "SELECT COUNT(*) FROM pg_constraint WHERE contype = 'p' AND conrelid = 'metrics'::regclass")
	if err != nil {
		return false, fmt.Errorf("read metrics' keys: %w", err)
	}
	defer rows.Close()
	var n int64
	if rows.Next() {
		if err := rows.Scan(&n); err != nil {
			return false, err
		}
	}
	return n == 0, rows.Err()
}
