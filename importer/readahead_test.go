package importer_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/mlflow-bulk/mlflow-bulk/importer"
	"github.com/mlflow-bulk/mlflow-bulk/internal/synth"
)

// copyRun copies a run folder of a file store under a new run id.
func copyRun(t *testing.T, run, id string) {
	t.Helper()
	dst := filepath.Join(filepath.Dir(run), id)
	err := filepath.WalkDir(run, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(run, path)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	rewriteMeta(t, dst, map[string]string{"run_id": id, "run_uuid": id, "run_name": "copy-" + id[:6]})
}

// TestReadAheadMerge re-imports a store whose changed runs, new runs and runs the target
// already holds whole are spread over many small windows read ahead, with windows that
// end inside a run's history and stored histories past the window's budget. The target
// ends exactly as a clean import of the final store leaves it, and the report counts
// what changed.
func TestReadAheadMerge(t *testing.T) {
	defer importer.SetReadAhead(3, 50, 60)()
	for _, target := range targets {
		t.Run(target.name, func(t *testing.T) {
			root, _ := synthStore(t, synth.Options{Experiments: 2, Runs: 14, MetricKeys: 2, Steps: 20, Params: 2, Tags: 1, Seed: 21})
			runs := runDirs(t, root)
			changed := []string{runs[0], runs[4], runs[5], runs[9], runs[13]}
			for _, run := range changed {
				rewriteMeta(t, run, map[string]string{"status": "1", "end_time": "null"})
			}
			uri := target.uri(t)
			if _, err := importPaths(t, uri, importer.Options{}, root); err != nil {
				t.Fatal(err)
			}
			for i, run := range changed {
				appendFile(t, filepath.Join(run, "metrics", "metric_0"), fmt.Sprintf("18000000000%02d 0.5 %d\n", i, 100+i))
				setUpFile(t, run, "params/late", "7")
				setUpFile(t, run, "tags/note", "finished overnight")
				rewriteMeta(t, run, map[string]string{"status": "3", "end_time": "1800000000100"})
			}
			copyRun(t, runs[2], "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1")
			copyRun(t, runs[10], "fffffffffffffffffffffffffffffff2")
			report, err := importPaths(t, uri, importer.Options{}, root)
			if err != nil {
				t.Fatal(err)
			}
			n := int64(len(changed))
			if c := report.Count("runs"); c.Created != 2 || c.Merged != n || c.Skipped != int64(len(runs))-n {
				t.Errorf("runs %+v, want 2 new, %d merged, the rest already there", c, n)
			}
			if c := report.Count("metrics"); c.Created != n+2*40 {
				t.Errorf("metrics %+v, want a point for each changed run and the new runs' 80", c)
			}
			if c := report.Count("params"); c.Created != n+2*2 {
				t.Errorf("params %+v, want one per changed run and the new runs' 4", c)
			}
			if c := report.Count("tags"); c.Created < n {
				t.Errorf("tags %+v, want at least one per changed run", c)
			}
			sameAsCleanImport(t, target.uri, uri, root)
		})
	}
}

// TestNoOpReimportAsksPerWindow: re-importing an unchanged store asks the target about
// its runs a few queries per window of runs, not per run, and writes nothing.
func TestNoOpReimportAsksPerWindow(t *testing.T) {
	const window = 10
	defer importer.SetReadAhead(window, 100_000, 200_000)()
	for _, target := range targets {
		t.Run(target.name, func(t *testing.T) {
			root, st := synthStore(t, synth.Options{Experiments: 2, Runs: 60, MetricKeys: 1, Steps: 2, Params: 1, Tags: 1, Seed: 22})
			uri := target.uri(t)
			if _, err := importPaths(t, uri, importer.Options{}, root); err != nil {
				t.Fatal(err)
			}
			reads, restore := importer.CountRunReads()
			report, err := importPaths(t, uri, importer.Options{}, root)
			restore()
			if err != nil {
				t.Fatal(err)
			}
			if c := report.Count("runs"); c.Skipped != int64(st.Runs) || c.Created+c.Merged != 0 {
				t.Errorf("runs %+v, want all %d already there", c, st.Runs)
			}
			for _, entity := range []string{"params", "tags", "metrics", "latest_metrics"} {
				if c := report.Count(entity); c.Created+c.Merged != 0 {
					t.Errorf("%s %+v written by a no-op", entity, c)
				}
			}
			// A window is read in six queries (runs, params, tags, latest metrics, metric
			// counts, metrics); the experiments' runs split windows at most once each.
			windows := int64(st.Runs/window + st.Experiments)
			if got := reads.Load(); got > 6*windows || got < 6 {
				t.Errorf("%d reads of stored runs for %d runs, want at most %d (6 per window of %d)", got, st.Runs, 6*windows, window)
			}
		})
	}
}
