package importer_test

import (
	"encoding/csv"
	"os"
	"strings"
	"testing"

	"github.com/mlflow-bulk/mlflow-bulk/importer"
	"github.com/mlflow-bulk/mlflow-bulk/internal/testenv"
)

// TestImportCSVSamples: the runs CSV's params, metrics and tags land in their tables,
// cell for cell; the UI CSV is split params, metrics, tags as the UI wrote it.
func TestImportCSVSamples(t *testing.T) {
	searchRuns := testenv.Sample(t, "csv-alena-taxi-searchruns-2026/runs.csv")
	f, err := os.Open(searchRuns)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{}
	for _, row := range rows[1:] {
		for i, h := range rows[0] {
			for _, p := range []string{"params.", "metrics.", "tags."} {
				if strings.HasPrefix(h, p) && row[i] != "" {
					want[strings.TrimSuffix(p, ".")]++
				}
			}
		}
	}
	ui := testenv.Sample(t, "csv-amr-iris-ui-2021/runs.csv")
	for _, target := range targets {
		t.Run(target.name, func(t *testing.T) {
			uri := target.uri(t)
			if _, err := importPaths(t, uri, importer.Options{TargetExperiment: "offline"}, searchRuns); err != nil {
				t.Fatal(err)
			}
			d := openDB(t, uri)
			for table, n := range want {
				if got := d.count("SELECT COUNT(*) FROM " + table); got != n {
					t.Errorf("%s: %d rows, the CSV has %d cells", table, got, n)
				}
			}
			if got := d.rows("SELECT name FROM experiments WHERE experiment_id <> 0"); len(got) != 1 || got[0] != "offline" {
				t.Errorf("experiments %v, want the --target-experiment", got)
			}
			d.close()
			report, err := importPaths(t, uri, importer.Options{}, ui)
			if err != nil {
				t.Fatal(err)
			}
			if len(report.Notices) == 0 || !strings.Contains(strings.Join(report.Notices, " "), "as metrics") {
				t.Errorf("the report does not say how the UI CSV was split: %v", report.Notices)
			}
			d = openDB(t, uri)
			for table, key := range map[string]string{"params": "Requested Version", "metrics": "Requested Version Accuracy", "tags": "Requested Version path"} {
				if n := d.count(`SELECT COUNT(*) FROM `+table+` WHERE "key" = ?`, key); n != 2 {
					t.Errorf("%s %q: %d rows, want 2", table, key, n)
				}
			}
		})
	}
}

// TestLongCSVMergesIntoRuns: a long-format history adds points to runs the target has,
// leaving everything else of them as it was.
func TestLongCSVMergesIntoRuns(t *testing.T) {
	root, _ := synthStore(t, syntheticOptions(31))
	run := runDirs(t, root)[0]
	id := run[len(run)-32:]
	rewriteMeta(t, run, map[string]string{"status": "1", "end_time": "null"})
	history := writeFile(t, "history.csv", "run_id,key,value,timestamp,step\n"+id+",metric_0,9,1900000000000,999\n"+id+",extra,1,1900000000000,0\n")
	for _, target := range targets {
		t.Run(target.name, func(t *testing.T) {
			uri := target.uri(t)
			if _, err := importPaths(t, uri, importer.Options{}, root); err != nil {
				t.Fatal(err)
			}
			report, err := importPaths(t, uri, importer.Options{}, history)
			if err != nil {
				t.Fatal(err)
			}
			if c := report.Count("metrics"); c.Created != 2 {
				t.Errorf("metrics %+v", c)
			}
			d := openDB(t, uri)
			if got := d.rows("SELECT status FROM runs WHERE run_uuid = ?", id); len(got) != 1 || got[0] != "RUNNING" {
				t.Errorf("status %v: a metric history must not end a run", got)
			}
			if n := d.count(`SELECT COUNT(*) FROM latest_metrics WHERE run_uuid = ? AND "key" = 'metric_0' AND step = 999`, id); n != 1 {
				t.Errorf("latest_metrics of metric_0 is not the new point at step 999")
			}
		})
	}
}

func writeFile(t *testing.T, name, content string) string {
	p := t.TempDir() + "/" + name
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
