package importer_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlflow-bulk/mlflow-bulk/importer"
	"github.com/mlflow-bulk/mlflow-bulk/internal/synth"
	"github.com/mlflow-bulk/mlflow-bulk/internal/testenv"
	"github.com/mlflow-bulk/mlflow-bulk/schema"
	"github.com/mlflow-bulk/mlflow-bulk/schema/live"
)

var dialectOf = map[string]string{"sqlite": "sqlite", "postgres": "postgresql", "mariadb": "mysql"}

// fromMLflowDump builds the target from MLflow's own dump of a revision, stamped with
// it and holding the Default experiment, as MLflow would have left it.
func fromMLflowDump(t *testing.T, uri, revision, dialect string) {
	stmts := testenv.MLflowDump(t, revision, dialect)
	stmts = append(stmts, "INSERT INTO alembic_version (version_num) VALUES ('"+revision+"')",
		"INSERT INTO experiments (experiment_id, name, artifact_location, lifecycle_stage) VALUES (0, 'Default', 'mlflow-artifacts:/0', 'active')")
	setUp(t, uri, stmts...)
}

// TestImportIntoMLflowCreatedDatabases imports every real file store into databases built
// from MLflow's own dumps, for each dumped revision and each dialect.
func TestImportIntoMLflowCreatedDatabases(t *testing.T) {
	for _, rev := range []string{"97727af70f4d", "acf3f17fdcc7", "0584bdc529eb", "7d34483879f0"} {
		r, _ := schema.Lookup(rev)
		for _, target := range targets {
			t.Run(rev+"/"+target.name, func(t *testing.T) {
				uri := target.uri(t)
				fromMLflowDump(t, uri, rev, dialectOf[target.name])
				var stores []string
				want := storeCounts{}
				for _, s := range fileStoreSamples {
					root := testenv.Sample(t, s)
					stores = append(stores, root)
					c := countStore(t, root)
					want.runs += c.runs
					want.metrics += c.metrics
					want.params += c.params
					want.latest += c.latest
					want.inputs += c.inputs
				}
				// What an older revision has no table for is left out as asked.
				report, err := importPaths(t, uri, importer.Options{SkipUnsupported: !r.HasTable("inputs")}, stores...)
				if err != nil {
					t.Fatal(err)
				}
				if report.SchemaCreated || !strings.HasPrefix(report.Revision, rev) {
					t.Errorf("report: schema created %v, revision %s", report.SchemaCreated, report.Revision)
				}
				d := openDB(t, uri)
				tables := map[string]int{"runs": want.runs, "metrics": want.metrics, "params": want.params, "latest_metrics": want.latest}
				if r.HasTable("inputs") {
					tables["inputs"] = want.inputs
				} else if got := report.Count("inputs"); got.Created != 0 || int(got.Skipped) != want.inputs {
					t.Errorf("inputs into a revision without the table: %+v", got)
				}
				for table, n := range tables {
					if got := d.count("SELECT COUNT(*) FROM " + table); got != n {
						t.Errorf("%s: %d rows, want %d", table, got, n)
					}
				}
			})
		}
	}
}

// TestOldRevisionLimits: MLflow 1.26 refused param values over 250 characters; an import
// into its schema does the same, on every database, naming the run and the key.
func TestOldRevisionLimits(t *testing.T) {
	long := strings.Repeat("é", 300)
	root := storeWith(t, map[string]string{"params/long": long, "params/short": "ok", "metrics/m": "1 2 3\n"})
	for _, target := range targets {
		t.Run(target.name, func(t *testing.T) {
			uri := target.uri(t)
			bd07, _ := schema.Lookup("bd07f7e963c5") // MLflow 1.25 to 1.27
			createAt(t, uri, bd07)
			_, err := importPaths(t, uri, importer.Options{}, root)
			if !errors.Is(err, importer.ErrInvalidInput) || !strings.Contains(err.Error(), `param "long" value is 300 characters`) ||
				!strings.Contains(err.Error(), "0123456789abcdef0123456789abcdef") || !strings.Contains(err.Error(), "over 250") {
				t.Fatalf("error %v", err)
			}
			report, err := importPaths(t, uri, importer.Options{SkipInvalid: true}, root)
			if err != nil || report.Count("runs").Rejected != 1 {
				t.Fatalf("skip-invalid: %v, %+v", err, report.Count("runs"))
			}
			d := openDB(t, uri)
			if n := d.count("SELECT COUNT(*) FROM params"); n != 0 {
				t.Errorf("%d params of the refused run written", n)
			}
		})
	}
}

// TestTruncationAsNewMLflow: MLflow 2.11 and later cut long run-tag values to the limit
// (8000 at the newest revision) and refuse long experiment tag values.
func TestTruncationAsNewMLflow(t *testing.T) {
	tag := strings.Repeat("x", 8999) + "🎉"
	root := storeWith(t, map[string]string{"tags/huge": tag, "metrics/m": "1 2 3\n"})
	for _, target := range targets {
		t.Run(target.name, func(t *testing.T) {
			uri := target.uri(t)
			report, err := importPaths(t, uri, importer.Options{}, root)
			if err != nil {
				t.Fatal(err)
			}
			d := openDB(t, uri)
			got := d.rows(`SELECT value FROM tags WHERE "key" = 'huge'`)
			if len(got) != 1 || got[0] != tag[:8000] {
				t.Errorf("tag not truncated to 8000 characters: %d", len(got[0]))
			}
			if !strings.Contains(fmt.Sprint(report.Skipped), `tag "huge" value truncated from 9000 to 8000`) {
				t.Errorf("truncation not reported: %v", report.Skipped)
			}
			// The note names the tag's own file, not the run's meta.yaml.
			for _, n := range report.Skipped {
				if strings.Contains(n.Reason, `tag "huge" value truncated`) && !strings.HasSuffix(n.Path, filepath.Join("tags", "huge")) {
					t.Errorf("the truncation names %s, not the tag's file", n.Path)
				}
			}
		})
	}
	expTag := storeWith(t, map[string]string{"metrics/m": "1 2 3\n"})
	setUpFile(t, expTag, "1/tags/description", strings.Repeat("d", 5001))
	for _, target := range targets {
		t.Run(target.name+"/experiment tag", func(t *testing.T) {
			_, err := importPaths(t, target.uri(t), importer.Options{}, expTag)
			if err == nil || !strings.Contains(err.Error(), `tag "description" value is 5001 characters`) {
				t.Fatalf("error %v", err)
			}
		})
	}
}

// TestUnknownRevision: a target at a revision mlflow-bulk has never seen, with a column
// and a table it has never heard of, is written without a flag; the report names the
// revision and the column left at its default. A required column it cannot fill, or a
// column it writes that is missing, stops the import before anything is written, naming
// the table and the column.
func TestUnknownRevision(t *testing.T) {
	root := storeWith(t, map[string]string{"params/p": "1", "metrics/m": "1 2 3\n"})
	for _, target := range targets {
		t.Run(target.name, func(t *testing.T) {
			uri := target.uri(t)
			// A first import creates the newest schema; then the database claims a revision
			// from the future, with a column and a table of its own.
			first, _ := synthStore(t, synth.Options{Runs: 1, Seed: 99})
			if _, err := importPaths(t, uri, importer.Options{}, first); err != nil {
				t.Fatal(err)
			}
			setUp(t, uri, "UPDATE alembic_version SET version_num = 'aaaabbbbcccc'",
				"ALTER TABLE runs ADD COLUMN future_flag VARCHAR(10)",
				"ALTER TABLE trace_info ADD COLUMN future_note VARCHAR(4096)",
				"CREATE TABLE future_registry (id VARCHAR(36) NOT NULL, PRIMARY KEY (id))")
			report, err := importPaths(t, uri, importer.Options{}, root)
			if err != nil || report.Count("params").Created != 1 {
				t.Fatalf("into an unknown revision: %v", err)
			}
			notes := strings.Join(report.Notices, "\n")
			if !strings.Contains(notes, "revision aaaabbbbcccc is unknown to mlflow-bulk") || !strings.Contains(notes+"\n", "left at their defaults: runs.future_flag, trace_info.future_note\n") {
				t.Errorf("the report does not name the revision and the column left at its default: %s", notes)
			}
			// verify judges the target by what its tables hold, as the import did.
			if r := verifyPaths(t, uri, root); len(r.Differences) != 0 || !strings.Contains(strings.Join(r.Notices, "\n"), "revision aaaabbbbcccc is unknown") {
				t.Errorf("verify of a target at an unknown revision: %v, notes %v", r.Differences, r.Notices)
			}
			runsBefore := count(t, uri, "runs")
			// A table a newer MLflow gave a column every row must fill (built anew: SQLite
			// cannot add a NOT NULL column without a default).
			setUp(t, uri, "DROP TABLE input_tags", "CREATE TABLE input_tags (input_uuid VARCHAR(36) NOT NULL, name VARCHAR(255) NOT NULL, "+
				"value VARCHAR(500) NOT NULL, future_required VARCHAR(10) NOT NULL, PRIMARY KEY (input_uuid, name))")
			_, err = importPaths(t, uri, importer.Options{}, storeWith(t, map[string]string{"params/q": "1"}))
			var required *schema.RequiredColumnError
			if !errors.As(err, &required) || !strings.Contains(err.Error(), "input_tags.future_required") {
				t.Fatalf("a required column mlflow-bulk cannot fill: %v", err)
			}
			if n := count(t, uri, "runs"); n != runsBefore {
				t.Errorf("%d runs after a refused import, %d before", n, runsBefore)
			}
			setUp(t, uri, "ALTER TABLE runs DROP COLUMN deleted_time")
			_, err = importPaths(t, uri, importer.Options{}, storeWith(t, map[string]string{"params/q": "1"}))
			if err == nil || !strings.Contains(err.Error(), "runs.deleted_time is missing") {
				t.Fatalf("a table without a column it writes: %v", err)
			}
		})
	}
}

// TestKnownRevisionChangedBehindIt: a target at a revision mlflow-bulk knows whose table
// gained a column every row must fill, or whose runs table is a view, stops the import
// before anything is written, saying which.
func TestKnownRevisionChangedBehindIt(t *testing.T) {
	root := storeWith(t, map[string]string{"params/p": "1", "metrics/m": "1 2 3\n"})
	uri := testenv.SQLite(t)
	createAt(t, uri, schema.Newest())
	setUp(t, uri, "DROP TABLE input_tags", "CREATE TABLE input_tags (input_uuid VARCHAR(36) NOT NULL, name VARCHAR(255) NOT NULL, "+
		"value VARCHAR(500) NOT NULL, site_required VARCHAR(10) NOT NULL, PRIMARY KEY (input_uuid, name))")
	_, err := importPaths(t, uri, importer.Options{}, root)
	var required *schema.RequiredColumnError
	if !errors.As(err, &required) || !required.Known || !strings.Contains(err.Error(), "input_tags.site_required") {
		t.Fatalf("a known revision with a required column of its own: %v", err)
	}
	if n := count(t, uri, "runs"); n != 0 {
		t.Errorf("%d runs written", n)
	}

	uri = testenv.SQLite(t)
	createAt(t, uri, schema.Newest())
	setUp(t, uri, "ALTER TABLE runs RENAME TO runs_data", "CREATE VIEW runs AS SELECT * FROM runs_data")
	if _, err := importPaths(t, uri, importer.Options{}, root); !errors.Is(err, live.ErrViewInPlace) || !strings.Contains(err.Error(), "runs") {
		t.Fatalf("runs is a view: %v", err)
	}
}
