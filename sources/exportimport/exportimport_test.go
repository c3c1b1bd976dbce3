package exportimport_test

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/mlflow-bulk/mlflow-bulk/drivers/all"
	"github.com/mlflow-bulk/mlflow-bulk/internal/testenv"
	"github.com/mlflow-bulk/mlflow-bulk/sources"
	"github.com/mlflow-bulk/mlflow-bulk/sources/database"
	"github.com/mlflow-bulk/mlflow-bulk/sources/formats"
	"github.com/mlflow-bulk/mlflow-bulk/sources/sourcetest"
)

var exportRoots = []string{"single/experiments/basic", "single/experiments/src_tags", "bulk/experiments", "bulk/models/experiments", "bulk"}

func exportSample(t *testing.T, rel string) string {
	return filepath.Join(testenv.Sample(t, "export-mlflow-export-import-oss/oss_mlflow"), rel)
}

func TestExportImportConformance(t *testing.T) {
	for _, rel := range exportRoots {
		t.Run(rel, func(t *testing.T) {
			root := exportSample(t, rel)
			sourcetest.Run(t, func(t *testing.T, ctx context.Context) sources.Source {
				src, err := formats.Open(ctx, root, formats.Options{Options: sources.Options{MetricChunk: 2}, Database: database.Options{Drivers: all.Registry()}})
				if err != nil {
					t.Fatal(err)
				}
				return src
			})
		})
	}
}

func TestExportImportInvalidJSON(t *testing.T) {
	root := exportSample(t, "bulk/experiments")
	var invalid []*sources.InputError
	var names []string
	for _, r := range readAllFrom(t, root) {
		switch r := r.(type) {
		case *sources.Invalid:
			invalid = append(invalid, r.Err)
		case *sources.Experiment:
			names = append(names, r.Name)
		}
	}
	if len(invalid) != 1 || !strings.HasSuffix(invalid[0].File, filepath.Join("2", "experiment.json")) || invalid[0].Line != 29 || !strings.Contains(invalid[0].Error(), "column") {
		t.Fatalf("invalid: %v", invalid)
	}
	// experiments.json still names experiment 2, so its valid runs can be placed.
	if strings.Join(names, ",") != "sklearn_wine,sklearn_iris" {
		t.Errorf("experiments %v", names)
	}
}

func TestExportImportListedRunMissing(t *testing.T) {
	root := t.TempDir()
	write := func(rel, content string) {
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("exp/experiment.json", `{"mlflow": {"experiment": {"experiment_id": "3", "name": "e"}, "runs": ["aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"]}}`)
	write("exp/runs/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/run.json", `{"mlflow": {"info": {"run_id": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "status": "FINISHED", "start_time": 1},
		"metrics": {"loss": [{"value": NaN, "timestamp": 1, "step": 0}, {"value": Infinity, "timestamp": 2, "step": 1}, {"value": -Infinity, "timestamp": 3, "step": 2}]},
		"params": {"p": "NaN is text here"}}}`)
	var skipped []string
	var points []sources.Metric
	var params []sources.Tag
	for _, r := range readAllFrom(t, root) {
		switch r := r.(type) {
		case *sources.Skipped:
			skipped = append(skipped, r.Reason)
		case *sources.Metrics:
			points = append(points, r.Points...)
		case *sources.Run:
			params = r.Params
		}
	}
	if !strings.Contains(strings.Join(skipped, "\n"), "run bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb is listed here but its run.json is missing") {
		t.Errorf("missing run not reported: %v", skipped)
	}
	if len(points) != 3 || !math.IsNaN(points[0].Value) || !math.IsInf(points[1].Value, 1) || !math.IsInf(points[2].Value, -1) {
		t.Errorf("Python's NaN and Infinity: %+v", points)
	}
	if len(params) != 1 || params[0].Value != "NaN is text here" {
		t.Errorf("a string holding NaN changed: %+v", params)
	}
}

func readAllFrom(t *testing.T, root string) []sources.Record {
	src, err := formats.Open(context.Background(), root, formats.Options{Database: database.Options{Drivers: all.Registry()}})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var out []sources.Record
	for src.Next() {
		out = append(out, src.Record())
	}
	if err := src.Err(); err != nil && !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	return out
}

// TestExportImportTagForms: tags as an object and as a list of key/value objects read
// alike; a field of the wrong kind is named in the message without Go's type names.
func TestExportImportTagForms(t *testing.T) {
	root := t.TempDir()
	write := func(rel, content string) {
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("exp/experiment.json", `{"mlflow": {"experiment": {"experiment_id": "3", "name": "e",
		"tags": [{"key": "team", "value": "a"}, {"key": "note", "value": null}]}, "runs": ["aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"]}}`)
	write("exp/runs/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/run.json", `{"mlflow": {"info": {"run_id": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "status": "FINISHED", "start_time": 1},
		"tags": {"mlflow.user": "u"}, "params": {"p": "1"}}}`)
	write("exp/runs/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb/run.json", `{"mlflow": {"info": {"run_id": "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", "status": "FINISHED", "start_time": 1},
		"tags": [{"key": "mlflow.user", "value": "v"}], "params": ["not", "an", "object"]}}`)
	var tags []sources.Tag
	var runTags []string
	var invalid []string
	for _, r := range readAllFrom(t, root) {
		switch r := r.(type) {
		case *sources.Experiment:
			tags = r.Tags
		case *sources.Run:
			for _, tag := range r.Tags {
				runTags = append(runTags, tag.Key+"="+tag.Value)
			}
		case *sources.Invalid:
			invalid = append(invalid, r.Err.Error())
		}
	}
	if len(tags) != 2 {
		t.Errorf("experiment tags from a list: %+v", tags)
	}
	if strings.Join(runTags, ",") != "mlflow.user=u" {
		t.Errorf("run tags: %v", runTags)
	}
	if len(invalid) != 1 || strings.Contains(invalid[0], "Go ") || strings.Contains(invalid[0], "map[") || !strings.Contains(invalid[0], `"mlflow.params" holds a list where an object is expected`) {
		t.Errorf("invalid: %v", invalid)
	}
}

// TestRunJSONNotUTF8: a run.json whose text is not UTF-8 is invalid input naming the
// file and line, not a param silently turned into U+FFFD.
func TestRunJSONNotUTF8(t *testing.T) {
	dir := t.TempDir()
	body := "{\"system\": {}, \"mlflow\": {\n\"info\": {\"run_id\": \"" + strings.Repeat("c", 32) + "\", \"experiment_id\": \"7\", \"status\": \"FINISHED\", \"lifecycle_stage\": \"active\"},\n" +
		"\"params\": {\"p\": \"a\xffb\"}, \"metrics\": {}, \"tags\": {}}}"
	path := filepath.Join(dir, "run.json")
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	src, err := formats.Open(context.Background(), dir, formats.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var inErr *sources.InputError
	for src.Next() {
		if inv, ok := src.Record().(*sources.Invalid); ok {
			inErr = inv.Err
		}
	}
	if inErr == nil {
		errors.As(src.Err(), &inErr)
	}
	if inErr == nil || inErr.File != path || inErr.Line != 3 || !strings.Contains(inErr.Error(), "0xff is not UTF-8") {
		t.Errorf("a run.json with byte 0xff: %v", inErr)
	}
}

// TestRunFolderNamesTheRun: each run folder is a run, as mlflow-export-import imports it,
// even where its run.json says another run's id (a real bulk/models export holds two
// folders whose run.json say one run_id); a notice says which id was used.
func TestRunFolderNamesTheRun(t *testing.T) {
	root := t.TempDir()
	for rel, content := range map[string]string{
		"exp/experiment.json":                                `{"mlflow": {"experiment": {"experiment_id": "3", "name": "e"}, "runs": ["aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "cccccccccccccccccccccccccccccccc"]}}`,
		"exp/runs/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/run.json": `{"mlflow": {"info": {"run_id": "cccccccccccccccccccccccccccccccc", "status": "FINISHED", "start_time": 1}, "params": {"p": "1"}}}`,
		"exp/runs/cccccccccccccccccccccccccccccccc/run.json": `{"mlflow": {"info": {"run_id": "cccccccccccccccccccccccccccccccc", "status": "FINISHED", "start_time": 2}, "params": {"p": "2"}}}`,
	} {
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var ids, notices, skipped []string
	for _, r := range readAllFrom(t, root) {
		switch r := r.(type) {
		case *sources.Run:
			ids = append(ids, r.RunID)
		case *sources.Notice:
			notices = append(notices, r.Message)
		case *sources.Skipped:
			skipped = append(skipped, r.Reason)
		}
	}
	sort.Strings(ids)
	if strings.Join(ids, ",") != "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa,cccccccccccccccccccccccccccccccc" || len(skipped) != 0 {
		t.Errorf("runs %v, skipped %v", ids, skipped)
	}
	if !strings.Contains(strings.Join(notices, "\n"), "imported as run aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa") {
		t.Errorf("notices %v", notices)
	}
}
