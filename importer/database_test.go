package importer_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlflow-bulk/mlflow-bulk/drivers/all"
	"github.com/mlflow-bulk/mlflow-bulk/importer"
	"github.com/mlflow-bulk/mlflow-bulk/importer/rules"
	"github.com/mlflow-bulk/mlflow-bulk/internal/testenv"
	"github.com/mlflow-bulk/mlflow-bulk/schema"
	"github.com/mlflow-bulk/mlflow-bulk/schema/live"
	"github.com/mlflow-bulk/mlflow-bulk/sinks"
	"github.com/mlflow-bulk/mlflow-bulk/verify"
)

var sqliteSamples = []string{
	"sqlite-peco602-zoomcamp-mlflow1.26/02-experiment-tracking/mlflow.db",
	"sqlite-arnaud-p7sentiment-mlflow2.2x/notebooks/mlflow.db",
	"sqlite-bloodglucose-mlflow3/mlflow/mlflow.db",
}

// readOnly is a source database opened for assertions, read-only.
type readOnly struct{ db *sql.DB }

func (r readOnly) Query(ctx context.Context, query string, args ...any) (live.Rows, error) {
	return r.db.QueryContext(ctx, query, args...) //nolint:rowserrcheck,sqlclosecheck // the caller reads, checks and closes them
}

func openSQLiteReadOnly(t *testing.T, path string) (readOnly, *schema.Revision) {
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	rev, err := live.Detect(context.Background(), readOnly{db}, schema.SQLite)
	if err != nil || rev == nil {
		t.Fatalf("source revision: %v", err)
	}
	return readOnly{db}, rev
}

func (r readOnly) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	panic("read-only")
}

// TestMigrateSQLiteDatabases moves every real SQLite MLflow database into a new database
// on every target: table by table the target holds the source's rows, and the
// latest_metrics recomputed from the history equal the ones MLflow wrote.
func TestMigrateSQLiteDatabases(t *testing.T) {
	for _, sample := range sqliteSamples {
		path := testenv.Sample(t, sample)
		src, rev := openSQLiteReadOnly(t, path)
		want := content(t, src, rev)
		before, _ := os.Stat(path)
		for _, target := range targets {
			t.Run(strings.Split(sample, "/")[0]+"/"+target.name, func(t *testing.T) {
				uri := target.uri(t)
				report, err := importPaths(t, uri, importer.Options{}, "sqlite:///"+filepath.ToSlash(path))
				if err != nil {
					t.Fatal(err)
				}
				if len(report.LatestMetricDifferences) != 0 {
					t.Errorf("recomputed latest_metrics differ from MLflow's: %+v", report.LatestMetricDifferences[0])
				}
				d := openDB(t, uri)
				got := content(t, d.tx, rev)
				for table, rows := range want {
					compareSets(t, table, got[table], rows)
				}
				if rev.HasTable("datasets") {
					if n := d.count("SELECT COUNT(*) FROM datasets"); n > 0 && len(d.rows("SELECT dataset_uuid FROM datasets")) != n {
						t.Error("datasets lost")
					}
				}
			})
		}
		if after, _ := os.Stat(path); !after.ModTime().Equal(before.ModTime()) || after.Size() != before.Size() {
			t.Errorf("%s changed while being read", sample)
		}
		if _, err := os.Stat(path + "-journal"); err == nil {
			t.Errorf("%s: a journal was written", sample)
		}
	}
}

// TestServerRoundTrips moves a database PostgreSQL -> MariaDB and MariaDB -> PostgreSQL:
// every hop leaves the same content.
func TestServerRoundTrips(t *testing.T) {
	sample := testenv.Sample(t, sqliteSamples[2])
	pg := testenv.Postgres(t)
	if _, err := importPaths(t, pg, importer.Options{}, sample); err != nil {
		t.Fatal(err)
	}
	want := targetContent(t, pg)
	my := testenv.MySQL(t)
	if _, err := importPaths(t, my, importer.Options{}, pg); err != nil {
		t.Fatalf("PostgreSQL -> MariaDB: %v", err)
	}
	pg2 := testenv.Postgres(t)
	if _, err := importPaths(t, pg2, importer.Options{}, my); err != nil {
		t.Fatalf("MariaDB -> PostgreSQL: %v", err)
	}
	for name, uri := range map[string]string{"mariadb": my, "postgres again": pg2} {
		got := targetContent(t, uri)
		for table, rows := range want {
			if len(rows) == 0 {
				continue
			}
			compareSets(t, name+" "+table, got[table], rows)
		}
	}
}

// TestMergeDatabases consolidates two databases that share experiment names and a run:
// experiments merge by name, the shared run is written once, the rest all arrive.
func TestMergeDatabases(t *testing.T) {
	for _, target := range targets {
		t.Run(target.name, func(t *testing.T) {
			a := testenv.SQLite(t)
			b := testenv.SQLite(t)
			storeA, _ := synthStore(t, syntheticOptions(1))
			storeB, _ := synthStore(t, syntheticOptions(2))
			if _, err := importPaths(t, a, importer.Options{}, storeA); err != nil {
				t.Fatal(err)
			}
			// b holds storeB and, again, storeA's runs: one shared history.
			if _, err := importPaths(t, b, importer.Options{}, storeB, storeA); err != nil {
				t.Fatal(err)
			}
			uri := target.uri(t)
			report, err := importPaths(t, uri, importer.Options{}, a, b)
			if err != nil {
				t.Fatal(err)
			}
			runsA, runsB := count(t, a, "runs"), count(t, b, "runs")
			if c := report.Count("runs"); int(c.Created) != runsB || int(c.Skipped) != runsA {
				t.Errorf("runs %+v, want %d created and the %d shared ones found already there", c, runsB, runsA)
			}
			if c := report.Count("experiments"); c.Created != 2 || c.Merged != 4 {
				t.Errorf("experiments %+v, want synthetic-1 and -2 created once and merged otherwise", c)
			}
			if n := count(t, uri, "runs"); n != runsB {
				t.Errorf("%d runs in the target, want %d", n, runsB)
			}
		})
	}
}

func count(t *testing.T, uri, table string) int {
	d := openDB(t, uri)
	defer d.close()
	return d.count("SELECT COUNT(*) FROM " + table)
}

// TestDatabaseRowsVerbatim: a run MLflow 1.2x stored with an empty name and its name
// only in the tag keeps both as they are when it comes from an MLflow database.
func TestDatabaseRowsVerbatim(t *testing.T) {
	src := testenv.SQLite(t)
	old, _ := schema.Lookup("97727af70f4d")
	createAt(t, src, old)
	setUp(t, src,
		"INSERT INTO experiments (experiment_id, name, artifact_location, lifecycle_stage) VALUES (3, 'e', '/a', 'active')",
		"INSERT INTO runs (run_uuid, name, source_type, status, start_time, lifecycle_stage, artifact_uri, experiment_id) VALUES ('"+strings.Repeat("a", 32)+"', '', 'LOCAL', 'FINISHED', 1, 'active', '/a', 3)",
		"INSERT INTO tags (key, value, run_uuid) VALUES ('mlflow.runName', 'from-tag', '"+strings.Repeat("a", 32)+"')")
	for _, target := range targets {
		t.Run(target.name, func(t *testing.T) {
			uri := target.uri(t)
			if _, err := importPaths(t, uri, importer.Options{}, src); err != nil {
				t.Fatal(err)
			}
			d := openDB(t, uri)
			if got := d.rows("SELECT name FROM runs"); len(got) != 1 || got[0] != "" {
				t.Errorf("run name %q, want the source's empty name", got)
			}
			if got := d.rows(`SELECT value FROM tags WHERE "key" = 'mlflow.runName'`); len(got) != 1 || got[0] != "from-tag" {
				t.Errorf("tag %q", got)
			}
		})
	}
}

func createAt(t *testing.T, uri string, rev *schema.Revision) {
	ctx := context.Background()
	sink, err := all.Registry().Open(ctx, uri, sinks.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	tx, _ := sink.Begin(ctx)
	if err := live.Create(ctx, tx, sink.Dialect(), rev, live.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
}

// registryDB is a source database holding one registered model with the given versions
// (version -> source) and an alias on the first.
func registryDB(t *testing.T, versions map[int]string) string {
	return registryDBNamed(t, "churn", versions)
}

// registryDBNamed is registryDB with the model's name given.
func registryDBNamed(t *testing.T, name string, versions map[int]string) string {
	uri := testenv.SQLite(t)
	createAt(t, uri, schema.Newest())
	stmts := []string{fmt.Sprintf("INSERT INTO registered_models (name, creation_time, last_updated_time) VALUES ('%s', 1, 2)", name)}
	for v, src := range versions {
		stmts = append(stmts, fmt.Sprintf("INSERT INTO model_versions (name, version, creation_time, last_updated_time, current_stage, source, status) VALUES ('%s', %d, 1, 2, 'None', '%s', 'READY')", name, v, src))
	}
	stmts = append(stmts, fmt.Sprintf("INSERT INTO registered_model_aliases (alias, version, name) VALUES ('champion', 1, '%s')", name),
		fmt.Sprintf("INSERT INTO registered_model_tags (key, value, name) VALUES ('team', 'a', '%s')", name))
	setUp(t, uri, stmts...)
	return uri
}

func TestRegistryMergeByName(t *testing.T) {
	a := registryDB(t, map[int]string{1: "s3://models/a1"})
	same := registryDB(t, map[int]string{1: "s3://models/a1", 2: "s3://models/a2"})
	clash := registryDB(t, map[int]string{1: "s3://models/OTHER", 3: "s3://models/b3"})
	for _, target := range targets {
		t.Run(target.name, func(t *testing.T) {
			uri := target.uri(t)
			if _, err := importPaths(t, uri, importer.Options{}, a); err != nil {
				t.Fatal(err)
			}
			// The same model with one more version: merged, the new version added.
			report, err := importPaths(t, uri, importer.Options{}, same)
			if err != nil {
				t.Fatal(err)
			}
			if c := report.Count("model_versions"); c.Created != 1 || c.Skipped != 1 {
				t.Errorf("versions %+v, want 1 added and 1 already there", c)
			}
			// Another model of the same name: version 1 differs.
			_, err = importPaths(t, uri, importer.Options{}, clash)
			if err == nil || !strings.Contains(err.Error(), `registered model "churn": version 1 differs`) || !hasRemedy(err, importer.OptionOnModelConflict) {
				t.Fatalf("clash: %v", err)
			}
			report, err = importPaths(t, uri, importer.Options{OnModelConflict: rules.ModelConflictKeepTarget}, clash)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(fmt.Sprint(report.Skipped), "the target's is kept") {
				t.Errorf("conflict not reported: %v", report.Skipped)
			}
			d := openDB(t, uri)
			if got := d.rows("SELECT CAST(version AS CHAR(5)) || '=' || source FROM model_versions"); strings.Join(got, ",") != "1=s3://models/a1,2=s3://models/a2,3=s3://models/b3" {
				t.Errorf("versions %v", got)
			}
			if n := d.count("SELECT COUNT(*) FROM registered_models"); n != 1 {
				t.Errorf("%d registered models", n)
			}
			d.close()
			if vr := verifyPathsWith(t, uri, verify.Options{OnModelConflict: rules.ModelConflictKeepTarget}, clash); len(vr.Differences) != 0 || vr.Accepted.RegistryRowsKept == 0 {
				t.Errorf("verify --on-model-conflict keep-target: %+v, accepted %+v", vr.Differences, vr.Accepted)
			}
		})
	}
}

// TestSourceLatestMetricsDisagree: a source whose latest_metrics row is not the latest
// point of its history gets the recomputed row, and the report names run and key.
func TestSourceLatestMetricsDisagree(t *testing.T) {
	src := testenv.SQLite(t)
	createAt(t, src, schema.Newest())
	run := strings.Repeat("d", 32)
	setUp(t, src,
		"INSERT INTO experiments (experiment_id, name, artifact_location, lifecycle_stage) VALUES (4, 'e', '/a', 'active')",
		"INSERT INTO runs (run_uuid, name, source_type, status, start_time, lifecycle_stage, artifact_uri, experiment_id) VALUES ('"+run+"', 'r', 'LOCAL', 'FINISHED', 1, 'active', '/a', 4)",
		"INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan) VALUES ('loss', 0.5, 10, '"+run+"', 1, 0), ('loss', 0.25, 20, '"+run+"', 2, 0)",
		"INSERT INTO latest_metrics (key, value, timestamp, step, is_nan, run_uuid) VALUES ('loss', 0.5, 10, 1, 0, '"+run+"')")
	uri := testenv.SQLite(t)
	report, err := importPaths(t, uri, importer.Options{}, src)
	if err != nil {
		t.Fatal(err)
	}
	diffs := report.LatestMetricDifferences
	if len(diffs) != 1 || diffs[0].RunID != run || diffs[0].Key != "loss" || diffs[0].Recomputed.Step != 2 || diffs[0].SourceValue.Step != 1 {
		t.Fatalf("differences %+v", diffs)
	}
	d := openDB(t, uri)
	if got := d.rows(`SELECT CAST(step AS CHAR(3)) FROM latest_metrics`); len(got) != 1 || got[0] != "2" {
		t.Errorf("latest_metrics step %v, want the recomputed 2", got)
	}
}
