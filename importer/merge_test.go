package importer_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlflow-bulk/mlflow-bulk/importer"
	"github.com/mlflow-bulk/mlflow-bulk/importer/rules"
	"github.com/mlflow-bulk/mlflow-bulk/internal/synth"
	"github.com/mlflow-bulk/mlflow-bulk/verify"
)

func appendFile(t *testing.T, path, text string) {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(text); err != nil {
		t.Fatal(err)
	}
}

func rewriteMeta(t *testing.T, runDir string, replace map[string]string) {
	path := filepath.Join(runDir, "meta.yaml")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	for i, l := range lines {
		key, _, _ := strings.Cut(l, ":")
		if v, ok := replace[key]; ok {
			lines[i] = key + ": " + v
		}
	}
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestNightlyMerge: a run still running at the first import gains points, a param and a
// tag, and ends; a second import brings the target to exactly what a clean import of
// the final store gives.
func TestNightlyMerge(t *testing.T) {
	for _, target := range targets {
		t.Run(target.name, func(t *testing.T) {
			root, _ := synthStore(t, syntheticOptions(5))
			run := runDirs(t, root)[0]
			rewriteMeta(t, run, map[string]string{"status": "1", "end_time": "null"})
			uri := target.uri(t)
			if _, err := importPaths(t, uri, importer.Options{}, root); err != nil {
				t.Fatal(err)
			}
			// The night's work: more points (a new latest), a NaN tie, a param, a tag, the end.
			appendFile(t, filepath.Join(run, "metrics", "metric_0"), "1800000000000 0.125 50\n1800000000001 nan 50\n1800000000001 0 50\n")
			setUpFile(t, run, "params/late_param", "7")
			setUpFile(t, run, "tags/note", "finished overnight")
			setUpFile(t, run, "metrics/new_metric", "1800000000000 3 0\n")
			rewriteMeta(t, run, map[string]string{"status": "3", "end_time": "1800000000100"})
			report, err := importPaths(t, uri, importer.Options{}, root)
			if err != nil {
				t.Fatal(err)
			}
			if c := report.Count("metrics"); c.Created != 4 {
				t.Errorf("metrics %+v, want the 4 new points", c)
			}
			if c := report.Count("params"); c.Created != 1 {
				t.Errorf("params %+v, want 1 new", c)
			}
			sameAsCleanImport(t, target.uri, uri, root)
		})
	}
}

// sameAsCleanImport checks that uri holds, table by table, exactly what an import of
// root into a new database of the same kind gives.
func sameAsCleanImport(t *testing.T, newTarget func(testing.TB) string, uri, root string) {
	t.Helper()
	clean := newTarget(t)
	if _, err := importPaths(t, clean, importer.Options{}, root); err != nil {
		t.Fatal(err)
	}
	want, got := targetContent(t, clean), targetContent(t, uri)
	for table, rows := range want {
		compareSets(t, table, got[table], rows)
	}
}

func TestParamConflict(t *testing.T) {
	for _, target := range targets {
		t.Run(target.name, func(t *testing.T) {
			root, _ := synthStore(t, syntheticOptions(6))
			run := runDirs(t, root)[1]
			uri := target.uri(t)
			if _, err := importPaths(t, uri, importer.Options{}, root); err != nil {
				t.Fatal(err)
			}
			setUpFile(t, run, "params/param_0", "changed")
			_, err := importPaths(t, uri, importer.Options{}, root)
			if err == nil || !strings.Contains(err.Error(), `param "param_0"`) || !strings.Contains(err.Error(), filepath.Base(run)) || !hasRemedy(err, importer.OptionOnParamConflict) {
				t.Fatalf("conflict: %v", err)
			}
			// A conflict with the target is not called invalid input to fix.
			if !errors.Is(err, importer.ErrTargetConflict) || errors.Is(err, importer.ErrInvalidInput) || strings.Contains(err.Error(), "fix the input") {
				t.Errorf("a conflict with the target reads as bad input: %v", err)
			}
			report, err := importPaths(t, uri, importer.Options{OnParamConflict: rules.ParamConflictKeepTarget}, root)
			if err != nil || !strings.Contains(strings.Join(noteReasons(report), " "), "the target's is kept") {
				t.Fatalf("keep-target: %v, %v", err, report.Skipped)
			}
			d := openDB(t, uri)
			if got := d.rows(`SELECT value FROM params WHERE run_uuid = ? AND "key" = 'param_0'`, filepath.Base(run)); len(got) != 1 || got[0] == "changed" {
				t.Errorf("param %v, want the target's", got)
			}
			d.close()
			if diffs := verifyPaths(t, uri, root).Differences; len(diffs) != 1 || diffs[0].Kind != "param differs" {
				t.Errorf("verify without keep-target: %+v", diffs)
			}
			if vr := verifyPathsWith(t, uri, verify.Options{OnParamConflict: rules.ParamConflictKeepTarget}, root); len(vr.Differences) != 0 || vr.Accepted.ParamsKept != 1 {
				t.Errorf("verify --on-param-conflict keep-target: %+v, accepted %+v", vr.Differences, vr.Accepted)
			}
			if _, err := importPaths(t, uri, importer.Options{OnExistingRun: rules.ExistingRunFail}, root); err == nil || !strings.Contains(err.Error(), "already in the target") {
				t.Errorf("--on-existing-run fail: %v", err)
			}
		})
	}
}

func noteReasons(r *importer.Report) []string {
	var out []string
	for _, n := range r.Skipped {
		out = append(out, n.Reason)
	}
	return out
}

// TestOneRunIDInTwoExperiments: two stores holding one run id in different experiments
// (one store's copy moved to another experiment) are not merged into one run, neither in
// one import nor in two: the second copy is a conflict with the target that names both
// experiments, and nothing of it is written.
func TestOneRunIDInTwoExperiments(t *testing.T) {
	a, _ := synthStore(t, synth.Options{Experiments: 2, Runs: 4, MetricKeys: 1, Steps: 2, Params: 1, Seed: 31})
	b := filepath.Join(t.TempDir(), "mlruns")
	if err := os.CopyFS(b, os.DirFS(a)); err != nil {
		t.Fatal(err)
	}
	moved, _ := filepath.Glob(filepath.Join(b, "1", strings.Repeat("[0-9a-f]", 32)))
	if len(moved) == 0 {
		t.Fatal("no run in experiment 1")
	}
	runID := filepath.Base(moved[0])
	meta, err := os.ReadFile(filepath.Join(moved[0], "meta.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(moved[0], filepath.Join(b, "2", runID)); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(b, "2", runID, "meta.yaml"), []byte(strings.Replace(string(meta), "experiment_id: '1'", "experiment_id: '2'", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	setUpFile(t, filepath.Join(b, "2", runID), "params/only_in_b", "1")
	for _, target := range targets {
		for name, imports := range map[string][][]string{"one import": {{a, b}}, "two imports": {{a}, {b}}} {
			t.Run(target.name+"/"+name, func(t *testing.T) {
				uri := target.uri(t)
				var err error
				for _, paths := range imports {
					if _, err = importPaths(t, uri, importer.Options{}, paths...); err != nil {
						break
					}
				}
				if !errors.Is(err, importer.ErrTargetConflict) || !strings.Contains(err.Error(), runID) || !strings.Contains(err.Error(), "MLflow keeps a run in one experiment") {
					t.Fatalf("the second copy: %v", err)
				}
				d := openDB(t, uri)
				defer d.close()
				if n := d.count(`SELECT COUNT(*) FROM params WHERE "key" = 'only_in_b'`); n != 0 {
					t.Errorf("the second copy's param was merged into the first")
				}
			})
		}
	}
}
