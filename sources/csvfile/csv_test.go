package csvfile_test

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mlflow-bulk/mlflow-bulk/drivers/all"
	"github.com/mlflow-bulk/mlflow-bulk/remedy"
	"github.com/mlflow-bulk/mlflow-bulk/sources"
	"github.com/mlflow-bulk/mlflow-bulk/sources/csvfile"
	"github.com/mlflow-bulk/mlflow-bulk/sources/database"
	"github.com/mlflow-bulk/mlflow-bulk/sources/formats"
	"github.com/mlflow-bulk/mlflow-bulk/sources/sourcetest"
)

func writeCSV(t *testing.T, name, content string) string {
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func readCSV(t *testing.T, path string, opts csvfile.Options) (runs []*sources.Run, points map[string][]sources.Metric, notices []string, invalid []*sources.InputError) {
	src, err := csvfile.Open(context.Background(), path, opts)
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
	runs, points, _, invalid := readCSV(t, path, csvfile.Options{})
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
	runs, _, notices, invalid := readCSV(t, path, csvfile.Options{})
	if len(invalid) != 0 || len(runs) != 3 {
		t.Fatalf("runs %d, invalid %v", len(runs), invalid)
	}
	if runs[0].Status != "FINISHED" || runs[1].Status != "FINISHED" || runs[2].Status != "KILLED" {
		t.Errorf("statuses %s %s %s", runs[0].Status, runs[1].Status, runs[2].Status)
	}
	var statusNotices []string
	for _, n := range notices {
		if strings.Contains(n, "status") {
			statusNotices = append(statusNotices, n)
		}
	}
	if len(statusNotices) != 1 || !strings.Contains(statusNotices[0], `line 2: status "Done"`) || !strings.Contains(statusNotices[0], "FINISHED") {
		t.Errorf("one notice for the unknown value, naming its first line: %q", notices)
	}
}

func TestUICSVRoles(t *testing.T) {
	content := "Start Time,Duration,Run ID,Name,Source Type,Source Name,User,Status,lr,optimizer,accuracy,loss,git\n" +
		"2021-12-08 00:32:32,1.5s," + runA + ",run a,LOCAL,train.py,amr,FINISHED,0.1,adam,0.9,0.2,abc\n"
	path := writeCSV(t, "ui.csv", content)
	runs, points, notices, _ := readCSV(t, path, csvfile.Options{})
	// The names fall into three sorted groups: params, metrics, tags.
	if n := strings.Join(notices, "\n"); !strings.Contains(n, `["lr" "optimizer"] read as params, ["accuracy" "loss"] as metrics, ["git"] as tags`) {
		t.Errorf("notice %v", notices)
	}
	if r := runs[0]; *r.EndTime-*r.StartTime != 1500 || r.Name != "run a" || r.UserID != "amr" {
		t.Errorf("run %+v", r)
	}
	if len(points[runA]) != 2 {
		t.Errorf("metrics %+v", points[runA])
	}
	// Named: lr is a metric after all, git a param.
	runs, points, notices, _ = readCSV(t, path, csvfile.Options{Metrics: []string{"lr"}, Params: []string{"git"}})
	if len(points[runA]) != 3 || len(runs[0].Params) != 2 {
		t.Errorf("named roles: metrics %+v params %+v notices %v", points[runA], runs[0].Params, notices)
	}
}

func TestLongCSV(t *testing.T) {
	path := writeCSV(t, "history.csv", "run_id,key,value,timestamp,step\n"+runA+",loss,0.5,10,0\n"+runA+",loss,nan,11,1\n"+runB+",acc,0.7,12,0\n"+runA+",loss,0.25,13,2\n"+runB+",acc,oops,14,1\n")
	runs, points, _, invalid := readCSV(t, path, csvfile.Options{})
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
		src, err := formats.Open(ctx, path, formats.Options{Database: database.Options{Drivers: all.Registry()}})
		if err != nil {
			t.Fatal(err)
		}
		return src
	})
}

// uiCSV is a UI "Download CSV" file with the given columns after the fixed ones.
func uiCSV(cols string, rows ...string) string {
	out := "Start Time,Duration,Run ID,Name,Source Type,Source Name,User,Status," + cols + "\n"
	for _, r := range rows {
		out += r + "\n"
	}
	return out
}

// TestUICSVSortOrder: params are told from metrics by where the sorted names break, not
// by their values: numeric params stay params, and a param never joins a metric's history.
func TestUICSVSortOrder(t *testing.T) {
	path := writeCSV(t, "ui.csv", uiCSV("batch_size,learning_rate,n_estimators,vocab_size,warmup_steps,weight_decay,accuracy,learning_rate_final,loss",
		"2024-08-04 14:28:00,2s,"+runA+",a,LOCAL,t.py,u,FINISHED,32,0.001,100,30000,500,0.01,0.9,0.0001,0.3"))
	runs, points, notices, invalid := readCSV(t, path, csvfile.Options{})
	if len(invalid) != 0 || len(runs) != 1 {
		t.Fatalf("runs %d, invalid %v", len(runs), invalid)
	}
	var params []string
	for _, p := range runs[0].Params {
		params = append(params, p.Key+"="+p.Value)
	}
	if got := strings.Join(params, ","); got != "batch_size=32,learning_rate=0.001,n_estimators=100,vocab_size=30000,warmup_steps=500,weight_decay=0.01" {
		t.Errorf("params: %s (notices %v)", got, notices)
	}
	if p := points[runA]; len(p) != 3 || p[0].Key != "accuracy" || p[1].Key != "learning_rate_final" || p[2].Key != "loss" {
		t.Errorf("metrics: %+v", p)
	}
	if !strings.Contains(strings.Join(notices, "\n"), "two sorted groups, which the UI writes as params and metrics") {
		t.Errorf("the report does not say how the columns were split: %v", notices)
	}
}

// TestUICSVSpreadsheetEscape: the UI writes '-1 for a cell a spreadsheet would read as a
// formula; the value is -1. Other apostrophes are data.
func TestUICSVSpreadsheetEscape(t *testing.T) {
	path := writeCSV(t, "ui.csv", uiCSV("note,offset,delta",
		"2024-08-04 14:28:00,2s,"+runA+",'=name,LOCAL,t.py,u,FINISHED,'quoted,'-1,'-0.5"))
	runs, points, _, invalid := readCSV(t, path, csvfile.Options{Params: []string{"note", "offset"}, Metrics: []string{"delta"}})
	if len(invalid) != 0 || len(runs) != 1 {
		t.Fatalf("runs %d, invalid %v", len(runs), invalid)
	}
	if r := runs[0]; r.Name != "=name" || r.Params[0].Value != "'quoted" || r.Params[1].Value != "-1" {
		t.Errorf("run %+v", r)
	}
	if p := points[runA]; len(p) != 1 || p[0].Value != -0.5 {
		t.Errorf("metrics %+v", p)
	}
}

// TestCSVDayFirstTimes: dates whose order only one reading allows are read that way for
// the whole column; dates both readings allow need --csv-time-format, and say so.
func TestCSVDayFirstTimes(t *testing.T) {
	row := func(start, id string) string { return start + ",1s," + id + ",,LOCAL,t.py,u,FINISHED,1" }
	path := writeCSV(t, "ui.csv", uiCSV("m", row("04-08-2024 14:28", runA), row("13-08-2024 09:05", runB)))
	runs, _, notices, invalid := readCSV(t, path, csvfile.Options{})
	if len(invalid) != 0 || len(runs) != 2 {
		t.Fatalf("runs %d, invalid %v", len(runs), invalid)
	}
	if *runs[0].StartTime != 1722781680000 || *runs[1].StartTime != 1723539900000 { // 2024-08-04 14:28 and 2024-08-13 09:05 UTC
		t.Errorf("day-first times: %d %d", *runs[0].StartTime, *runs[1].StartTime)
	}
	if !strings.Contains(strings.Join(notices, "\n"), "day first (DD-MM-YYYY)") {
		t.Errorf("the report does not say which order: %v", notices)
	}
	ambiguous := writeCSV(t, "ambiguous.csv", uiCSV("m", row("04-08-2024 14:28", runA)))
	runs, _, _, invalid = readCSV(t, ambiguous, csvfile.Options{})
	if len(runs) != 0 || len(invalid) != 1 || !slices.ContainsFunc(remedy.Of(invalid[0]), func(r remedy.Remedy) bool { return r.Option == csvfile.OptionTimeFormat }) {
		t.Fatalf("an ambiguous date: runs %d, invalid %v", len(runs), invalid)
	}
	runs, _, _, invalid = readCSV(t, ambiguous, csvfile.Options{TimeFormat: "%m-%d-%Y %H:%M"})
	if len(invalid) != 0 || len(runs) != 1 || *runs[0].StartTime != 1712586480000 { // 2024-04-08 14:28 UTC
		t.Fatalf("--csv-time-format: runs %+v (start %v), invalid %v", runs, *runs[0].StartTime, invalid)
	}
}

// TestSearchRunsCSVStrippedPrefixes: a runs CSV whose metrics./params./tags. prefixes
// were removed keeps every cell: metrics first, then params, tags from mlflow.* on; the
// flags win; the report counts the cells.
func TestSearchRunsCSVStrippedPrefixes(t *testing.T) {
	path := writeCSV(t, "runs.csv", "run_id,experiment_id,status,artifact_uri,start_time,end_time,loss,acc,optimizer,depth,mlflow.runName,mlflow.user,team\n"+
		runA+",1,FINISHED,s3://a,1700000000000,1700000001000,0.5,0.9,adam,3,bright-owl,alice,ml\n")
	runs, points, notices, invalid := readCSV(t, path, csvfile.Options{})
	if len(invalid) != 0 || len(runs) != 1 {
		t.Fatalf("runs %d, invalid %v", len(runs), invalid)
	}
	r := runs[0]
	if len(r.Params) != 2 || r.Params[0] != (sources.Tag{Key: "optimizer", Value: "adam"}) || len(r.Tags) != 3 || r.Name != "bright-owl" || r.UserID != "alice" {
		t.Errorf("run %+v", r)
	}
	if p := points[runA]; len(p) != 2 {
		t.Errorf("metrics %+v", p)
	}
	joined := strings.Join(notices, "\n")
	if !strings.Contains(joined, "13 non-empty cells read, 12 imported") || !strings.Contains(joined, `not imported: "experiment_id" (1 cells)`) {
		t.Errorf("cell counts: %v", notices)
	}
	runs, points, _, _ = readCSV(t, path, csvfile.Options{Params: []string{"acc"}})
	if len(runs[0].Params) != 3 || len(points[runA]) != 1 {
		t.Errorf("--csv-params acc: params %+v metrics %+v", runs[0].Params, points[runA])
	}
}

// TestCSVTimezone: a UI CSV's times name no zone: read as UTC, the report says so and
// names --csv-timezone; with it they are read in that zone (India is 5.5 h ahead of UTC);
// a zone that does not exist is refused.
func TestCSVTimezone(t *testing.T) {
	row := func(start, id string) string { return start + ",1s," + id + ",,LOCAL,t.py,u,FINISHED,1" }
	path := writeCSV(t, "ui.csv", uiCSV("m", row("2024-08-13 09:05:00", runA)))
	runs, _, notices, invalid := readCSV(t, path, csvfile.Options{})
	if len(invalid) != 0 || len(runs) != 1 || *runs[0].StartTime != 1723539900000 {
		t.Fatalf("as UTC: runs %d, invalid %v", len(runs), invalid)
	}
	if !strings.Contains(strings.Join(notices, "\n"), "read as UTC") || !strings.Contains(strings.Join(notices, "\n"), remedy.Mention(csvfile.OptionTimezone)) {
		t.Errorf("the report does not say the times were read as UTC: %v", notices)
	}
	runs, _, notices, invalid = readCSV(t, path, csvfile.Options{Timezone: "Asia/Kolkata"})
	if len(invalid) != 0 || len(runs) != 1 || *runs[0].StartTime != 1723539900000-5*3600_000-30*60_000 {
		t.Fatalf("in Asia/Kolkata: runs %d (%v), invalid %v", len(runs), runs, invalid)
	}
	if !strings.Contains(strings.Join(notices, "\n"), "read in Asia/Kolkata") {
		t.Errorf("the report does not name the zone: %v", notices)
	}
	var valueErr *remedy.ValueError
	if _, err := csvfile.Open(context.Background(), path, csvfile.Options{Timezone: "Mars/Olympus"}); !errors.As(err, &valueErr) || valueErr.Option != csvfile.OptionTimezone {
		t.Errorf("an unknown zone: %v", err)
	}
}

// TestSearchRunsCSVIntegerColumnsAreParams: in a runs CSV without prefixes, a numeric
// column written as integers (250, 10) after the metrics is a param, as search_runs
// writes every metric as a float (250.0); the report names the columns so decided.
func TestSearchRunsCSVIntegerColumnsAreParams(t *testing.T) {
	path := writeCSV(t, "runs.csv", "run_id,experiment_id,status,artifact_uri,start_time,end_time,rmse,r2,n_estimators,max_depth,criterion,mlflow.runName\n"+
		runA+",1,FINISHED,s3://a,1700000000000,1700000001000,5.0,0.93,250,10,gini,a\n"+
		runB+",1,FINISHED,s3://b,1700000000000,1700000001000,4.5,0.95,100,3,gini,b\n")
	runs, points, notices, invalid := readCSV(t, path, csvfile.Options{})
	if len(invalid) != 0 || len(runs) != 2 {
		t.Fatalf("runs %d, invalid %v", len(runs), invalid)
	}
	var params []string
	for _, p := range runs[0].Params {
		params = append(params, p.Key+"="+p.Value)
	}
	if strings.Join(params, ",") != "n_estimators=250,max_depth=10,criterion=gini" || len(points[runA]) != 2 {
		t.Errorf("params %v, metrics %+v", params, points[runA])
	}
	if joined := strings.Join(notices, "\n"); !strings.Contains(joined, `numeric columns written as integers ("n_estimators", "max_depth") were taken for params`) {
		t.Errorf("the report does not say how the integer columns were decided: %v", notices)
	}
}
