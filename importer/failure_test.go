package importer_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlflow-bulk/mlflow-bulk/drivers/all"
	"github.com/mlflow-bulk/mlflow-bulk/importer"
	"github.com/mlflow-bulk/mlflow-bulk/internal/importtest"
	"github.com/mlflow-bulk/mlflow-bulk/internal/synth"
	"github.com/mlflow-bulk/mlflow-bulk/internal/testenv"
	"github.com/mlflow-bulk/mlflow-bulk/schema"
	"github.com/mlflow-bulk/mlflow-bulk/schema/live"
	"github.com/mlflow-bulk/mlflow-bulk/sinks"
	"github.com/mlflow-bulk/mlflow-bulk/sources"
	"github.com/mlflow-bulk/mlflow-bulk/sources/database"
	"github.com/mlflow-bulk/mlflow-bulk/sources/formats"
)

// syntheticOptions is a small store; different seeds give different run ids.
func syntheticOptions(seed uint64) synth.Options {
	return synth.Options{Experiments: 2, Runs: 6, MetricKeys: 2, Steps: 20, Params: 2, Tags: 1, Seed: seed}
}

// synthStore writes a synthetic store and returns its root and what it holds.
func synthStore(t *testing.T, o synth.Options) (string, synth.Stats) {
	t.Helper()
	root := filepath.Join(t.TempDir(), "mlruns")
	st, err := synth.Write(context.Background(), root, o)
	if err != nil {
		t.Fatal(err)
	}
	return root, st
}

func runDirs(t *testing.T, root string) []string {
	dirs, err := filepath.Glob(filepath.Join(root, "*", strings.Repeat("[0-9a-f]", 32)))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no runs in %s: %v", root, err)
	}
	return dirs
}

func TestSyntheticStoreCounts(t *testing.T) {
	for _, target := range targets {
		t.Run(target.name, func(t *testing.T) {
			root, st := synthStore(t, synth.Options{Experiments: 2, Runs: 12, MetricKeys: 3, Steps: 250, Params: 4, Tags: 2, Special: true, Seed: 7})
			uri := target.uri(t)
			// A small batch forces many commits and early flushes of single runs.
			report, err := importPaths(t, uri, importer.Options{BatchRows: 100}, root)
			if err != nil {
				t.Fatal(err)
			}
			d := openDB(t, uri)
			for table, want := range map[string]int{"runs": st.Runs, "params": st.Params, "tags": st.Tags, "metrics": st.Metrics, "latest_metrics": st.LatestRows} {
				if got := d.count("SELECT COUNT(*) FROM " + table); got != want {
					t.Errorf("%s: %d rows, want %d", table, got, want)
				}
			}
			if dups := report.Count("metrics").Skipped; int(dups) != st.MetricLines-st.Metrics {
				t.Errorf("%d duplicate points skipped, the store has %d", dups, st.MetricLines-st.Metrics)
			}
			if n := d.count("SELECT COUNT(*) FROM metrics WHERE is_nan = ? AND value = 0", true); n == 0 {
				t.Error("no NaN point stored as value 0 with is_nan")
			}
			if n := d.count("SELECT COUNT(*) FROM metrics WHERE value = ?", 1.7976931348623157e308); n == 0 {
				t.Error("no +inf point stored as max float")
			}
			if n := d.count("SELECT COUNT(*) FROM metrics WHERE value = ?", -1.7976931348623157e308); n == 0 {
				t.Error("no -inf point stored as -max float")
			}
		})
	}
}

// breakMetricLine makes the last line of one metric file of run dir invalid.
func breakMetricLine(t *testing.T, runDir string) {
	path := filepath.Join(runDir, "metrics", "metric_1")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, append(data, []byte("123 not-a-number 9\n")...), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestInvalidInputStopsBeforeCommittingTheRun(t *testing.T) {
	for _, target := range targets {
		t.Run(target.name, func(t *testing.T) {
			root, _ := synthStore(t, synth.Options{Runs: 4, MetricKeys: 2, Steps: 50, Seed: 3})
			bad := runDirs(t, root)[1]
			badID := filepath.Base(bad)
			breakMetricLine(t, bad)
			uri := target.uri(t)
			_, err := importPaths(t, uri, importer.Options{}, root)
			var inErr *sources.InputError
			if !errors.Is(err, importer.ErrInvalidInput) || !errors.As(err, &inErr) {
				t.Fatalf("error %v is not an input error", err)
			}
			if inErr.RunID != badID || inErr.Line != 51 || !hasRemedy(err, importer.OptionSkipInvalid) {
				t.Errorf("error does not name run, line and the way out: %v", err)
			}
			d := openDB(t, uri)
			for _, table := range []string{"runs", "metrics", "params", "tags"} {
				if n := d.count("SELECT COUNT(*) FROM "+table+" WHERE run_uuid = ?", badID); n != 0 {
					t.Errorf("%d rows of the invalid run in %s", n, table)
				}
			}
			d.close()
			// An import stopped by bad input still leaves metrics with its keys.
			checkKeysBuilt(t, target.name, uri)
		})
	}
}

func TestSkipInvalidDropsTheRunWhole(t *testing.T) {
	for _, target := range targets {
		t.Run(target.name, func(t *testing.T) {
			// 2 keys × 400 points in one run exceed twice the batch size, so the run is
			// flushed under a savepoint before the bad line is read: it must vanish still.
			root, st := synthStore(t, synth.Options{Runs: 5, MetricKeys: 2, Steps: 400, Params: 2, Seed: 4})
			bad := runDirs(t, root)[2]
			breakMetricLine(t, bad)
			uri := target.uri(t)
			report, err := importPaths(t, uri, importer.Options{SkipInvalid: true, BatchRows: 200}, root)
			if err != nil {
				t.Fatal(err)
			}
			if len(report.Rejected) != 1 || report.Count("runs").Rejected != 1 || report.Count("runs").Created != int64(st.Runs-1) {
				t.Fatalf("report: rejected %+v, runs %+v", report.Rejected, report.Count("runs"))
			}
			d := openDB(t, uri)
			if n := d.count("SELECT COUNT(*) FROM runs"); n != st.Runs-1 {
				t.Errorf("%d runs, want %d", n, st.Runs-1)
			}
			for _, table := range []string{"runs", "metrics", "latest_metrics", "params", "tags"} {
				if n := d.count("SELECT COUNT(*) FROM "+table+" WHERE run_uuid = ?", filepath.Base(bad)); n != 0 {
					t.Errorf("%d rows of the rejected run in %s", n, table)
				}
			}
			if n := d.count("SELECT COUNT(*) FROM metrics"); n != (st.Runs-1)*2*400 {
				t.Errorf("%d metric rows, want %d", n, (st.Runs-1)*2*400)
			}
		})
	}
}

func TestCancelledImportCommitsNothingOfTheOpenBatch(t *testing.T) {
	for _, target := range targets {
		t.Run(target.name, func(t *testing.T) {
			root, _ := synthStore(t, synth.Options{Runs: 6, MetricKeys: 1, Steps: 10, Seed: 5})
			uri := target.uri(t)
			ctx, cancel := context.WithCancel(context.Background())
			sink, err := all.Registry().Open(ctx, uri, sinks.Options{})
			if err != nil {
				t.Fatal(err)
			}
			src, err := formats.Open(ctx, root, formats.Options{Database: database.Options{Drivers: all.Registry()}})
			if err != nil {
				t.Fatal(err)
			}
			runs := 0
			_, err = importer.Import(ctx, sink, []sources.Source{src}, importer.Options{Progress: func(p importer.Progress) {
				if runs++; runs == 3 {
					cancel()
				}
			}})
			src.Close()
			sink.Close()
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("error %v, want cancellation", err)
			}
			d := openDB(t, uri)
			if n := d.count("SELECT COUNT(*) FROM runs"); n != 0 {
				t.Errorf("%d runs committed from a cancelled batch", n)
			}
			if n := d.count("SELECT COUNT(*) FROM alembic_version"); n != 1 {
				t.Error("the schema created before the batch is gone")
			}
		})
	}
}

func TestExperimentIDs(t *testing.T) {
	for _, target := range targets {
		t.Run(target.name, func(t *testing.T) {
			heart := testenv.Sample(t, "heart-mlops-bigids-mlflow3/mlruns")
			lostpet := testenv.Sample(t, "lostpet-textintel-mlflow1.30/mlruns")
			uri := target.uri(t)
			report, err := importPaths(t, uri, importer.Options{}, heart, lostpet, heart)
			if err != nil {
				t.Fatal(err)
			}
			ids := map[string]importer.ExperimentMapping{}
			for _, m := range report.Experiments {
				ids[m.Name] = m
			}
			big := ids["heart-disease-exp"]
			if target.name == "sqlite" && (big.TargetID != 269502884478771284 || big.IDChanged) {
				t.Errorf("SQLite holds 18-digit ids, yet: %+v", big)
			}
			if target.name != "sqlite" && (big.TargetID > 1<<31-1 || !big.IDChanged) {
				t.Errorf("an INTEGER column cannot hold the id, yet: %+v", big)
			}
			// lostpet's experiment 0 is not named Default: an ordinary experiment, new id.
			zero := ids["Lost/Found classification of VK messages"]
			if zero.SourceID != "0" || zero.TargetID == 0 || zero.Action != "created" {
				t.Errorf("source experiment 0 with another name: %+v", zero)
			}
			if ids["Default"].TargetID != 0 || ids["Default"].Action != "merged" {
				t.Errorf("Default: %+v", ids["Default"])
			}
			// MLflow's next create_experiment lets the database choose the id (sequence,
			// AUTO_INCREMENT or rowid): it must not collide with an imported one.
			setUp(t, uri, "INSERT INTO experiments (name, lifecycle_stage) VALUES ('after-import', 'active')")
			d := openDB(t, uri)
			if n := d.count("SELECT COUNT(*) FROM experiments WHERE name = ? AND lifecycle_stage = 'deleted'", "Lost/Found classification of VK messages"); n != 1 {
				t.Error("an experiment from .trash is not deleted")
			}
			if n := d.count("SELECT COUNT(*) FROM experiments WHERE name <> 'after-import'"); n != 5 {
				t.Errorf("%d experiments, want 5 (the second heart import merges into the first)", n)
			}
			var next, maxID int64
			d.scanOne([]any{&next}, "SELECT experiment_id FROM experiments WHERE name = 'after-import'")
			d.scanOne([]any{&maxID}, "SELECT MAX(experiment_id) FROM experiments WHERE name <> 'after-import'")
			if next <= maxID {
				t.Errorf("the database gives id %d, but imported ids reach %d", next, maxID)
			}
		})
	}
}

func TestTargetChecks(t *testing.T) {
	ctx := context.Background()
	for _, target := range targets {
		t.Run(target.name+"/unknown revision", func(t *testing.T) {
			uri := target.uri(t)
			setUp(t, uri, "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)", "INSERT INTO alembic_version VALUES ('ffffffffffff')")
			root, _ := synthStore(t, synth.Options{Runs: 1, Seed: 1})
			_, err := importPaths(t, uri, importer.Options{}, root)
			var unknown *schema.UnknownRevisionError
			if !errors.As(err, &unknown) || !strings.Contains(err.Error(), "ffffffffffff") || !strings.Contains(err.Error(), "MLflow 1.0") {
				t.Fatalf("error %v does not name the revision and the supported releases", err)
			}
		})
		t.Run(target.name+"/not mlflow", func(t *testing.T) {
			uri := target.uri(t)
			setUp(t, uri, "CREATE TABLE other (x INTEGER)")
			root, _ := synthStore(t, synth.Options{Runs: 1, Seed: 1})
			if _, err := importPaths(t, uri, importer.Options{}, root); !errors.Is(err, live.ErrNotMLflow) {
				t.Fatalf("error %v, want ErrNotMLflow", err)
			}
		})
		t.Run(target.name+"/older revision", func(t *testing.T) {
			uri := target.uri(t)
			sink, err := all.Registry().Open(ctx, uri, sinks.Options{})
			if err != nil {
				t.Fatal(err)
			}
			tx, _ := sink.Begin(ctx)
			old, _ := schema.Lookup("97727af70f4d")
			if err := live.Create(ctx, tx, sink.Dialect(), old, live.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
			if err := tx.Commit(ctx); err != nil {
				t.Fatal(err)
			}
			sink.Close()
			root := testenv.Sample(t, "khangtt-zoomcamp-datasets-mlflow2/mlruns")
			// Datasets and inputs the target has no table for stop the import, as a
			// database's would, unless --skip-unsupported.
			if _, err := importPaths(t, uri, importer.Options{}, root); !errors.Is(err, importer.ErrUnsupported) || !strings.Contains(err.Error(), "datasets") {
				t.Fatalf("datasets into a revision without the table: %v", err)
			}
			report, err := importPaths(t, uri, importer.Options{SkipUnsupported: true}, root)
			if err != nil {
				t.Fatal(err)
			}
			if c := report.Count("inputs"); c.Created != 0 || c.Skipped != 12 {
				t.Errorf("inputs into a revision without the table: %+v", c)
			}
			if !strings.Contains(fmt.Sprint(report.Skipped), "datasets left out: the target's revision") {
				t.Errorf("the report does not say why datasets were left out: %+v", report.Skipped)
			}
			d := openDB(t, uri)
			if n := d.count("SELECT COUNT(*) FROM runs"); n != 6 {
				t.Errorf("%d runs, want 6", n)
			}
		})
	}
}

func setUp(t *testing.T, uri string, stmts ...string) {
	t.Helper()
	importtest.SetUp(t, uri, stmts...)
}

// TestMergeExperimentsByName imports two stores that share an experiment name: one
// experiment results, the runs of both, and tags the target has keep their value.
func TestMergeExperimentsByName(t *testing.T) {
	store := func(id, runID, tagValue string) string {
		root := filepath.Join(t.TempDir(), "mlruns")
		files := map[string]string{
			id + "/meta.yaml":                  "artifact_location: /a/" + id + "\nexperiment_id: '" + id + "'\nlifecycle_stage: active\nname: shared\n",
			id + "/tags/owner":                 tagValue,
			id + "/tags/only-" + id:            "x",
			id + "/" + runID + "/meta.yaml":    "artifact_uri: /a\nexperiment_id: '" + id + "'\nlifecycle_stage: active\nrun_id: " + runID + "\nrun_name: r\nstart_time: 1\nstatus: 3\nuser_id: u\n",
			id + "/" + runID + "/metrics/loss": "5 0.5 0\n",
		}
		for p, c := range files {
			setUpFile(t, root, p, c)
		}
		return root
	}
	a := store("4", strings.Repeat("a", 32), "alice")
	b := store("9", strings.Repeat("b", 32), "bob")
	for _, target := range targets {
		t.Run(target.name, func(t *testing.T) {
			uri := target.uri(t)
			report, err := importPaths(t, uri, importer.Options{}, a, b)
			if err != nil {
				t.Fatal(err)
			}
			if c := report.Count("experiments"); c.Created != 1 || c.Merged != 1 {
				t.Errorf("experiments %+v, want one created and one merged", c)
			}
			if c := report.Count("experiment_tags"); c.Created != 3 || c.Skipped != 1 {
				t.Errorf("experiment tags %+v", c)
			}
			d := openDB(t, uri)
			var id int64
			d.scanOne([]any{&id}, "SELECT experiment_id FROM experiments WHERE name = 'shared'")
			if id != 4 {
				t.Errorf("shared experiment has id %d, want the first source's 4", id)
			}
			if n := d.count("SELECT COUNT(*) FROM runs WHERE experiment_id = ?", id); n != 2 {
				t.Errorf("%d runs in the merged experiment, want 2", n)
			}
			if got := d.rows(`SELECT "key" || '=' || value FROM experiment_tags WHERE experiment_id = ?`, id); strings.Join(got, ",") != "only-4=x,only-9=x,owner=alice" {
				t.Errorf("tags %v", got)
			}
		})
	}
}
