package schema_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/mlflow-bulk/mlflow-bulk/drivers/all"
	"github.com/mlflow-bulk/mlflow-bulk/internal/testenv"
	"github.com/mlflow-bulk/mlflow-bulk/schema"
	"github.com/mlflow-bulk/mlflow-bulk/schema/live"
	"github.com/mlflow-bulk/mlflow-bulk/sinks"
)

func TestRevisionChain(t *testing.T) {
	t.Parallel()
	if schema.Newest().ID != "b7e4c1a90f23" || schema.Oldest().ID != "451aebb31d03" {
		t.Fatal("chain ends moved")
	}
	r, ok := schema.Lookup("bd07f7e963c5")
	if !ok || !r.AtLeast("451aebb31d03") || r.AtLeast("0c779009ac13") {
		t.Fatal("ordering")
	}
	for rev, want := range map[string]int{"bd07f7e963c5": 250, "cc1f77228345": 500, "2d6e25af4d3e": 8000} {
		r, _ := schema.Lookup(rev)
		if got := r.MaxChars("params", "value"); got != want {
			t.Errorf("params.value at %s: %d, want %d", rev, got, want)
		}
	}
	if r.HasColumn("runs", "deleted_time") || !schema.Newest().HasColumn("runs", "deleted_time") {
		t.Error("runs.deleted_time appears at 0c779009ac13")
	}
	if r.HasTable("datasets") || r.Columns("inputs") != nil {
		t.Error("datasets before 7f2a7d5fae7d")
	}
	if _, ok := schema.Lookup("ffffffffffff"); ok {
		t.Error("unknown revision found")
	}
}

type dialectCase struct {
	dialect schema.Dialect
	uri     func(testing.TB) string
}

var dialects = []dialectCase{{schema.SQLite, testenv.SQLite}, {schema.Postgres, testenv.Postgres}, {schema.MySQL, testenv.MySQL}}

// TestCreateMatchesMLflowDumps builds each revision the project can create, and the
// same revision from MLflow's own schema dump, and compares them table by table,
// column by column and constraint by constraint.
//
// Each revision is built twice: from the DDL mlflow-bulk holds for it, and derived from
// the next newer revision it holds (taking back what the revisions between changed), the
// way every release head without a dump of its own is built.
func TestCreateMatchesMLflowDumps(t *testing.T) {
	// The revisions with a dump of MLflow's, and the newer revision each is derived from.
	withDumps := map[string]string{
		"97727af70f4d": "acf3f17fdcc7", "acf3f17fdcc7": "0584bdc529eb", "0584bdc529eb": "c3d6457b6d8a",
		"c3d6457b6d8a": "7d34483879f0", "7d34483879f0": "b7e4c1a90f23",
	}
	for _, d := range dialects {
		for id, from := range withDumps {
			for _, derived := range []bool{false, true} {
				name := string(d.dialect) + "/" + id
				if derived {
					name += "/derived-from-" + from
				}
				t.Run(name, func(t *testing.T) {
					rev, _ := schema.Lookup(id)
					base, _ := schema.Lookup(from)
					compareWithDump(t, d, rev, base, derived)
				})
			}
		}
	}
}

func compareWithDump(t *testing.T, d dialectCase, rev, base *schema.Revision, derived bool) {
	ctx := context.Background()
	ours := open(t, d.uri(t))
	tx, _ := ours.Begin(ctx)
	if derived {
		stmts, err := schema.DerivedStatements(rev, base, d.dialect)
		if err != nil {
			t.Fatal(err)
		}
		if stmts, err = live.ServerForm(ctx, tx, d.dialect, stmts); err != nil {
			t.Fatal(err)
		}
		for _, stmt := range stmts {
			if _, err := tx.Exec(ctx, stmt); err != nil {
				t.Fatalf("%v\n%s", err, stmt)
			}
		}
	} else {
		if err := live.Create(ctx, tx, d.dialect, rev, live.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		if got, err := live.Detect(ctx, tx, d.dialect); err != nil || got != rev {
			t.Fatalf("Detect = %v, %v", got, err)
		}
		// The column knowledge the importer writes by matches the DDL.
		if err := live.CheckColumns(ctx, tx, d.dialect, rev); err != nil {
			t.Fatal(err)
		}
	}
	oursDesc := describe(t, tx, d.dialect)
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}

	theirs := open(t, d.uri(t))
	tx2, _ := theirs.Begin(ctx)
	defer func() { _ = tx2.Rollback(ctx) }()
	// MLflow's dumps are of MySQL; on MariaDB its migrations leave the form the server
	// takes (live.ServerForm), which the created schema has too.
	dumped, err := live.ServerForm(ctx, tx2, d.dialect, dumpOf(t, rev.ID, d.dialect))
	if err != nil {
		t.Fatal(err)
	}
	for _, stmt := range dumped {
		if _, err := tx2.Exec(ctx, stmt); err != nil {
			t.Fatalf("MLflow's dump: %v\n%s", err, stmt)
		}
	}
	theirDesc := describe(t, tx2, d.dialect)
	if len(oursDesc) < 40 {
		t.Fatalf("described only %d items", len(oursDesc))
	}
	allowed := declaredIndexes(t, rev, d.dialect)
	if d.dialect == schema.MySQL {
		// MLflow's MySQL dumps leave unique keys out; its migrations create them.
		allowed = append(allowed, mysqlUniqueKeys...)
	}
	diff(t, oursDesc, theirDesc, allowed)
}

// TestCreate314MatchesMLflow checks the 3.14 schema (alembic b7e4c1a90f23), for which
// there is no dump of MLflow's beside the project, against a database MLflow 3.14 made:
// on SQLite item by item, and on the servers by what 3.14 adds to 7d34483879f0 (itself
// checked against MLflow's dumps above): the same tables, columns and indexes.
func TestCreate314MatchesMLflow(t *testing.T) {
	rev314, _ := schema.Lookup("b7e4c1a90f23")
	rev311, _ := schema.Lookup("7d34483879f0")
	real, err := sql.Open("sqlite", "file:"+testenv.Sample(t, "hcigu-pgpt-sqlite-prompts/backend/mlflow.db")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer real.Close()
	theirs := describe(t, sqlDB{real}, schema.SQLite)
	create := func(t *testing.T, d dialectCase, rev *schema.Revision) []string {
		return describe(t, created(t, d, rev), d.dialect)
	}
	// The items MLflow 3.14 has that 7d34483879f0 lacks, as "table.column" and index names.
	wantAdded := columnsOf(added(checksOnly(create(t, dialects[0], rev311)), checksOnly(theirs)))
	if len(wantAdded) < 30 {
		t.Fatalf("3.14 adds only %d items to 7d34483879f0", len(wantAdded))
	}
	for _, d := range dialects {
		t.Run(string(d.dialect), func(t *testing.T) {
			ours := create(t, d, rev314)
			if d.dialect == schema.SQLite {
				// A table's SQL text shows the ALTERs that built it, so only the CHECK
				// constraints in it are compared.
				diff(t, checksOnly(ours), checksOnly(theirs), nil)
				return
			}
			got := columnsOf(added(create(t, d, rev311), ours))
			if strings.Join(got, "\n") != strings.Join(wantAdded, "\n") {
				t.Errorf("3.14 adds the columns\n%s\nwhere MLflow's 3.14 database adds\n%s", strings.Join(got, "\n"), strings.Join(wantAdded, "\n"))
			}
			indexes := declaredIndexes(t, rev314, d.dialect)
			if d.dialect == schema.MySQL {
				// MySQL's leftovers of 3.10 (schema/leftovers.go), which an SQLite
				// database has not: TestMariaDBChecksAsMLflowWritesThem compares them
				// with MLflow's own schema on MariaDB.
				indexes = slices.DeleteFunc(indexes, func(name string) bool { return name == "name" })
			}
			sort.Strings(indexes)
			if theirs := indexNames(t, real); strings.Join(indexes, " ") != strings.Join(theirs, " ") {
				t.Errorf("indexes\n%v\nwhere MLflow's 3.14 database has\n%v", indexes, theirs)
			}
		})
	}
}

// indexNames lists the named indexes of an SQLite database MLflow made.
func indexNames(t *testing.T, db *sql.DB) []string {
	rows, err := db.Query("SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		out = append(out, name)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

// checksOnly replaces the SQLite description's table SQL by the CHECK constraints in it.
func checksOnly(items []string) []string {
	check := regexp.MustCompile(`CHECK \(([^()]*(?:\([^()]*\))?[^()]*)\)`)
	var out []string
	for _, s := range items {
		table, sqlText, ok := strings.Cut(s, " CREATE TABLE ")
		if !ok {
			out = append(out, s)
			continue
		}
		for _, m := range check.FindAllStringSubmatch(sqlText, -1) {
			out = append(out, table+" check "+strings.ReplaceAll(m[1], `"`, ""))
		}
	}
	sort.Strings(out)
	return out
}

// added lists the description items of after that before lacks.
func added(before, after []string) []string {
	had := map[string]bool{}
	for _, s := range before {
		had[s] = true
	}
	var out []string
	for _, s := range after {
		if !had[s] {
			out = append(out, s)
		}
	}
	return out
}

// columnsOf reduces description items to the "table.column" of the columns among them.
func columnsOf(items []string) []string {
	col := regexp.MustCompile(`^(\w+\.\w+) `)
	var out []string
	for _, s := range items {
		if m := col.FindStringSubmatch(s); m != nil {
			out = append(out, m[1])
		}
	}
	sort.Strings(out)
	return out
}

// sqlDB lets describe read a database/sql handle.
type sqlDB struct{ db *sql.DB }

func (s sqlDB) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	return 0, errors.New("read-only")
}

func (s sqlDB) Query(ctx context.Context, query string, args ...any) (live.Rows, error) {
	return s.db.QueryContext(ctx, query, args...) //nolint:rowserrcheck,sqlclosecheck // the caller reads, checks and closes them
}

// derivedDumps are revisions MLflow has no dump of that are a dumped revision less
// what later migrations added: 3.11.1's head is 7d34483879f0 without the guardrail
// tables of ae8bbe7743c9 (and without indexes, which dumps leave out anyway).
var derivedDumps = map[string]struct {
	from    string
	without []string
}{
	"c3d6457b6d8a": {"7d34483879f0", []string{"guardrails", "guardrail_configs"}},
}

func dumpOf(t *testing.T, rev string, d schema.Dialect) []string {
	derived, ok := derivedDumps[rev]
	if !ok {
		return testenv.MLflowDump(t, rev, string(d))
	}
	var out []string
outer:
	for _, stmt := range testenv.MLflowDump(t, derived.from, string(d)) {
		for _, table := range derived.without {
			if strings.HasPrefix(stmt, "CREATE TABLE "+table+" (") {
				continue outer
			}
		}
		out = append(out, stmt)
	}
	return out
}

// mysqlUniqueKeys are the unique keys MLflow creates on MySQL that its dumps leave out.
var mysqlUniqueKeys = []string{"name", "unique_dataset_input"}

// TestMySQLUniqueKeys: on every creatable revision, MariaDB refuses what MLflow's unique
// keys refuse: a second experiment with a name in use.
func TestMySQLUniqueKeys(t *testing.T) {
	ctx := context.Background()
	for _, rev := range schema.CreatableRevisions(schema.MySQL) {
		t.Run(rev.ID, func(t *testing.T) {
			s := open(t, testenv.MySQL(t))
			tx, err := s.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = tx.Rollback(ctx) }()
			if err := live.Create(ctx, tx, schema.MySQL, rev, live.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
			if _, err := tx.Exec(ctx, "INSERT INTO experiments (name, lifecycle_stage) VALUES ('Default', 'active')"); err == nil {
				t.Error("a second experiment named Default was accepted")
			}
			// An unnamed foreign key gets MariaDB's names, as under MLflow's alembic:
			// constraint experiment_tags_ibfk_1, index experiment_id.
			var index string
			err = live.EachRow(ctx, tx, "SELECT INDEX_NAME FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'experiment_tags' AND INDEX_NAME <> 'PRIMARY'", nil,
				func(scan func(...any) error) error { return scan(&index) })
			if rev.HasTable("experiment_tags") && (err != nil || index != "experiment_id") {
				t.Errorf("experiment_tags' foreign-key index: %q, %v", index, err)
			}
			if rev.AtLeast("71994744cf8e") {
				var n int64
				err := live.EachRow(ctx, tx, "SELECT COUNT(*) FROM information_schema.TABLE_CONSTRAINTS WHERE TABLE_SCHEMA = DATABASE() AND CONSTRAINT_NAME = 'unique_dataset_input'", nil,
					func(scan func(...any) error) error { return scan(&n) })
				if err != nil || n != 1 {
					t.Errorf("unique_dataset_input: %d, %v", n, err)
				}
			}
		})
	}
}

func open(t *testing.T, uri string) sinks.Sink {
	s, err := all.Registry().Open(context.Background(), uri, sinks.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

var describeQueries = map[schema.Dialect][]string{
	schema.SQLite: {
		`SELECT m.name || '.' || p.name || ' ' || p.type || ' notnull=' || p."notnull" || ' default=' || COALESCE(p.dflt_value, '-') || ' pk=' || p.pk || ' hidden=' || p.hidden
		 FROM sqlite_master m, pragma_table_xinfo(m.name) p WHERE m.type = 'table'`,
		`SELECT m.name || ' fk ' || f."from" || '->' || f."table" || '.' || f."to" || ' ' || f.on_update || ' ' || f.on_delete
		 FROM sqlite_master m, pragma_foreign_key_list(m.name) f WHERE m.type = 'table'`,
		`SELECT m.name || ' index origin=' || i.origin || ' unique=' || i."unique" || ' cols=' || (SELECT group_concat(c.name) FROM pragma_index_info(i.name) c)
		 FROM sqlite_master m, pragma_index_list(m.name) i WHERE m.type = 'table' AND i.origin <> 'c'`,
		// CHECK constraints live only in the table's SQL: compare it, whitespace folded.
		`SELECT name || ' ' || sql FROM sqlite_master WHERE type = 'table'`,
	},
	schema.MySQL: {
		// The dumps do not show AUTO_INCREMENT (experiments.experiment_id has it): EXTRA is left out.
		`SELECT TABLE_NAME || '.' || COLUMN_NAME || ' ' || COLUMN_TYPE || ' null=' || IS_NULLABLE || ' default=' || COALESCE(COLUMN_DEFAULT, '-') ||
		 ' generated=' || IS_GENERATED FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE()`,
		`SELECT c.TABLE_NAME || ' ' || c.CONSTRAINT_NAME || ' ' || c.CONSTRAINT_TYPE || ' ' ||
		 COALESCE((SELECT GROUP_CONCAT(k.COLUMN_NAME || '->' || COALESCE(k.REFERENCED_TABLE_NAME, '') || '.' || COALESCE(k.REFERENCED_COLUMN_NAME, '') ORDER BY k.ORDINAL_POSITION)
		   FROM information_schema.KEY_COLUMN_USAGE k WHERE k.CONSTRAINT_SCHEMA = c.CONSTRAINT_SCHEMA AND k.TABLE_NAME = c.TABLE_NAME AND k.CONSTRAINT_NAME = c.CONSTRAINT_NAME), '') || ' ' ||
		 COALESCE((SELECT r.UPDATE_RULE || '/' || r.DELETE_RULE FROM information_schema.REFERENTIAL_CONSTRAINTS r WHERE r.CONSTRAINT_SCHEMA = c.CONSTRAINT_SCHEMA AND r.CONSTRAINT_NAME = c.CONSTRAINT_NAME AND r.TABLE_NAME = c.TABLE_NAME), '') || ' ' ||
		 COALESCE((SELECT ch.CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS ch WHERE ch.CONSTRAINT_SCHEMA = c.CONSTRAINT_SCHEMA AND ch.TABLE_NAME = c.TABLE_NAME AND ch.CONSTRAINT_NAME = c.CONSTRAINT_NAME), '')
		 FROM information_schema.TABLE_CONSTRAINTS c WHERE c.CONSTRAINT_SCHEMA = DATABASE()`,
	},
	schema.Postgres: {
		`SELECT table_name || '.' || column_name || ' ' || data_type || '(' || COALESCE(character_maximum_length::text, '') || ') null=' || is_nullable ||
		 ' default=' || COALESCE(column_default, '-') || ' generated=' || is_generated
		 FROM information_schema.columns WHERE table_schema = current_schema()`,
		`SELECT conrelid::regclass::text || ' ' || conname || ' ' || contype::text || ' ' || pg_get_constraintdef(oid)
		 FROM pg_constraint WHERE connamespace = current_schema()::regnamespace`,
	},
}

func describe(t *testing.T, db live.DB, d schema.Dialect) []string {
	return describeWith(t, db, describeQueries[d]...)
}

// describeWith runs queries that each return one text column, whitespace folded, sorted.
func describeWith(t *testing.T, db live.DB, queries ...string) []string {
	var out []string
	space := regexp.MustCompile(`\s+`)
	for _, q := range queries {
		rows, err := db.Query(context.Background(), q)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				t.Fatal(err)
			}
			out = append(out, space.ReplaceAllString(s, " "))
		}
		rows.Close()
	}
	sort.Strings(out)
	return out
}

// declaredIndexes are the index names in our DDL: MLflow's dumps leave indexes out, and
// MySQL lists unique indexes among constraints.
func declaredIndexes(t *testing.T, rev *schema.Revision, d schema.Dialect) []string {
	stmts, err := schema.Statements(rev, d)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	re := regexp.MustCompile(`^CREATE (?:UNIQUE )?INDEX (\w+)`)
	for _, s := range stmts {
		if m := re.FindStringSubmatch(s); m != nil {
			names = append(names, m[1])
		}
	}
	return names
}

func diff(t *testing.T, ours, theirs, indexes []string) {
	t.Helper()
	o, th := map[string]bool{}, map[string]bool{}
	for _, s := range ours {
		o[s] = true
	}
	for _, s := range theirs {
		th[s] = true
	}
	var problems []string
	for _, s := range theirs {
		if !o[s] {
			problems = append(problems, "missing: "+s)
		}
	}
outer:
	for _, s := range ours {
		if th[s] || strings.Contains(s, " index ") {
			continue
		}
		for _, name := range indexes {
			if strings.Contains(s, " "+name+" ") {
				continue outer
			}
		}
		problems = append(problems, "extra:   "+s)
	}
	if len(problems) > 0 {
		t.Errorf("schema differs from MLflow's dump in %d items:\n%s", len(problems), strings.Join(problems, "\n"))
	}
}

// TestCreateIndexes checks the indexes MLflow's migrations create, which the dumps
// compared above leave out.
func TestCreateIndexes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := open(t, testenv.SQLite(t))
	tx, _ := s.Begin(ctx)
	defer func() { _ = tx.Rollback(ctx) }()
	if err := live.Create(ctx, tx, schema.SQLite, schema.Newest(), live.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	rows, err := tx.Query(ctx, `SELECT i.name || ' unique=' || i."unique" FROM sqlite_master m, pragma_index_list(m.name) i WHERE m.type = 'table' AND i.origin = 'c'`)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		got[s] = true
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	rows.Close()
	for _, want := range []string{
		"index_metrics_run_uuid unique=0", "index_metrics_run_uuid_key_step unique=0", "index_latest_metrics_run_uuid unique=0",
		"index_params_run_uuid unique=0", "index_tags_run_uuid unique=0", "index_inputs_input_uuid unique=0",
		"idx_experiments_workspace_creation_time unique=0", "index_trace_info_experiment_id_timestamp_ms unique=0",
		"index_scorers_experiment_id_scorer_name unique=1", "unique_endpoint_model_linkage_mapping unique=1",
		"idx_model_version_tags_workspace_name_version unique=0",
	} {
		if !got[want] {
			t.Errorf("index %s missing", want)
		}
	}
	if len(got) != 67 {
		t.Errorf("%d indexes, MLflow's schema at %s has 67", len(got), schema.Newest().ID)
	}
}

func TestForRelease(t *testing.T) {
	t.Parallel()
	for version, want := range map[string]string{
		"1.0": "90e64c465722", "1.26": "bd07f7e963c5", "1.30": "97727af70f4d", "1.30.1": "97727af70f4d",
		"2.2.5": "97727af70f4d", "2.9": "acf3f17fdcc7", "2.13": "867495a8f9d4", "2.20": "0584bdc529eb",
		"3.0": "6953534de441", "3.1.0": "6953534de441", "3.1.1": "bda7b8c39065", "3.10.1": "1b5f0d9ad7c1",
		"3.11": "c3d6457b6d8a", "3.11.0": "c3d6457b6d8a", "3.11.1": "c3d6457b6d8a", "3.14": "b7e4c1a90f23", "3.14.0": "b7e4c1a90f23",
	} {
		r, err := schema.ForRelease(version)
		if err != nil || r.ID != want {
			t.Errorf("ForRelease(%s) = %v, %v; want %s", version, r, err, want)
		}
	}
	for _, bad := range []string{"9.0", "x.y", "0.9"} {
		if _, err := schema.ForRelease(bad); err == nil {
			t.Errorf("ForRelease(%s) found a revision", bad)
		}
	}
	// Every minor release from 1.0 to 3.14 gets a schema schema init creates on every
	// dialect; 3.12 and 3.13 at the heads real databases of theirs hold
	// (mlflow-reference/RELEASE-HEADS.md).
	var lines []string
	for minor := 0; minor <= 30; minor++ {
		lines = append(lines, fmt.Sprintf("1.%d", minor))
	}
	for minor := 0; minor <= 22; minor++ {
		lines = append(lines, fmt.Sprintf("2.%d", minor))
	}
	for minor := 0; minor <= 14; minor++ {
		lines = append(lines, fmt.Sprintf("3.%d", minor))
	}
	for _, version := range lines {
		r, err := schema.ForRelease(version)
		if want := map[string]string{"3.12": "7d34483879f0", "3.13": "da6fb0208061"}[version]; want != "" && (err != nil || r.ID != want) {
			t.Errorf("ForRelease(%s) = %v, %v; real databases of it are at %s", version, r, err, want)
		}
		if err != nil {
			t.Errorf("ForRelease(%s): %v", version, err)
			continue
		}
		for _, d := range []schema.Dialect{schema.SQLite, schema.Postgres, schema.MySQL} {
			if !schema.CanCreate(r, d) {
				t.Errorf("MLflow %s (%s) cannot be created on %s", version, r, d)
			}
		}
	}
}

func TestLimits(t *testing.T) {
	t.Parallel()
	for rev, want := range map[string]schema.ValueLimits{
		"bd07f7e963c5": {ParamValue: 250, TagValue: 5000, ExperimentTagValue: 5000},
		"97727af70f4d": {ParamValue: 500, TagValue: 5000, ExperimentTagValue: 5000},
		"acf3f17fdcc7": {ParamValue: 6000, TagValue: 5000, ExperimentTagValue: 5000, Truncates: true},
		"7d34483879f0": {ParamValue: 6000, TagValue: 8000, ExperimentTagValue: 5000, Truncates: true},
	} {
		r, _ := schema.Lookup(rev)
		if got := r.Limits(); got != want {
			t.Errorf("%s: %+v, want %+v", rev, got, want)
		}
	}
}

func TestCheckColumns(t *testing.T) {
	ctx := context.Background()
	for _, d := range dialects {
		t.Run(string(d.dialect), func(t *testing.T) {
			s := open(t, d.uri(t))
			tx, _ := s.Begin(ctx)
			defer func() { _ = tx.Rollback(ctx) }()
			if err := live.Create(ctx, tx, d.dialect, schema.Newest(), live.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
			if err := live.CheckColumns(ctx, tx, d.dialect, schema.Newest()); err != nil {
				t.Fatalf("a schema mlflow-bulk created fails the check: %v", err)
			}
			if _, err := tx.Exec(ctx, "ALTER TABLE runs DROP COLUMN deleted_time"); err != nil {
				t.Fatal(err)
			}
			err := live.CheckColumns(ctx, tx, d.dialect, schema.Newest())
			if err == nil || !strings.Contains(err.Error(), "runs.deleted_time is missing") {
				t.Fatalf("error %v", err)
			}
		})
	}
}

// TestOpenedBy: a release's revision names the release; one between releases says
// which release opens it after an upgrade, not a date.
func TestOpenedBy(t *testing.T) {
	head, _ := schema.Lookup("b7e4c1a90f23")
	between, _ := schema.Lookup("89d3d66ed43f")
	if got := head.OpenedBy(); got != "MLflow 3.14" {
		t.Errorf("b7e4c1a90f23: %s", got)
	}
	if got := between.OpenedBy(); !strings.Contains(got, "between MLflow 3.13 and 3.14") || !strings.Contains(got, "mlflow db upgrade") {
		t.Errorf("89d3d66ed43f: %s", got)
	}
}
