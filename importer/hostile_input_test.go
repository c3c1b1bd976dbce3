package importer_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/mlflow-bulk/mlflow-bulk/importer"
	"github.com/mlflow-bulk/mlflow-bulk/importer/rules"
	"github.com/mlflow-bulk/mlflow-bulk/internal/dburi"
	"github.com/mlflow-bulk/mlflow-bulk/internal/synth"
	"github.com/mlflow-bulk/mlflow-bulk/internal/testenv"
	"github.com/mlflow-bulk/mlflow-bulk/schema"
)

// TestInvalidUTF8IsInvalidInput: a param value and a metric key that are not UTF-8 are
// invalid input on every target alike, named by file and run, left out whole under
// --skip-invalid, never stored altered (MariaDB's LOAD DATA would have written '?').
func TestInvalidUTF8IsInvalidInput(t *testing.T) {
	root := filepath.Join(t.TempDir(), "mlruns")
	if _, err := synth.Write(context.Background(), root, synth.Options{Runs: 3, MetricKeys: 1, Steps: 3, Params: 1, Seed: 5}); err != nil {
		t.Fatal(err)
	}
	runs, _ := filepath.Glob(filepath.Join(root, "0", strings.Repeat("[0-9a-f]", 32)))
	if len(runs) != 3 {
		t.Fatalf("%d runs", len(runs))
	}
	setUpFile(t, runs[0], "params/bad", "ok\xff\xfebad")
	setUpFile(t, runs[1], "metrics/m\xc3(", "1700000000000 0.5 0\n")
	for _, target := range targets {
		t.Run(target.name, func(t *testing.T) {
			uri := target.uri(t)
			_, err := importPaths(t, uri, importer.Options{}, root)
			if !errors.Is(err, importer.ErrInvalidInput) || !strings.Contains(err.Error(), "not UTF-8") || !strings.Contains(err.Error(), filepath.Base(runs[0])) && !strings.Contains(err.Error(), filepath.Base(runs[1])) {
				t.Fatalf("err = %v", err)
			}
			report, err := importPaths(t, uri, importer.Options{SkipInvalid: true}, root)
			if err != nil {
				t.Fatal(err)
			}
			if c := report.Count("runs"); c.Rejected != 2 || c.Created != 1 {
				t.Errorf("runs %+v, rejected %+v", c, report.Rejected)
			}
			// The param's own file is named, not the run's meta.yaml.
			named := false
			for _, r := range report.Rejected {
				named = named || r.Path == filepath.Join(runs[0], "params", "bad")
			}
			if !named {
				t.Errorf("the bad param's file is not named: %+v", report.Rejected)
			}
			d := openDB(t, uri)
			defer d.close()
			if n := d.count("SELECT COUNT(*) FROM params WHERE value LIKE 'ok%bad'"); n != 0 {
				t.Errorf("%d altered params stored", n)
			}
			if n := d.count("SELECT COUNT(*) FROM runs"); n != 1 {
				t.Errorf("%d runs stored", n)
			}
		})
	}
	if _, err := os.Stat(root); err != nil {
		t.Fatal(err)
	}
}

// collidingStore writes a file store with experiments of the given names, one run each.
func collidingStore(t *testing.T, names ...string) string {
	root := filepath.Join(t.TempDir(), "mlruns")
	for i, name := range names {
		id := strconv.Itoa(i + 1)
		run := fmt.Sprintf("%032x", i+1)
		setUpFile(t, root, id+"/meta.yaml", "artifact_location: mlflow-artifacts:/"+id+"\nexperiment_id: '"+id+"'\nlifecycle_stage: active\nname: "+strconv.Quote(name)+"\n")
		setUpFile(t, root, id+"/"+run+"/meta.yaml", "artifact_uri: mlflow-artifacts:/"+id+"/"+run+"/artifacts\nexperiment_id: '"+id+"'\nlifecycle_stage: active\n"+
			"run_id: "+run+"\nrun_name: r"+id+"\nsource_type: 4\nstart_time: 1700000000000\nstatus: 3\nuser_id: u\n")
		setUpFile(t, root, id+"/"+run+"/params/p", id)
	}
	return root
}

// TestExperimentNamesOneUnderTheCollation: experiments whose names MariaDB's collation
// makes one are never merged: the second is an error naming both, or left out with its
// runs under --skip-invalid. PostgreSQL and SQLite keep them apart.
func TestExperimentNamesOneUnderTheCollation(t *testing.T) {
	pairs := [][2]string{{"Case-Exp", "case-exp"}, {"résumé", "resume"}, {"trail", "trail "}, {"x😀", "x😁"}}
	for _, target := range targets {
		t.Run(target.name, func(t *testing.T) {
			for _, pair := range pairs {
				root := collidingStore(t, pair[0], pair[1])
				uri := target.uri(t)
				_, err := importPaths(t, uri, importer.Options{}, root)
				if target.name != "mariadb" {
					if err != nil {
						t.Fatalf("%q and %q: %v", pair[0], pair[1], err)
					}
					if n := count(t, uri, "experiments"); n != 3 {
						t.Errorf("%q and %q: %d experiments", pair[0], pair[1], n)
					}
					continue
				}
				if !errors.Is(err, importer.ErrInvalidInput) || !strings.Contains(err.Error(), "under the target's collation") || !strings.Contains(err.Error(), strconv.Quote(pair[1])) {
					t.Errorf("%q and %q: %v", pair[0], pair[1], err)
				}
				report, err := importPaths(t, uri, importer.Options{SkipInvalid: true}, root)
				if err != nil {
					t.Fatal(err)
				}
				if c := report.Count("runs"); c.Rejected != 1 {
					t.Errorf("%q and %q: runs %+v", pair[0], pair[1], c)
				}
				d := openDB(t, uri)
				n := d.count("SELECT COUNT(*) FROM runs r JOIN experiments e ON e.experiment_id = r.experiment_id WHERE e.experiment_id <> 0")
				d.close()
				if n != 1 {
					t.Errorf("%q and %q: %d runs in the target, want the first experiment's one", pair[0], pair[1], n)
				}
			}
		})
	}
}

// TestRunInTwoExperiments: a run id that one file store holds in two experiments is
// not merged into the first: the second copy is invalid input naming both folders.
func TestRunInTwoExperiments(t *testing.T) {
	root := collidingStore(t, "first", "second")
	run := fmt.Sprintf("%032x", 1)
	setUpFile(t, root, "2/"+run+"/meta.yaml", "artifact_uri: mlflow-artifacts:/2/"+run+"/artifacts\nexperiment_id: '2'\nlifecycle_stage: active\n"+
		"run_id: "+run+"\nrun_name: copy\nsource_type: 4\nstart_time: 1700000000000\nstatus: 3\nuser_id: u\n")
	setUpFile(t, root, "2/"+run+"/params/other", "x")
	uri := testenv.SQLite(t)
	_, err := importPaths(t, uri, importer.Options{}, root)
	if !errors.Is(err, importer.ErrInvalidInput) || !strings.Contains(err.Error(), "also in experiment 1") || !strings.Contains(err.Error(), filepath.Join(root, "2", run)) {
		t.Fatalf("err = %v", err)
	}
	report, err := importPaths(t, uri, importer.Options{SkipInvalid: true}, root)
	if err != nil {
		t.Fatal(err)
	}
	if c := report.Count("runs"); c.Rejected != 1 || c.Created+c.Merged+c.Skipped != 2 {
		t.Errorf("runs %+v", c)
	}
	d := openDB(t, uri)
	defer d.close()
	if got := d.rows("SELECT \"key\" FROM params WHERE run_uuid = ?", run); strings.Join(got, ",") != "p" {
		t.Errorf("the run's params: %v (the copy's were merged in)", got)
	}
}

// TestKeysTheDatabaseMakesOne: MariaDB's collation decides which keys are one, beyond
// case and trailing spaces (é and e, ß and s, one emoji and another): they are handled
// by --on-key-collision, never a duplicate-key error from the server naming no input.
func TestKeysTheDatabaseMakesOne(t *testing.T) {
	uri := testenv.MySQL(t)
	root := collidingStore(t, "keys")
	run := fmt.Sprintf("%032x", 1)
	for key, value := range map[string]string{"k😀": "1", "k😁": "2", "café": "3", "cafe": "4", "straße": "5", "strase": "6"} {
		setUpFile(t, root, "1/"+run+"/params/"+key, value)
	}
	_, err := importPaths(t, uri, importer.Options{}, root)
	if !errors.Is(err, importer.ErrInvalidInput) || !strings.Contains(err.Error(), "are one key under the target's collation") || !strings.Contains(err.Error(), run) {
		t.Fatalf("fail policy: %v", err)
	}
	report, err := importPaths(t, uri, importer.Options{OnKeyCollision: rules.CollisionKeepFirst}, root)
	if err != nil {
		t.Fatalf("keep-first: %v", err)
	}
	// p (collidingStore's own), and one of each pair.
	if c := report.Count("params"); c.Created != 4 || c.Skipped != 3 || c.Read != c.Created+c.Skipped {
		t.Errorf("params %+v; skipped %+v", c, report.Skipped)
	}
	if n := count(t, uri, "params"); n != 4 {
		t.Errorf("%d params in the target", n)
	}
}

// TestDuplicateRowWhileKeysDeferred: a metric row stored twice while metrics' keys are
// off (a second writer, a kill at the wrong moment) no longer makes every later import
// fail building the key: the extra copy goes, and the report says so. PostgreSQL and
// SQLite defer the keys of a new database.
func TestDuplicateRowWhileKeysDeferred(t *testing.T) {
	for _, target := range targets {
		if target.name == "mariadb" {
			continue // keeps its keys live
		}
		t.Run(target.name, func(t *testing.T) {
			uri := target.uri(t)
			root := filepath.Join(t.TempDir(), "mlruns")
			st, err := synth.Write(context.Background(), root, synth.Options{Runs: 3, MetricKeys: 2, Steps: 10, Seed: 11})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := importPaths(t, uri, importer.Options{}, root); err != nil {
				t.Fatal(err)
			}
			dialect := schema.Postgres
			if target.name == "sqlite" {
				dialect = schema.SQLite
			}
			drop, _ := schema.DeferKeys(dialect, schema.Newest())
			if dialect == schema.SQLite {
				// SQLite's metrics is made again without its keys: keep its rows aside.
				drop = append(append([]string{"CREATE TABLE kept AS SELECT * FROM metrics"}, drop...), "INSERT INTO metrics SELECT * FROM kept", "DROP TABLE kept")
			}
			setUp(t, uri, append(drop, "INSERT INTO metrics SELECT * FROM metrics LIMIT 1")...)
			if n := count(t, uri, "metrics"); n != st.Metrics+1 {
				t.Fatalf("%d metric rows after the duplicate, want %d", n, st.Metrics+1)
			}
			report, err := importPaths(t, uri, importer.Options{})
			if err != nil {
				t.Fatalf("the import after a duplicate: %v", err)
			}
			said := false
			for _, n := range report.Notices {
				said = said || strings.Contains(n, "1 metric rows were in the target twice")
			}
			if !said {
				t.Errorf("notices: %v", report.Notices)
			}
			// The keys were left unbuilt, as an import interrupted while building them
			// leaves them: the report says this run built them.
			if !report.KeysFinished || !report.NothingNew() {
				t.Errorf("keys finished %v, nothing new %v: the report does not say the keys were built", report.KeysFinished, report.NothingNew())
			}
			if n := count(t, uri, "metrics"); n != st.Metrics {
				t.Errorf("%d metric rows, want %d", n, st.Metrics)
			}
			checkKeysBuilt(t, target.name, uri)
		})
	}
}

// TestKeyBuildWaitsForALiveWriter: building PostgreSQL's metrics keys while an MLflow
// server writes (a transaction that inserted a run and is about to log its metrics)
// neither deadlocks nor fails: the build takes its locks in the writer's order and waits.
func TestKeyBuildWaitsForALiveWriter(t *testing.T) {
	uri := testenv.Postgres(t)
	root := filepath.Join(t.TempDir(), "mlruns")
	if _, err := synth.Write(context.Background(), root, synth.Options{Runs: 2, MetricKeys: 1, Steps: 5, Seed: 13}); err != nil {
		t.Fatal(err)
	}
	if _, err := importPaths(t, uri, importer.Options{}, root); err != nil {
		t.Fatal(err)
	}
	drop, _ := schema.DeferKeys(schema.Postgres, schema.Newest())
	setUp(t, uri, drop...)
	u, err := dburi.Parse(uri)
	if err != nil {
		t.Fatal(err)
	}
	writer, err := sql.Open("pgx", u.PostgresURL())
	if err != nil {
		t.Fatal(err)
	}
	defer writer.Close()
	const run = "feedfacefeedfacefeedfacefeedface"
	holding, done := make(chan struct{}), make(chan error, 1)
	go func() {
		tx, err := writer.Begin()
		if err != nil {
			done <- err
			return
		}
		_, err = tx.Exec(`INSERT INTO runs (run_uuid, name, source_type, source_name, entry_point_name, user_id, status, start_time, source_version, lifecycle_stage, artifact_uri, experiment_id)
			VALUES ($1, 'live', 'LOCAL', '', '', 'u', 'RUNNING', 1, '', 'active', '', 0)`, run)
		close(holding)
		if err == nil {
			time.Sleep(300 * time.Millisecond) // the import starts building the keys meanwhile
			_, err = tx.Exec(`INSERT INTO metrics ("key", value, "timestamp", step, is_nan, run_uuid) VALUES ('live', 1, 1, 0, false, $1)`, run)
		}
		if err != nil {
			_ = tx.Rollback()
			done <- err
			return
		}
		done <- tx.Commit()
	}()
	<-holding
	if _, err := importPaths(t, uri, importer.Options{}); err != nil {
		t.Fatalf("building the keys beside a live writer: %v", err)
	}
	if err := <-done; err != nil {
		t.Fatalf("the live writer failed: %v", err)
	}
	d := openDB(t, uri)
	defer d.close()
	if n := d.count("SELECT COUNT(*) FROM pg_constraint WHERE conname = 'metric_pk'"); n != 1 {
		t.Errorf("metric_pk not built")
	}
	if n := d.count("SELECT COUNT(*) FROM metrics WHERE run_uuid = ?", run); n != 1 {
		t.Errorf("the live writer's metric is not there")
	}
}
