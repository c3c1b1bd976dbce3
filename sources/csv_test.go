package sources_test

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlflow-bulk/mlflow-bulk/sources"
	"github.com/mlflow-bulk/mlflow-bulk/sources/sourcetest"
)

func writeCSV(t *testing.T, name, content string) string {
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func readCSV(t *testing.T, path string, opts sources.Options) (runs []*sources.Run, points map[string][]sources.Metric, notices []string, invalid []*sources.InputError) {
	src, err := sources.Open(context.Background(), path, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	points = map[string][]sources.Metric{}
	for src.Next() {
		switch r := src.Record().(type) {
		case *sources.Run:
			runs = append(runs, r)
		case *sources.Metrics:
			points[r.RunID] = append(points[r.RunID], r.Points...)
		case *sources.Notice:
			notices = append(notices, r.Message)
		case *sources.Invalid:
			invalid = append(invalid, r.Err)
		}
	}
	if err := src.Err(); err != nil {
		t.Fatal(err)
	}
	return
}

const runA = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
const runB = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

func TestSearchRunsCSV(t *testing.T) {
	path := writeCSV(t, "nightly.csv", "\ufeffrun_id,experiment_id,status,artifact_uri,start_time,end_time,metrics.loss,params.note,params.depth,tags.mlflow.runName\r\n"+
		runA+",3,FINISHED,s3://a,2026-05-25 09:31:08.198000+00:00,2026-05-25 09:32:11.295000+00:00,0.5,\"two\r\nlines, with a comma\",None,first\r\n"+
		runB+",3,FAILED,,1700000000000,,,,,\r\n")
	runs, points, _, invalid := readCSV(t, path, sources.Options{})
	if len(invalid) != 0 || len(runs) != 2 {
		t.Fatalf("runs %d, invalid %v", len(runs), invalid)
	}
	a := runs[0]
	if a.RunID != runA || a.Status != "FINISHED" || *a.StartTime != 1779701468198 || *a.EndTime != 1779701531295 {
		t.Errorf("run a: %+v", a)
	}
	// Go's CSV reader turns a quoted field's CRLF into LF.
	if len(a.Params) != 2 || a.Params[0].Value != "two\nlines, with a comma" || a.Params[1].Value != "None" {
		t.Errorf("params (a quoted multi-line value, the text None): %q", a.Params)
	}
	if p := points[runA]; len(p) != 1 || p[0].Value != 0.5 || p[0].Timestamp != *a.EndTime || p[0].Step != 0 {
		t.Errorf("the latest value becomes one point at the end of the run: %+v", p)
	}
	b := runs[1]
	if len(b.Params) != 0 || len(b.Tags) != 0 || len(points[runB]) != 0 || *b.StartTime != 1700000000000 || b.EndTime != nil {
		t.Errorf("empty cells are 'not logged': %+v %v", b, points[runB])
	}
}

// TestCSVUnknownStatus: a status MLflow does not have is imported as FINISHED and named in
// the report once per value; MLflow's own statuses, in the UI's capitalisation, are kept.
func TestCSVUnknownStatus(t *testing.T) {
	runC := strings.Repeat("c", 32)
	path := writeCSV(t, "odd.csv", "run_id,status\n"+runA+",Done\n"+runB+",Done\n"+runC+",Killed\n")
	runs, _, notices, invalid := readCSV(t, path, sources.Options{})
	if len(invalid) != 0 || len(runs) != 3 {
		t.Fatalf("runs %d, invalid %v", len(runs), invalid)
	}
	if runs[0].Status != "FINISHED" || runs[1].Status != "FINISHED" || runs[2].Status != "KILLED" {
		t.Errorf("statuses %s %s %s", runs[0].Status, runs[1].Status, runs[2].Status)
	}
	if len(notices) != 1 || !strings.Contains(notices[0], `line 2: status "Done"`) || !strings.Contains(notices[0], "FINISHED") {
		t.Errorf("one notice for the unknown value, naming its first line: %q", notices)
	}
}

func TestUICSVRoles(t *testing.T) {
	content := "Start Time,Duration,Run ID,Name,Source Type,Source Name,User,Status,lr,optimizer,accuracy,loss,git\n" +
		"2021-12-08 00:32:32,1.5s," + runA + ",run a,LOCAL,train.py,amr,FINISHED,0.1,adam,0.9,0.2,abc\n"
	path := writeCSV(t, "ui.csv", content)
	runs, points, notices, _ := readCSV(t, path, sources.Options{})
	// Inferred: the last run of numeric columns (lr, accuracy and loss are numeric,
	// but optimizer breaks the run) is the metrics.
	if len(notices) != 1 || !strings.Contains(notices[0], `["lr" "optimizer"] as params`) || !strings.Contains(notices[0], `["accuracy" "loss"] as metrics`) {
		t.Errorf("notice %v", notices)
	}
	if r := runs[0]; *r.EndTime-*r.StartTime != 1500 || r.Name != "run a" || r.UserID != "amr" {
		t.Errorf("run %+v", r)
	}
	if len(points[runA]) != 2 {
		t.Errorf("metrics %+v", points[runA])
	}
	// Named: lr is a metric after all, git a param.
	runs, points, notices, _ = readCSV(t, path, sources.Options{CSVMetrics: []string{"lr"}, CSVParams: []string{"git"}})
	if len(points[runA]) != 3 || len(runs[0].Params) != 2 {
		t.Errorf("named roles: metrics %+v params %+v notices %v", points[runA], runs[0].Params, notices)
	}
}

func TestLongCSV(t *testing.T) {
	path := writeCSV(t, "history.csv", "run_id,key,value,timestamp,step\n"+runA+",loss,0.5,10,0\n"+runA+",loss,nan,11,1\n"+runB+",acc,0.7,12,0\n"+runA+",loss,0.25,13,2\n"+runB+",acc,oops,14,1\n")
	runs, points, _, invalid := readCSV(t, path, sources.Options{})
	if len(runs) != 3 || !runs[0].MetricsOnly || runs[2].RunID != runA {
		t.Errorf("a run record whenever the run changes: %+v", runs)
	}
	if p := points[runA]; len(p) != 3 || !math.IsNaN(p[1].Value) {
		t.Errorf("points %+v", p)
	}
	if len(invalid) != 1 || invalid[0].Line != 6 || invalid[0].RunID != runB {
		t.Errorf("invalid %v", invalid)
	}
}

func TestCSVConformance(t *testing.T) {
	path := writeCSV(t, "history.csv", "run_id,key,value,timestamp,step\n"+runA+",loss,0.5,10,0\n")
	sourcetest.Run(t, func(t *testing.T, ctx context.Context) sources.Source {
		src, err := sources.Open(ctx, path, sources.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return src
	})
}
