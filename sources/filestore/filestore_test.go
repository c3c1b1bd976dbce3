package filestore_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlflow-bulk/mlflow-bulk/internal/testenv"
	"github.com/mlflow-bulk/mlflow-bulk/sources"
	"github.com/mlflow-bulk/mlflow-bulk/sources/filestore"
	"github.com/mlflow-bulk/mlflow-bulk/sources/formats"
	"github.com/mlflow-bulk/mlflow-bulk/sources/sourcetest"
)

func TestParseMetricLine(t *testing.T) {
	tests := []struct {
		line      string
		value     float64
		ts, step  int64
		wantError string
	}{
		{line: "1656994881395 0.5", value: 0.5, ts: 1656994881395},
		{line: "1656994881395 1e-05 3", value: 1e-05, ts: 1656994881395, step: 3},
		{line: "10 3 -2", value: 3, ts: 10, step: -2},
		{line: "10 0.25 4 iris 3b5d1e", value: 0.25, ts: 10, step: 4},
		{line: "10 1_000.5 0", value: 1000.5, ts: 10},
		{line: "1_0 2 0", value: 2, ts: 10},
		{line: "10 Infinity 0", value: math.Inf(1), ts: 10},
		// What MLflow's reader refuses: run ids are in logged-model files only, Python's
		// float() reads no hexadecimal, fields are split at single spaces.
		{line: "10 0.25 4 0123456789abcdef0123456789abcdef", wantError: "4 fields"},
		{line: "10 0.25 4 0123456789abcdef0123456789abcdef iris 3b5d1e", wantError: "6 fields"},
		{line: "10 0x1p3 0", wantError: `value "0x1p3"`},
		{line: "10 1__0 0", wantError: `value "1__0"`},
		{line: "10  0.5 0", wantError: "4 fields"},
		{line: "-5 0.5 0", wantError: "negative timestamp -5"},
		{line: "10 inf 1", value: math.Inf(1), ts: 10, step: 1},
		{line: "10 -inf 1", value: math.Inf(-1), ts: 10, step: 1},
		{line: "10 1e999 1", value: math.Inf(1), ts: 10, step: 1},
		{line: "10", wantError: "1 fields"},
		{line: "1 2 3 4 5 6 7", wantError: "7 fields"},
		{line: "x 0.5 1", wantError: `timestamp "x"`},
		{line: "10 abc 1", wantError: `value "abc"`},
		{line: "10 0.5 1.5", wantError: `step "1.5"`},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			m, err := filestore.ParseMetricLine("loss", tt.line)
			if tt.wantError != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantError) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantError)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if m.Key != "loss" || m.Value != tt.value || m.Timestamp != tt.ts || m.Step != tt.step {
				t.Fatalf("got %+v", m)
			}
		})
	}
	m, err := filestore.ParseMetricLine("k", "10 nan 0")
	if err != nil || !math.IsNaN(m.Value) {
		t.Fatalf("nan: %+v %v", m, err)
	}
}

// writeStore writes files (path -> content) under a new root.
func writeStore(t *testing.T, files map[string]string) string {
	t.Helper()
	root := filepath.Join(t.TempDir(), "mlruns")
	for path, content := range files {
		p := filepath.Join(root, filepath.FromSlash(path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func readAll(t *testing.T, root string, opts filestore.Options) []sources.Record {
	t.Helper()
	src, err := filestore.Open(context.Background(), root, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var out []sources.Record
	for src.Next() {
		out = append(out, src.Record())
	}
	if err := src.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

const (
	run1x  = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	run130 = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	run3x  = "cccccccccccccccccccccccccccccccc"
)

// mixedStore holds the meta.yaml dialects of MLflow 1.x, 1.30 and 3.x in one store, and
// the things a reader must pass over.
func mixedStore(t *testing.T) string {
	return writeStore(t, map[string]string{
		"0/meta.yaml": "artifact_location: file:///m/0\nexperiment_id: '0'\nlifecycle_stage: active\nname: Default\n",
		// Before MLflow 1.0 experiment ids were written as integers.
		"1/meta.yaml": "artifact_location: /m/1\nexperiment_id: 1\nlifecycle_stage: active\nname: old\n",
		"1/" + run1x + "/meta.yaml": "artifact_uri: /m/1/" + run1x + "/artifacts\nend_time: 20\nentry_point_name: ''\nexperiment_id: 1\n" +
			"lifecycle_stage: active\nname: ''\nrun_uuid: " + run1x + "\nsource_name: ''\nsource_type: 4\nsource_version: ''\nstart_time: 10\nstatus: 3\ntags: []\nuser_id: u\n",
		"1/" + run1x + "/tags/mlflow.runName":          "legacy name",
		"1/" + run1x + "/params/optimizer/beta1":       "0.9",
		"1/" + run1x + "/params/multi":                 "line one\nline two\n",
		"1/" + run1x + "/metrics/loss":                 "100 0.5\n",
		"1/" + run1x + "/metrics/train/acc":            "100 0.1 0\n101 nan 1\n102 inf 2\n",
		"1/tags/mlflow.note.content":                   "about",
		"2/meta.yaml":                                  "artifact_location: file:///m/2\ncreation_time: 5\nexperiment_id: '2'\nlast_update_time: 6\nlifecycle_stage: active\nname: new\n",
		"2/" + run130 + "/meta.yaml":                   "artifact_uri: file:///m/2/" + run130 + "/artifacts\ndeleted_time: null\nend_time: null\nentry_point_name: ''\nexperiment_id: '2'\nlifecycle_stage: active\nrun_id: " + run130 + "\nrun_name: bright-owl-42\nrun_uuid: " + run130 + "\nsource_name: ''\nsource_type: 4\nsource_version: ''\nstart_time: 7\nstatus: 1\ntags: []\nuser_id: alice\n",
		"2/datasets/d1/meta.yaml":                      "digest: abc\nname: iris\nprofile: '{\"num_rows\":\n  150}'\nschema: null\nsource: '{\"uri\": \"s3://b/iris.csv\"}'\nsource_type: s3\n",
		"2/" + run130 + "/inputs/i1/meta.yaml":         "destination_id: d1\ndestination_type: RUN\nsource_id: d1\nsource_type: DATASET\ntags:\n  mlflow.data.context: training\n",
		"2/traces/t1/trace_info.yaml":                  "assessments: []\nexecution_time_ms: 5\nexperiment_id: '2'\nrequest_id: t1\nstatus: OK\ntimestamp_ms: 7\n",
		".trash/3/meta.yaml":                           "artifact_location: file:///m/3\nexperiment_id: '3'\nlifecycle_stage: active\nname: gone\n",
		".trash/3/" + run3x + "/meta.yaml":             "artifact_uri: file:///m/3/" + run3x + "/artifacts\ndeleted_time: 99\nend_time: 9\nentry_point_name: ''\nexperiment_id: '3'\nlifecycle_stage: deleted\nrun_id: " + run3x + "\nrun_name: r3\nsource_name: ''\nsource_type: 4\nsource_version: ''\nstart_time: 8\nstatus: 4\ntags: []\nuser_id: bob\n",
		".trash/3/.ipynb_checkpoints/x":                "",
		"models/m/meta.yaml":                           "name: registered\n",
		"dddddddddddddddddddddddddddddddd/artifacts/a": "x",
		".DS_Store": "",
	})
}

func TestFileStoreDialects(t *testing.T) {
	recs := readAll(t, mixedStore(t), filestore.Options{Options: sources.Options{MetricChunk: 2}})
	exps := map[string]*sources.Experiment{}
	runs := map[string]*sources.Run{}
	points := map[string][]sources.Metric{}
	var skipped []string
	var datasets []*sources.Dataset
	var traces []*sources.Trace
	var registered []*sources.RegisteredModel
	for _, r := range recs {
		switch r := r.(type) {
		case *sources.Trace:
			traces = append(traces, r)
		case *sources.RegisteredModel:
			registered = append(registered, r)
		case *sources.Experiment:
			exps[r.SourceID] = r
		case *sources.Run:
			runs[r.RunID] = r
		case *sources.Metrics:
			if len(r.Points) > 2 {
				t.Errorf("chunk of %d points, limit 2", len(r.Points))
			}
			points[r.RunID] = append(points[r.RunID], r.Points...)
		case *sources.Dataset:
			datasets = append(datasets, r)
		case *sources.Skipped:
			skipped = append(skipped, r.Path)
		case *sources.Invalid:
			t.Errorf("unexpected invalid input: %v", r.Err)
		}
	}
	if len(exps) != 4 || exps["1"].Name != "old" || exps["3"].LifecycleStage != "deleted" || *exps["2"].CreationTime != 5 {
		t.Fatalf("experiments: %+v", exps)
	}
	if exps["0"].CreationTime != nil {
		t.Error("experiment without creation_time got one")
	}
	if len(exps["1"].Tags) != 1 || exps["1"].Tags[0] != (sources.Tag{Key: "mlflow.note.content", Value: "about"}) {
		t.Errorf("experiment tags: %+v", exps["1"].Tags)
	}
	old := runs[run1x]
	if old == nil || old.Name != "" || old.Status != "FINISHED" || old.SourceType != "LOCAL" || old.ExperimentSourceID != "1" || *old.EndTime != 20 {
		t.Fatalf("1.x run: %+v", old)
	}
	wantParams := []sources.Tag{{Key: "multi", Value: "line one\nline two\n"}, {Key: "optimizer/beta1", Value: "0.9"}}
	if len(old.Params) != 2 || old.Params[0] != wantParams[0] || old.Params[1] != wantParams[1] {
		t.Errorf("params (nested keys, values verbatim): %+v", old.Params)
	}
	if p := points[run1x]; len(p) != 4 || p[0].Key != "loss" || p[0].Step != 0 || p[1].Key != "train/acc" || !math.IsNaN(p[2].Value) || !math.IsInf(p[3].Value, 1) {
		t.Errorf("metrics: %+v", p)
	}
	mid := runs[run130]
	if mid == nil || mid.Name != "bright-owl-42" || mid.Status != "RUNNING" || mid.EndTime != nil || mid.DeletedTime != nil {
		t.Fatalf("1.30 run: %+v", mid)
	}
	if len(mid.Inputs) != 1 || mid.Inputs[0].SourceID != "d1" || mid.Inputs[0].DestinationID != run130 || mid.Inputs[0].Tags[0].Value != "training" {
		t.Errorf("inputs: %+v", mid.Inputs)
	}
	if len(datasets) != 1 || datasets[0].Profile == nil || *datasets[0].Profile != `{"num_rows": 150}` || datasets[0].Schema != nil {
		t.Errorf("dataset with a folded YAML value: %+v", datasets)
	}
	new3 := runs[run3x]
	if new3 == nil || new3.Status != "FAILED" || new3.LifecycleStage != "deleted" || *new3.DeletedTime != 99 {
		t.Fatalf("3.x run: %+v", new3)
	}
	joined := strings.Join(skipped, "\n")
	if len(traces) != 1 || traces[0].RequestID != "t1" || traces[0].ExperimentSourceID != "2" {
		t.Errorf("traces: %+v", traces)
	}
	if len(registered) != 1 || registered[0].Name != "registered" {
		t.Errorf("registered models: %+v", registered)
	}
	for _, want := range []string{".DS_Store", "dddddddddddddddddddddddddddddddd", ".ipynb_checkpoints"} {
		if !strings.Contains(joined, want) {
			t.Errorf("%s not reported as skipped; skipped: %s", want, joined)
		}
	}
}

func TestFileStoreInvalidInput(t *testing.T) {
	root := mixedStore(t)
	if err := os.WriteFile(filepath.Join(root, "1", run1x, "metrics", "loss"), []byte("100 0.5 0\n101 oops 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "2", run130, "meta.yaml"), []byte("run_id: ["), 0o644); err != nil {
		t.Fatal(err)
	}
	var invalid []*sources.InputError
	for _, r := range readAll(t, root, filestore.Options{}) {
		if inv, ok := r.(*sources.Invalid); ok {
			invalid = append(invalid, inv.Err)
		}
	}
	if len(invalid) != 2 {
		t.Fatalf("got %d invalid records, want 2: %v", len(invalid), invalid)
	}
	metric := invalid[0]
	if metric.Line != 2 || metric.RunID != run1x || !strings.HasSuffix(metric.File, filepath.Join("metrics", "loss")) {
		t.Errorf("metric error does not point at file, line and run: %v", metric)
	}
	if !strings.Contains(metric.Error(), "loss:2: run "+run1x) {
		t.Errorf("message %q lacks file:line and run", metric.Error())
	}
	if yamlErr := invalid[1]; !strings.HasSuffix(yamlErr.File, "meta.yaml") || yamlErr.Line == 0 {
		t.Errorf("YAML error without file and line: %v", yamlErr)
	}
}

func TestFileStoreEmptyMetricFile(t *testing.T) {
	root := mixedStore(t)
	if err := os.WriteFile(filepath.Join(root, "1", run1x, "metrics", "loss"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, r := range readAll(t, root, filestore.Options{}) {
		if inv, ok := r.(*sources.Invalid); ok && strings.Contains(inv.Err.Error(), "no data") {
			return
		}
	}
	t.Fatal("an empty metric file was not reported as invalid")
}

func TestFileStoreNeverWrites(t *testing.T) {
	root := mixedStore(t)
	before := snapshot(t, root)
	readAll(t, root, filestore.Options{})
	if after := snapshot(t, root); after != before {
		t.Fatal("reading changed the store")
	}
}

func snapshot(t *testing.T, root string) string {
	var b strings.Builder
	_ = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error { // errors skip the entry
		info, _ := d.Info()
		b.WriteString(p + info.ModTime().String() + "\n")
		return nil
	})
	return b.String()
}

func TestOpenRejectsNonStores(t *testing.T) {
	_, err := formats.Open(context.Background(), t.TempDir(), formats.Options{})
	if !errors.Is(err, sources.ErrNotRecognised) {
		t.Fatalf("empty folder: %v", err)
	}
}

func TestFileStoreConformance(t *testing.T) {
	t.Run("synthetic", func(t *testing.T) {
		root := mixedStore(t)
		sourcetest.Run(t, func(t *testing.T, ctx context.Context) sources.Source {
			src, err := formats.Open(ctx, "file://"+root, formats.Options{Options: sources.Options{MetricChunk: 1}})
			if err != nil {
				t.Fatal(err)
			}
			return src
		})
	})
	for _, sample := range []string{"packt-hyperparam-mlflow1.x", "lostpet-textintel-mlflow1.30", "khangtt-zoomcamp-datasets-mlflow2", "heart-mlops-bigids-mlflow3"} {
		t.Run(sample, func(t *testing.T) {
			root := testenv.Sample(t, sample+"/mlruns")
			sourcetest.Run(t, func(t *testing.T, ctx context.Context) sources.Source {
				src, err := filestore.Open(ctx, root, filestore.Options{})
				if err != nil {
					t.Fatal(err)
				}
				return src
			})
		})
	}
}

func TestFromRecordsConformance(t *testing.T) {
	recs := []sources.Record{
		&sources.Experiment{SourceID: "1", Name: "e", LifecycleStage: "active"},
		&sources.Run{RunID: "r", ExperimentSourceID: "1", Status: "FINISHED"},
		&sources.Metrics{RunID: "r", Points: []sources.Metric{{Key: "k", Value: 1}}},
	}
	sourcetest.Run(t, func(t *testing.T, _ context.Context) sources.Source { return sources.FromRecords("records", recs) })
}

// TestFileStoreWorkersKeepOrder: reading runs on several goroutines gives the very same
// stream, record for record, as reading on one.
func TestFileStoreWorkersKeepOrder(t *testing.T) {
	roots := []string{mixedStore(t)}
	for _, sample := range []string{"packt-hyperparam-mlflow1.x", "lostpet-textintel-mlflow1.30", "khangtt-zoomcamp-datasets-mlflow2", "heart-mlops-bigids-mlflow3"} {
		roots = append(roots, testenv.Sample(t, sample+"/mlruns"))
	}
	render := func(recs []sources.Record) []string {
		var out []string
		for _, r := range recs {
			switch x := r.(type) {
			case *sources.Metrics:
				out = append(out, fmt.Sprintf("metrics %s %v", x.RunID, x.Points))
			case *sources.Invalid:
				out = append(out, "invalid "+x.Err.Error())
			default:
				b, err := json.Marshal(x)
				if err != nil {
					t.Fatal(err)
				}
				out = append(out, fmt.Sprintf("%T %s", r, b))
			}
		}
		return out
	}
	for _, root := range roots {
		one := render(readAll(t, root, filestore.Options{Workers: 1, Options: sources.Options{MetricChunk: 3}}))
		for _, workers := range []int{2, 4, 16} {
			many := render(readAll(t, root, filestore.Options{Workers: workers, Options: sources.Options{MetricChunk: 3}}))
			if strings.Join(one, "\n") != strings.Join(many, "\n") {
				t.Errorf("%s with %d workers: the stream differs (%d records, want %d)", root, workers, len(many), len(one))
			}
		}
		sourcetest.Run(t, func(t *testing.T, ctx context.Context) sources.Source {
			src, err := filestore.Open(ctx, root, filestore.Options{Workers: 4})
			if err != nil {
				t.Fatal(err)
			}
			return src
		})
	}
}

// TestFileStoreEntitiesAfterRuns: logged models, traces and registered models come after
// every run of the store, trashed ones included; bad files among them are invalid input
// naming file and line.
func TestFileStoreEntitiesAfterRuns(t *testing.T) {
	root := mixedStore(t)
	extra := map[string]string{
		"2/models/m-1/meta.yaml":         "experiment_id: '2'\nmodel_id: m-1\nname: m\nstatus: 2\n",
		"2/models/m-1/metrics/loss":      "1 0.5 0 " + run130 + "\n2 0.4 1 " + run130 + " ds\n",
		"2/models/m-2/meta.yaml":         "experiment_id: '2'\nmodel_id: m-2\nname: ok\nstatus: FAILED\n",
		"models/bad/meta.yaml":           "aliases:\n  a: '2'\nname: bad\n",
		"models/bad/aliases/a":           "1",
		"models/bad/version-1/meta.yaml": "name: bad\nversion: 1\n",
		"2/traces/t2/trace_info.yaml":    "assessments:\n- x\nrequest_id: t2\nstatus: OK\ntimestamp_ms: 1\n",
	}
	for path, content := range extra {
		p := filepath.Join(root, filepath.FromSlash(path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	lastRun, firstEntity := -1, -1
	var invalid []string
	var models []*sources.LoggedModel
	skipped := ""
	for i, r := range readAll(t, root, filestore.Options{Workers: 3}) {
		switch r := r.(type) {
		case *sources.Run, *sources.Metrics:
			lastRun = i
		case *sources.LoggedModel, *sources.Trace, *sources.RegisteredModel:
			if firstEntity < 0 {
				firstEntity = i
			}
			if m, ok := r.(*sources.LoggedModel); ok {
				models = append(models, m)
			}
		case *sources.Invalid:
			invalid = append(invalid, r.Err.Error())
		case *sources.Skipped:
			skipped += r.Path + ": " + r.Reason + "\n"
		}
	}
	if firstEntity < lastRun {
		t.Errorf("a logged model, trace or registered model (record %d) came before the last run record (%d)", firstEntity, lastRun)
	}
	joined := strings.Join(invalid, "\n")
	if !strings.Contains(joined, filepath.Join("m-1", "metrics", "loss")+":2") || !strings.Contains(joined, "expected 4 or 6") {
		t.Errorf("a 5-field logged-model metric line is not invalid input naming file and line: %s", joined)
	}
	if !strings.Contains(joined, `alias "a" points at version 2 in meta.yaml and at version 1`) {
		t.Errorf("aliases that disagree are not reported: %s", joined)
	}
	if len(models) != 1 || models[0].ModelID != "m-2" || models[0].Status != 3 || models[0].ExperimentSourceID != "2" || *models[0].LifecycleStage != "active" {
		t.Errorf("logged models: %+v", models)
	}
	if !strings.Contains(skipped, "1 assessments listed inside trace_info.yaml left out") {
		t.Errorf("assessments inside trace_info.yaml are not reported: %s", skipped)
	}
}

// TestFileStoreReadsAsMLflow: what MLflow's file store reads differently from a YAML
// 1.2 or a lenient reader: an unquoted yes is True (PyYAML), a blank line in a metric
// file is an error there, so it is invalid input here, naming file and line.
func TestFileStoreReadsAsMLflow(t *testing.T) {
	root := mixedStore(t)
	if err := os.WriteFile(filepath.Join(root, "1", "meta.yaml"), []byte("artifact_location: /m/1\nexperiment_id: 1\nlifecycle_stage: active\nname: yes\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "1", run1x, "metrics", "loss"), []byte("100 0.5\n\n101 0.6\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var names []string
	var invalid []*sources.InputError
	for _, r := range readAll(t, root, filestore.Options{}) {
		switch r := r.(type) {
		case *sources.Experiment:
			names = append(names, r.Name)
		case *sources.Invalid:
			invalid = append(invalid, r.Err)
		}
	}
	if !strings.Contains(strings.Join(names, ","), "True") {
		t.Errorf("experiment names %v: an unquoted yes is True to MLflow", names)
	}
	if len(invalid) != 1 || invalid[0].Line != 2 || !strings.Contains(invalid[0].Error(), "blank line") {
		t.Errorf("invalid %v", invalid)
	}
}

// TestFileStoreNameTakenTwice: two experiments of one name in one store (a deleted one
// kept beside its successor) stay two: the second gets a name of its own, said so.
func TestFileStoreNameTakenTwice(t *testing.T) {
	root := writeStore(t, map[string]string{
		"1/meta.yaml":        "artifact_location: /m/1\nexperiment_id: '1'\nlifecycle_stage: active\nname: train\n",
		".trash/2/meta.yaml": "artifact_location: /m/2\nexperiment_id: '2'\nlifecycle_stage: deleted\nname: train\n",
	})
	names := map[string]string{}
	notices := ""
	for _, r := range readAll(t, root, filestore.Options{}) {
		switch r := r.(type) {
		case *sources.Experiment:
			names[r.SourceID] = r.Name
		case *sources.Notice:
			notices += r.Message
		}
	}
	if names["1"] != "train" || names["2"] != "train (deleted, id 2)" || !strings.Contains(notices, "name is taken") {
		t.Errorf("names %v, notices %q", names, notices)
	}
}

// TestMetaYAMLAliases: a meta.yaml that names a value once and refers to it with an
// alias (valid YAML, which PyYAML reads) reads as the values it stands for.
func TestMetaYAMLAliases(t *testing.T) {
	root := filepath.Join(t.TempDir(), "mlruns")
	run := strings.Repeat("b", 32)
	files := map[string]string{
		filepath.Join(root, "1", "meta.yaml"):        "experiment_id: &id '1'\nname: aliased\nartifact_location: /a\nlifecycle_stage: &stage active\n",
		filepath.Join(root, "1", run, "meta.yaml"):   "run_id: &rid " + run + "\nrun_uuid: *rid\nexperiment_id: '1'\nstatus: 3\nlifecycle_stage: active\nstart_time: 1\nuser_id: &u alice\nrun_name: *u\n",
		filepath.Join(root, "1", run, "params", "p"): "1",
	}
	for path, content := range files {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var got *sources.Run
	for _, r := range readAll(t, root, filestore.Options{}) {
		switch r := r.(type) {
		case *sources.Run:
			got = r
		case *sources.Invalid:
			t.Fatalf("invalid: %v", r.Err)
		}
	}
	if got == nil || got.RunID != run || got.Name != "alice" || got.UserID != "alice" {
		t.Errorf("run read from a meta.yaml with aliases: %+v", got)
	}
}
