package importer_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlflow-bulk/mlflow-bulk/importer"
	"github.com/mlflow-bulk/mlflow-bulk/importer/rules"
	"github.com/mlflow-bulk/mlflow-bulk/internal/testenv"
	"github.com/mlflow-bulk/mlflow-bulk/remedy"
)

// exportCounts counts what the valid run.json files under root hold, one run per run
// folder, read with Go's own JSON decoder.
func exportCounts(t *testing.T, root string) (runs, params, metrics int, invalid []string) {
	seen := map[string]bool{}
	_ = filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error { // errors skip the entry
		if err != nil || d.IsDir() || (d.Name() != "run.json" && d.Name() != "experiment.json") {
			return nil
		}
		data, _ := os.ReadFile(path)
		var f struct {
			Mlflow struct {
				Params  map[string]string            `json:"params"`
				Metrics map[string][]json.RawMessage `json:"metrics"`
			} `json:"mlflow"`
		}
		if json.Unmarshal(data, &f) != nil {
			invalid = append(invalid, path)
			return nil
		}
		if d.Name() == "experiment.json" {
			return nil
		}
		id := filepath.Base(filepath.Dir(path))
		if seen[id] {
			return nil // the same run exported twice (bulk/models repeats experiments)
		}
		seen[id] = true
		runs++
		params += len(f.Mlflow.Params)
		for _, points := range f.Mlflow.Metrics {
			metrics += len(points)
		}
		return nil
	})
	return
}

func TestImportExportImportSamples(t *testing.T) {
	for _, rel := range []string{"single/experiments/basic", "single/experiments/src_tags", "bulk/experiments", "bulk/models/experiments"} {
		root := filepath.Join(testenv.Sample(t, "export-mlflow-export-import-oss/oss_mlflow"), rel)
		runs, params, metrics, invalid := exportCounts(t, root)
		for _, target := range targets {
			t.Run(rel+"/"+target.name, func(t *testing.T) {
				uri := target.uri(t)
				report, err := importPaths(t, uri, importer.Options{SkipInvalid: true}, root)
				if err != nil {
					t.Fatal(err)
				}
				if len(report.Rejected) != len(invalid) {
					t.Errorf("rejected %+v, the export has %d invalid files", report.Rejected, len(invalid))
				}
				for _, file := range invalid {
					if !strings.Contains(report.Rejected[0].Reason, file) || !strings.Contains(report.Rejected[0].Reason, "column") {
						t.Errorf("the invalid file %s is not named with its position: %+v", file, report.Rejected)
					}
				}
				d := openDB(t, uri)
				for table, want := range map[string]int{"runs": runs, "params": params, "metrics": metrics} {
					if got := d.count("SELECT COUNT(*) FROM " + table); got != want {
						t.Errorf("%s: %d rows, the export holds %d", table, got, want)
					}
				}
				// Run ids, times and histories are kept, unlike the export tool's own importer.
				if n := d.count("SELECT COUNT(*) FROM runs WHERE start_time IS NULL"); n != 0 {
					t.Errorf("%d runs lost their start time", n)
				}
				// The run name wins over a differing mlflow.runName tag, as MLflow shows it.
				if n := d.count("SELECT COUNT(*) FROM runs r JOIN tags t ON t.run_uuid = r.run_uuid AND t." + `"key"` + " = 'mlflow.runName' WHERE t.value <> r.name"); n != 0 {
					t.Errorf("%d runs whose mlflow.runName tag differs from their name", n)
				}
				d.close()
				// Import and verify agree: only what the import rejected differs.
				for _, diff := range verifyPaths(t, uri, root).Differences {
					if diff.Kind != "source invalid" {
						t.Errorf("verify after a fresh import: %+v", diff)
					}
				}
			})
		}
	}
}

// exportedModels reads what the model.json files under root hold, with Go's own JSON
// decoder, as rows of the registry tables.
func exportedModels(t *testing.T, root string) (models, versions, aliases []string) {
	_ = filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error { // errors skip the entry
		if err != nil || d.IsDir() || d.Name() != "model.json" {
			return nil
		}
		var f struct {
			Mlflow struct {
				RegisteredModel struct {
					Name     string                   `json:"name"`
					Versions []map[string]any         `json:"versions"`
					Latest   []map[string]any         `json:"latest_versions"`
					Aliases  []map[string]interface{} `json:"aliases"`
				} `json:"registered_model"`
			} `json:"mlflow"`
		}
		data, _ := os.ReadFile(path)
		if err := json.Unmarshal(data, &f); err != nil {
			t.Fatal(err)
		}
		rm := f.Mlflow.RegisteredModel
		models = append(models, rm.Name)
		for _, v := range append(rm.Versions, rm.Latest...) {
			versions = append(versions, fmt.Sprintf("%s|%v|%v|%v", rm.Name, v["version"], v["current_stage"], v["run_id"]))
		}
		for _, a := range rm.Aliases {
			aliases = append(aliases, fmt.Sprintf("%s|%v|%v", rm.Name, a["alias"], a["version"]))
		}
		return nil
	})
	return
}

// TestImportExportImportRegistry imports the real registered-model exports, single and
// bulk (given as the bulk/models folder, whose manifest.json is the tool's own), into
// every target: every model, version and alias of the files, linked to the runs.
func TestImportExportImportRegistry(t *testing.T) {
	for _, rel := range []string{"single/models/basic", "single/models/src_tags", "bulk/models"} {
		root := filepath.Join(testenv.Sample(t, "export-mlflow-export-import-oss/oss_mlflow"), rel)
		models, versions, aliases := exportedModels(t, root)
		for _, target := range targets {
			t.Run(rel+"/"+target.name, func(t *testing.T) {
				uri := target.uri(t)
				if _, err := importPaths(t, uri, importer.Options{SkipInvalid: true}, root); err != nil {
					t.Fatal(err)
				}
				d := openDB(t, uri)
				compareSets(t, "registered_models", d.strRows(1, "SELECT name FROM registered_models"), models)
				compareSets(t, "model_versions", d.strRows(4, "SELECT name, version, current_stage, run_id FROM model_versions"), versions)
				compareSets(t, "registered_model_aliases", d.strRows(3, "SELECT name, alias, version FROM registered_model_aliases"), aliases)
				if rel == "bulk/models" {
					if n := d.count("SELECT COUNT(*) FROM runs"); n != 3 {
						t.Errorf("bulk/models: %d runs, the export holds 3", n)
					}
				}
				d.close()
				for _, diff := range verifyPaths(t, uri, root).Differences {
					t.Errorf("verify after a fresh import: %+v", diff)
				}
			})
		}
	}
}

// exportRunJSON is a run.json of export-run: the tool's layout since 1.0, or the older
// one without the "mlflow" wrapper.
func exportRunJSON(runID, expID string, legacy bool) string {
	body := `"info": {"run_id": "` + runID + `", "experiment_id": "` + expID + `", "user_id": "u", "status": "FINISHED", "start_time": 10, "end_time": 20,` +
		` "lifecycle_stage": "active", "artifact_uri": "/a/` + runID + `", "run_name": "lone"},` +
		` "params": {"lr": "0.1", "depth": "3"}, "metrics": {"loss": [{"value": 0.5, "timestamp": 11, "step": 0}, {"value": NaN, "timestamp": 12, "step": 1}]},` +
		` "tags": {"mlflow.runName": "lone", "team": "a"}`
	if legacy {
		return `{"export_info": {"mlflow_version": "1.20.0"}, ` + body + `}`
	}
	return `{"system": {"package_version": "1.2.0", "script": "export_run.py"}, "mlflow": {` + body + `}}`
}

// TestImportExportImportLoneRuns: runs exported on their own (export-run, both layouts,
// given directly or deep inside a tree) and a model version exported with its run come
// in, into an experiment the report names; logged models of an exported experiment too.
func TestImportExportImportLoneRuns(t *testing.T) {
	const (
		runA = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1"
		runB = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb2"
		runC = "ccccccccccccccccccccccccccccccc3"
		runD = "ddddddddddddddddddddddddddddddd4"
	)
	single := writeFiles(t, map[string]string{"run.json": exportRunJSON(runA, "7", false), "artifacts/model/MLmodel": "x"})
	tree := writeFiles(t, map[string]string{
		"a/b/c/d/e/legacy/run.json": exportRunJSON(runB, "7", true),
		"versions/v1/model_version.json": `{"system": {}, "mlflow": {"model_version": {"name": "clf", "version": "4", "current_stage": "Staging",` +
			` "run_id": "` + runC + `", "source": "/a/` + runC + `/artifacts/model", "status": "READY", "tags": {"k": "v"}, "creation_timestamp": 5}}}`,
		"versions/v1/run/run.json":             exportRunJSON(runC, "9", false),
		"exp/experiment.json":                  `{"system": {}, "mlflow": {"experiment": {"experiment_id": "3", "name": "with-models"}, "runs": ["` + runD + `"]}}`,
		"exp/runs/" + runD + "/run.json":       exportRunJSON(runD, "3", false),
		"exp/logged_models/logged_models.json": `{"system": {}, "mlflow": {"experiments": [{"id": "3", "name": "with-models", "logged_models": ["m-1", "m-2"]}]}}`,
		"exp/logged_models/m-1/logged_model.json": `{"system": {}, "mlflow": {"model_id": "m-1", "experiment_id": "3", "name": "net", "artifact_location": "/a/m-1",` +
			` "creation_timestamp": 1, "last_updated_timestamp": 2, "status": "READY", "source_run_id": "` + runD + `", "params": {"p": "1"}, "tags": {"t": "2"},` +
			` "metrics": [{"key": "acc", "value": 0.9, "timestamp": 3, "step": 0, "run_id": "` + runD + `", "dataset_name": "ds", "dataset_digest": "d1"}]}}`,
	})
	for _, target := range targets {
		t.Run(target.name, func(t *testing.T) {
			uri := target.uri(t)
			report, err := importPaths(t, uri, importer.Options{}, single, tree)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(strings.Join(report.Notices, "\n"), `imported into experiment "Exported runs of experiment 7"`) {
				t.Errorf("the report does not say where the lone runs went: %v", report.Notices)
			}
			if s := fmt.Sprint(report.Skipped); !strings.Contains(s, "logged model m-2 is listed here but its logged_model.json is missing") {
				t.Errorf("a listed logged model that is missing is not reported: %s", s)
			}
			d := openDB(t, uri)
			compareSets(t, "runs", d.strRows(3, "SELECT r.run_uuid, e.name, r.name FROM runs r JOIN experiments e ON e.experiment_id = r.experiment_id"), []string{
				runA + "|Exported runs of experiment 7|lone", runB + "|Exported runs of experiment 7|lone",
				runC + "|Exported runs of experiment 9|lone", runD + "|with-models|lone",
			})
			if n := d.count("SELECT COUNT(*) FROM params"); n != 8 {
				t.Errorf("params: %d rows, the exports hold 8", n)
			}
			if n := d.count("SELECT COUNT(*) FROM metrics WHERE is_nan = ?", true); n != 4 {
				t.Errorf("NaN metric points: %d, the exports hold 4", n)
			}
			compareSets(t, "model_versions", d.strRows(5, "SELECT name, version, current_stage, run_id, creation_time FROM model_versions"), []string{"clf|4|Staging|" + runC + "|5"})
			compareSets(t, "model_version_tags", d.strRows(3, `SELECT name, "key", value FROM model_version_tags`), []string{"clf|k|v"})
			compareSets(t, "logged_models", d.strRows(4, "SELECT m.model_id, e.name, m.status, m.source_run_id FROM logged_models m JOIN experiments e ON e.experiment_id = m.experiment_id"),
				[]string{"m-1|with-models|2|" + runD})
			compareSets(t, "logged_model_metrics", d.strRows(4, "SELECT model_id, metric_name, run_id, dataset_digest FROM logged_model_metrics"), []string{"m-1|acc|" + runD + "|d1"})
			d.close()
			for _, diff := range verifyPaths(t, uri, single, tree).Differences {
				t.Errorf("verify after a fresh import: %+v", diff)
			}
		})
	}
}

// TestImportExportImportTracesAndPrompts: traces (MLflow 3's fields with assessments, and
// MLflow 2's) and prompts as the tool's newer versions export them come in as the rows
// MLflow keeps for them.
func TestImportExportImportTracesAndPrompts(t *testing.T) {
	tree := writeFiles(t, map[string]string{
		"exp/experiment.json": `{"system": {}, "mlflow": {"experiment": {"experiment_id": "5", "name": "agents"}, "runs": []}}`,
		"exp/traces/tr-1/trace.json": `{"system": {}, "mlflow": {"info": {"trace_id": "tr-1", "trace_location": {"type": "MLFLOW_EXPERIMENT", "mlflow_experiment": {"experiment_id": "5"}},` +
			` "request_time": 1700000000000, "state": "OK", "request_preview": "{\"q\": 1}", "response_preview": "ok", "client_request_id": null, "execution_duration": 42,` +
			` "trace_metadata": {"mlflow.user": "u"}, "tags": {"mlflow.traceName": "chain"}, "assessments": [` +
			`{"assessment_type": "feedback", "name": "good", "source": {"source_type": "HUMAN", "source_id": "ann"}, "trace_id": "tr-1", "run_id": null, "rationale": "fine",` +
			` "metadata": null, "span_id": null, "create_time_ms": 1700000000100, "last_update_time_ms": 1700000000200, "expectation": null,` +
			` "feedback": {"value": 0.5, "error": null}, "overrides": null, "valid": true, "assessment_id": "a-1"},` +
			`{"assessment_type": "expectation", "name": "answer", "source": {"source_type": "HUMAN", "source_id": "ann"}, "trace_id": "tr-1",` +
			` "create_time_ms": 1700000000300, "last_update_time_ms": 1700000000300, "expectation": {"b": [1, 2], "a": "x"}, "feedback": null, "valid": true, "assessment_id": "a-2"}]},` +
			` "data": [{"name": "root", "trace_id": "tr-1", "span_id": "s1", "parent_id": null}]}}`,
		"loose/t2/trace.json": `{"system": {}, "mlflow": {"info": {"request_id": "t2", "experiment_id": "5", "timestamp_ms": 1600000000000, "execution_time_ms": 7,` +
			` "status": "ERROR", "request_metadata": {"mlflow.traceInputs": ""}, "tags": {}}, "data": []}}`,
		"prompts/qa_v1/prompt.json": `{"system": {}, "mlflow": {"prompt": {"name": "qa", "version": 1, "template": "Answer {{q}}", "tags": {"team": "a"},` +
			` "creation_timestamp": 10, "last_updated_timestamp": 11, "user_id": null, "description": "first", "commit_message": "first"}}}`,
		"prompts/qa_v2/prompt.json": `{"system": {}, "mlflow": {"prompt": {"name": "qa", "version": "2", "template": [{"role": "user", "content": "{{q}}?"}], "tags": {},` +
			` "creation_timestamp": 12, "last_updated_timestamp": 12, "commit_message": "chat"}}}`,
	})
	for _, target := range targets {
		t.Run(target.name, func(t *testing.T) {
			uri := target.uri(t)
			report, err := importPaths(t, uri, importer.Options{}, tree)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(strings.Join(report.Notices, "\n"), "spans of exported traces") {
				t.Errorf("the report does not say where the spans are: %v", report.Notices)
			}
			d := openDB(t, uri)
			compareSets(t, "trace_info", d.strRows(6, "SELECT t.request_id, e.name, t.timestamp_ms, t.execution_time_ms, t.status, t.request_preview FROM trace_info t JOIN experiments e ON e.experiment_id = t.experiment_id"),
				[]string{`tr-1|agents|1700000000000|42|OK|{"q": 1}`, "t2|agents|1600000000000|7|ERROR|NULL"})
			compareSets(t, "trace_tags", d.strRows(3, `SELECT request_id, "key", value FROM trace_tags`), []string{"tr-1|mlflow.traceName|chain"})
			compareSets(t, "trace_request_metadata", d.strRows(3, `SELECT request_id, "key", value FROM trace_request_metadata`), []string{"tr-1|mlflow.user|u", "t2|mlflow.traceInputs|"})
			compareSets(t, "assessments", d.strRows(8, "SELECT assessment_id, name, assessment_type, value, created_timestamp, last_updated_timestamp, source_type, rationale FROM assessments"),
				[]string{"a-1|good|feedback|0.5|1700000000100|1700000000200|HUMAN|fine", `a-2|answer|expectation|{"b": [1, 2], "a": "x"}|1700000000300|1700000000300|HUMAN|NULL`})
			compareSets(t, "model_versions", d.strRows(4, "SELECT name, version, description, source FROM model_versions"), []string{"qa|1|first|dummy-source", "qa|2|chat|dummy-source"})
			compareSets(t, "model_version_tags", d.strRows(4, `SELECT name, version, "key", value FROM model_version_tags`), []string{
				"qa|1|team|a", "qa|1|mlflow.prompt.is_prompt|true", "qa|1|mlflow.prompt.text|Answer {{q}}", "qa|1|_mlflow_prompt_type|text",
				"qa|2|mlflow.prompt.is_prompt|true", `qa|2|mlflow.prompt.text|[{"role": "user", "content": "{{q}}?"}]`, "qa|2|_mlflow_prompt_type|chat",
			})
			compareSets(t, "registered_model_tags", d.strRows(3, `SELECT name, "key", value FROM registered_model_tags`), []string{"qa|mlflow.prompt.is_prompt|true"})
			d.close()
			for _, diff := range verifyPaths(t, uri, tree).Differences {
				t.Errorf("verify after a fresh import: %+v", diff)
			}
		})
	}
}

// TestImportExportImportDatasetInputs: a run exported with a dataset input (as
// export-run writes MLflow ≥ 2.4's inputs) comes in on every target, PostgreSQL too, with
// its dataset, the input and the input's tags, and verifies clean.
func TestImportExportImportDatasetInputs(t *testing.T) {
	const runID = "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeee5"
	run := strings.Replace(exportRunJSON(runID, "7", false), `"tags": {"mlflow.runName"`,
		`"inputs": [{"dataset": {"name": "winequality_white_2", "digest": "6a1d3f0e", "source_type": "local", "source": "{\"uri\": \"/data/wine.csv\"}",`+
			` "schema": "{}", "profile": "{\"num_rows\": 4898}"}, "tags": [{"key": "mlflow.data.context", "value": "training"}]}], "tags": {"mlflow.runName"`, 1)
	root := writeFiles(t, map[string]string{"run.json": run})
	for _, target := range targets {
		t.Run(target.name, func(t *testing.T) {
			uri := target.uri(t)
			if _, err := importPaths(t, uri, importer.Options{}, root); err != nil {
				t.Fatal(err)
			}
			d := openDB(t, uri)
			compareSets(t, "datasets", d.strRows(3, "SELECT name, digest, dataset_source_type FROM datasets"), []string{"winequality_white_2|6a1d3f0e|local"})
			compareSets(t, "inputs", d.strRows(2, "SELECT source_type, destination_id FROM inputs"), []string{"DATASET|" + runID})
			compareSets(t, "input_tags", d.strRows(2, `SELECT name, value FROM input_tags`), []string{"mlflow.data.context|training"})
			d.close()
			for _, diff := range verifyPaths(t, uri, root).Differences {
				t.Errorf("verify after a fresh import: %+v", diff)
			}
		})
	}
}

// TestConflictWithinOneImport: two exports of one registered model from two servers,
// imported together into an empty target, conflict with each other, not with "the
// target": the error names both files. The same run exported twice into one
// experiment (bulk/experiments and bulk/models/experiments) is one run, not two copies.
func TestConflictWithinOneImport(t *testing.T) {
	root := testenv.Sample(t, "export-mlflow-export-import-oss")
	uri := testenv.SQLite(t)
	_, err := importPaths(t, uri, importer.Options{SkipInvalid: true}, root)
	if err == nil || !strings.Contains(err.Error(), "earlier in this import") || strings.Count(err.Error(), "model.json") != 2 || strings.Contains(err.Error(), "the target's (") {
		t.Fatalf("two exports of one model: %v", err)
	}
	if rs := remedy.Of(err); len(rs) != 1 || !strings.Contains(rs[0].Does, "keep the one imported first") {
		t.Errorf("the way past a conflict between two sources offers %+v", rs)
	}
	report, err := importPaths(t, uri, importer.Options{SkipInvalid: true, OnModelConflict: rules.ModelConflictKeepTarget}, root)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range report.Rejected {
		if strings.Contains(r.Reason, "MLflow keeps a run in one experiment") {
			t.Errorf("a run exported twice into one experiment is rejected as a second copy: %s", r.Reason)
		}
	}
}
