package importer_test

import (
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlflow-bulk/mlflow-bulk/importer"
	"github.com/mlflow-bulk/mlflow-bulk/internal/testenv"
	"github.com/mlflow-bulk/mlflow-bulk/schema"
	"github.com/mlflow-bulk/mlflow-bulk/schema/live"
)

// mlflow315Database is an SQLite database with the schema a database MLflow 3.15.1
// wrote holds (its own DDL, from mlflow-reference), stamped 6f8d9c3b2a1e, holding an
// experiment with a run, and rows of 3.15's new tables and column: an MCP server with a
// version and an alias, and a budget policy with its target.
func mlflow315Database(t *testing.T) string {
	text, err := os.ReadFile(filepath.Join(filepath.Dir(testenv.Samples(t)), "mlflow-reference", "schemas-after-3.14", "6f8d9c3b2a1e", "sqlite.schema.sql"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "mlflow.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// The DDL holds a trigger, whose body has statements of its own: it runs whole.
	if _, err := db.Exec(string(text)); err != nil {
		t.Fatal(err)
	}
	run := strings.Repeat("c", 32)
	for _, stmt := range []string{
		"INSERT INTO alembic_version (version_num) VALUES ('6f8d9c3b2a1e')",
		"INSERT INTO experiments (experiment_id, name, artifact_location, lifecycle_stage, creation_time, last_update_time) VALUES (0, 'Default', 'mlflow-artifacts:/0', 'active', 1, 1)",
		"INSERT INTO experiments (experiment_id, name, artifact_location, lifecycle_stage, creation_time, last_update_time) VALUES (1, 'agents', 'mlflow-artifacts:/1', 'active', 2, 2)",
		"INSERT INTO runs (run_uuid, name, source_type, status, start_time, lifecycle_stage, artifact_uri, experiment_id) VALUES ('" + run + "', 'r', 'LOCAL', 'FINISHED', 5, 'active', 'mlflow-artifacts:/1/" + run + "/artifacts', 1)",
		"INSERT INTO params (key, value, run_uuid) VALUES ('lr', '0.1', '" + run + "')",
		"INSERT INTO metrics (key, value, timestamp, step, run_uuid, is_nan) VALUES ('loss', 0.5, 7, 0, '" + run + "', 0)",
		"INSERT INTO mcp_servers (name, display_name, created_at, last_updated_at) VALUES ('search', 'Search', 10, 10)",
		"INSERT INTO mcp_server_versions (name, version, version_major, version_minor, version_patch, version_prerelease_sort_key, server_json, created_at, last_updated_at) " +
			"VALUES ('search', '1.0.0', 1, 0, 0, '~', '{}', 11, 11)",
		"INSERT INTO mcp_server_aliases (name, alias, version) VALUES ('search', 'prod', '1.0.0')",
		"INSERT INTO budget_policies (budget_policy_id, budget_unit, budget_amount, duration_unit, duration_value, target_scope, budget_action, created_at, last_updated_at, target_value) " +
			"VALUES ('p1', 'USD', 10, 'DAYS', 1, 'USER', 'ALERT', 12, 12, 'alice')",
	} {
		if _, err := db.Exec(stmt); err != nil {
			t.Fatalf("%v: %s", err, stmt)
		}
	}
	return path
}

// TestRelease315DatabaseIntoEmptyTargets: a database MLflow 3.15.1 wrote goes into an
// empty target of every kind at its own revision, 6f8d9c3b2a1e, with every table and
// the rows of those 3.14 lacks, and the report says which revision was created and why.
func TestRelease315DatabaseIntoEmptyTargets(t *testing.T) {
	src := mlflow315Database(t)
	for _, target := range targets {
		t.Run(target.name, func(t *testing.T) {
			uri := target.uri(t)
			report, err := importPaths(t, uri, importer.Options{}, src)
			if err != nil {
				t.Fatal(err)
			}
			if !report.SchemaCreated || !strings.HasPrefix(report.Revision, "6f8d9c3b2a1e") {
				t.Errorf("schema created %v at %s, want 6f8d9c3b2a1e", report.SchemaCreated, report.Revision)
			}
			if notes := strings.Join(report.Notices, "\n"); !strings.Contains(notes, "the target was created at 6f8d9c3b2a1e (MLflow 3.15), the newest revision of the sources") {
				t.Errorf("the report does not say why the target is at 3.15: %s", notes)
			}
			d := openDB(t, uri)
			tables, err := live.Inspect(ctxT(t), d.tx, schema.Dialect(dialectOf[target.name]))
			if err != nil {
				t.Fatal(err)
			}
			if len(tables) < 59 {
				t.Errorf("the target has %d tables, MLflow 3.15.1's database 59", len(tables))
			}
			for query, want := range map[string]int{
				"SELECT COUNT(*) FROM runs": 1, "SELECT COUNT(*) FROM metrics": 1, "SELECT COUNT(*) FROM latest_metrics": 1,
				"SELECT COUNT(*) FROM mcp_servers": 1, "SELECT COUNT(*) FROM mcp_server_versions": 1, "SELECT COUNT(*) FROM mcp_server_aliases": 1,
				"SELECT COUNT(*) FROM budget_policies WHERE target_value = 'alice'": 1,
			} {
				if got := d.count(query); got != want {
					t.Errorf("%s: %d, want %d", query, got, want)
				}
			}
			d.close()
			if r := verifyPaths(t, uri, src); len(r.Differences) != 0 {
				t.Errorf("verify: %v", r.Differences)
			}
		})
	}
}

// TestSourceNewerThanCreatable: a source at a revision mlflow-bulk knows but does not
// create goes into an empty target at the newest revision before it that it creates; a
// source at a revision it does not know, into the newest schema it holds. Either way the
// report says the target is older than the source, and what to do.
func TestSourceNewerThanCreatable(t *testing.T) {
	for _, c := range []struct{ stamp, want string }{
		{"dc11669786a5", "75868b020152"},
		{"ffffeeee0001", "b7e4c1a90f23"},
	} {
		t.Run(c.stamp, func(t *testing.T) {
			src := mlflow315Database(t)
			setUp(t, "sqlite:///"+src, "UPDATE alembic_version SET version_num = '"+c.stamp+"'")
			report, err := importPaths(t, testenv.SQLite(t), importer.Options{SkipUnsupported: true}, src)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(report.Revision, c.want) {
				t.Errorf("created at %s, want %s", report.Revision, c.want)
			}
			if notes := strings.Join(report.Notices, "\n"); !strings.Contains(notes, "older than MLflow database "+src+" at "+c.stamp+", which mlflow-bulk does not create") {
				t.Errorf("the report does not say the target is older than the source: %s", notes)
			}
		})
	}
}
