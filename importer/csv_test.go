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

// TestImportCSVLayouts imports a UI CSV whose numeric params come before the metrics,
// with a day-first date and a spreadsheet-escaped cell, and a runs CSV whose prefixes
// were removed, into every target: params, metrics and tags hold what the cells hold,
// value by value.
func TestImportCSVLayouts(t *testing.T) {
	const runA, runB = "a0000000000000000000000000000001", "b0000000000000000000000000000002"
	ui := writeFile(t, "ui.csv", "Start Time,Duration,Run ID,Name,Source Type,Source Name,User,Status,learning_rate,n_estimators,weight_decay,accuracy,learning_rate_final,owner\n"+
		"13-08-2024 09:05,2s,"+runA+",first,LOCAL,t.py,u,FINISHED,0.001,100,'-1,0.9,0.0001,ml\n"+
		"04-08-2024 14:28,1s,"+runB+",second,LOCAL,t.py,u,FINISHED,0.01,200,0.5,0.8,0.001,ml\n")
	stripped := writeFile(t, "runs.csv", "run_id,experiment_id,status,artifact_uri,start_time,end_time,loss,optimizer,mlflow.runName,mlflow.user\n"+
		"c0000000000000000000000000000003,1,FINISHED,s3://c,1700000000000,1700000001000,0.5,adam,bright-owl,alice\n")
	for _, target := range targets {
		t.Run(target.name, func(t *testing.T) {
			uri := target.uri(t)
			if _, err := importPaths(t, uri, importer.Options{}, ui, stripped); err != nil {
				t.Fatal(err)
			}
			d := openDB(t, uri)
			compareSets(t, "params", d.strRows(3, `SELECT run_uuid, "key", value FROM params`), []string{
				runA + "|learning_rate|0.001", runA + "|n_estimators|100", runA + "|weight_decay|-1",
				runB + "|learning_rate|0.01", runB + "|n_estimators|200", runB + "|weight_decay|0.5",
				"c0000000000000000000000000000003|optimizer|adam",
			})
			compareSets(t, "metrics", d.strRows(3, `SELECT run_uuid, "key", value FROM metrics`), []string{
				runA + "|accuracy|0.9", runA + "|learning_rate_final|0.0001", runB + "|accuracy|0.8", runB + "|learning_rate_final|0.001",
				"c0000000000000000000000000000003|loss|0.5",
			})
			compareSets(t, "tags owner", d.strRows(2, `SELECT run_uuid, value FROM tags WHERE "key" = 'owner'`), []string{runA + "|ml", runB + "|ml"})
			compareSets(t, "runs", d.strRows(4, "SELECT run_uuid, name, user_id, start_time FROM runs"), []string{
				runA + "|first|u|1723539900000", runB + "|second|u|1722781680000", "c0000000000000000000000000000003|bright-owl|alice|1700000000000",
			})
		})
	}
}
