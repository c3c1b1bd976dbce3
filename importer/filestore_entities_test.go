package importer_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlflow-bulk/mlflow-bulk/importer"
	"github.com/mlflow-bulk/mlflow-bulk/internal/testenv"
	"github.com/mlflow-bulk/mlflow-bulk/schema"
)

// File stores whose traces, logged models and model registry an import must carry over.
var fileStoreEntitySamples = []string{
	"shisian512-registry-aliases/mlruns",
	"sh0r0ukk-agentic-traces-v3/mlruns",
	"janzheng-groq-traces/mlruns",
	"dmatrix-logged-models/mlruns",
}

// strRows returns every row of a query as its n columns joined by "|", NULL as "NULL".
func (d *db) strRows(n int, query string, args ...any) []string {
	d.t.Helper()
	rows, err := d.tx.Query(context.Background(), query, args...)
	if err != nil {
		d.t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		dest := make([]any, n)
		for i := range dest {
			dest[i] = new(sql.NullString)
		}
		if err := rows.Scan(dest...); err != nil {
			d.t.Fatalf("%s: %v", query, err)
		}
		parts := make([]string, n)
		for i, v := range dest {
			parts[i] = "NULL"
			if s := v.(*sql.NullString); s.Valid {
				parts[i] = s.String
			}
		}
		out = append(out, strings.Join(parts, "|"))
	}
	if err := rows.Err(); err != nil {
		d.t.Fatal(err)
	}
	return out
}

// storeEntities is what a file store holds of traces, logged models and the registry,
// read straight from its files with a plain YAML reader, as rows of the target's tables.
type storeEntities struct {
	traces, traceTags, traceMetadata                   []string
	models, modelParams, modelTags                     []string
	modelMetrics                                       int
	registered, versions, versionTags, aliases, rmTags []string
}

func readStoreEntities(t *testing.T, root string) storeEntities {
	var out storeEntities
	experiments, _ := filepath.Glob(filepath.Join(root, "*"))
	trashed, _ := filepath.Glob(filepath.Join(root, ".trash", "*"))
	for _, exp := range append(experiments, trashed...) {
		if filepath.Base(exp) == "models" && filepath.Dir(exp) == root {
			continue
		}
		traceInfos, _ := filepath.Glob(filepath.Join(exp, "traces", "*", "trace_info.yaml"))
		for _, info := range traceInfos {
			m := readYAML(t, info)
			id, _ := m["trace_id"].(string)
			if id == "" {
				id, _ = m["request_id"].(string)
			}
			status, _ := m["status"].(string)
			if status == "" {
				status, _ = m["state"].(string)
			}
			out.traces = append(out.traces, id+"|"+status)
			dir := filepath.Dir(info)
			for _, key := range filesUnder(dir, "tags") {
				out.traceTags = append(out.traceTags, id+"|"+key+"|"+readText(t, filepath.Join(dir, "tags", key)))
			}
			for _, key := range filesUnder(dir, "request_metadata") {
				out.traceMetadata = append(out.traceMetadata, id+"|"+key+"|"+readText(t, filepath.Join(dir, "request_metadata", key)))
			}
		}
		for _, meta := range subdirsWithMeta(exp, "models") {
			m := readYAML(t, meta)
			id := m["model_id"].(string)
			out.models = append(out.models, fmt.Sprintf("%s|%s|%v", id, m["name"], m["status"]))
			dir := filepath.Dir(meta)
			for _, key := range filesUnder(dir, "params") {
				out.modelParams = append(out.modelParams, id+"|"+key+"|"+readText(t, filepath.Join(dir, "params", key)))
			}
			for _, key := range filesUnder(dir, "tags") {
				out.modelTags = append(out.modelTags, id+"|"+key+"|"+readText(t, filepath.Join(dir, "tags", key)))
			}
			for _, key := range filesUnder(dir, "metrics") {
				out.modelMetrics += len(distinctLines(t, filepath.Join(dir, "metrics", key)))
			}
		}
	}
	for _, meta := range subdirsWithMeta(root, "models") {
		m := readYAML(t, meta)
		name := m["name"].(string)
		out.registered = append(out.registered, name)
		dir := filepath.Dir(meta)
		for _, key := range filesUnder(dir, "tags") {
			out.rmTags = append(out.rmTags, name+"|"+key+"|"+readText(t, filepath.Join(dir, "tags", key)))
		}
		for _, alias := range filesUnder(dir, "aliases") {
			out.aliases = append(out.aliases, name+"|"+alias+"|"+strings.TrimSpace(readText(t, filepath.Join(dir, "aliases", alias))))
		}
		versions, _ := filepath.Glob(filepath.Join(dir, "version-*", "meta.yaml"))
		for _, vm := range versions {
			v := readYAML(t, vm)
			out.versions = append(out.versions, fmt.Sprintf("%s|%v|%v|%v|%v", name, v["version"], v["current_stage"], v["source"], v["run_id"]))
			for _, key := range filesUnder(filepath.Dir(vm), "tags") {
				out.versionTags = append(out.versionTags, fmt.Sprintf("%s|%v|%s|%s", name, v["version"], key, readText(t, filepath.Join(filepath.Dir(vm), "tags", key))))
			}
		}
	}
	return out
}

func readText(t *testing.T, path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestImportFileStoreEntities imports the real file stores with traces, logged models and
// a model registry into every target: every trace, tag, metadata entry, logged model,
// registered model, version, alias and tag of the files is in the target with its
// values, no input or output names a model the target lacks, verify agrees, and a second
// import adds nothing.
func TestImportFileStoreEntities(t *testing.T) {
	for _, target := range targets {
		t.Run(target.name, func(t *testing.T) {
			for _, sample := range fileStoreEntitySamples {
				t.Run(strings.Split(sample, "/")[0], func(t *testing.T) {
					root := testenv.Sample(t, sample)
					want := readStoreEntities(t, root)
					uri := target.uri(t)
					report, err := importPaths(t, uri, importer.Options{}, root)
					if err != nil {
						t.Fatal(err)
					}
					for _, s := range report.Skipped {
						if strings.Contains(s.Reason, "not imported") || strings.Contains(s.Reason, "registry folder") {
							t.Errorf("still skipped: %s: %s", s.Path, s.Reason)
						}
					}
					d := openDB(t, uri)
					compareSets(t, "trace_info", d.strRows(2, "SELECT request_id, status FROM trace_info"), want.traces)
					compareSets(t, "trace_tags", d.strRows(3, `SELECT request_id, "key", value FROM trace_tags`), want.traceTags)
					compareSets(t, "trace_request_metadata", d.strRows(3, `SELECT request_id, "key", value FROM trace_request_metadata`), want.traceMetadata)
					compareSets(t, "logged_models", d.strRows(3, "SELECT model_id, name, status FROM logged_models"), want.models)
					compareSets(t, "logged_model_params", d.strRows(3, "SELECT model_id, param_key, param_value FROM logged_model_params"), want.modelParams)
					compareSets(t, "logged_model_tags", d.strRows(3, "SELECT model_id, tag_key, tag_value FROM logged_model_tags"), want.modelTags)
					if got := d.count("SELECT COUNT(*) FROM logged_model_metrics"); got != want.modelMetrics {
						t.Errorf("logged_model_metrics: %d rows, the files hold %d", got, want.modelMetrics)
					}
					compareSets(t, "registered_models", d.strRows(1, "SELECT name FROM registered_models"), want.registered)
					compareSets(t, "registered_model_tags", d.strRows(3, `SELECT name, "key", value FROM registered_model_tags`), want.rmTags)
					compareSets(t, "model_versions", d.strRows(5, "SELECT name, version, current_stage, source, run_id FROM model_versions"), want.versions)
					compareSets(t, "model_version_tags", d.strRows(4, `SELECT name, version, "key", value FROM model_version_tags`), want.versionTags)
					compareSets(t, "registered_model_aliases", d.strRows(3, "SELECT name, alias, version FROM registered_model_aliases"), want.aliases)
					if n := d.count("SELECT COUNT(*) FROM inputs WHERE destination_type IN ('MODEL_INPUT', 'MODEL_OUTPUT') AND destination_id NOT IN (SELECT model_id FROM logged_models)"); n != 0 {
						t.Errorf("%d inputs or outputs name a logged model the target lacks", n)
					}
					d.close()
					vr := verifyPaths(t, uri, root)
					if len(vr.Differences) > 0 {
						t.Errorf("verify after import: %+v", vr.Differences)
					}
					again, err := importPaths(t, uri, importer.Options{}, root)
					if err != nil {
						t.Fatal(err)
					}
					if !again.NothingNew() {
						t.Errorf("a second import wrote rows: %+v", again.Counts)
					}
				})
			}
		})
	}
}

// writeFiles writes files (path -> content) under a new store folder.
func writeFiles(t *testing.T, files map[string]string) string {
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

const (
	entityRun    = "0123456789abcdef0123456789abcdef"
	trashedRun   = "fedcba9876543210fedcba9876543210"
	entityModel  = "m-00000000000000000000000000000001"
	missingModel = "m-00000000000000000000000000000009"
)

func runMeta(id, exp, stage string) string {
	return "artifact_uri: file:///s/" + exp + "/" + id + "/artifacts\nend_time: 20\nentry_point_name: ''\nexperiment_id: '" + exp + "'\n" +
		"lifecycle_stage: " + stage + "\nrun_id: " + id + "\nrun_name: r\nsource_name: ''\nsource_type: 4\nsource_version: ''\nstart_time: 10\nstatus: 3\ntags: []\nuser_id: u\n"
}

// entityStore holds what the real samples lack: assessments of both kinds (MLflow 3's
// layout), a stage-era registry with archived versions and an alias map, a version whose
// source is another version, a prompt, a trashed experiment whose id is active (with the
// same name and a run), and a run output naming a model the store does not hold.
func entityStore(t *testing.T) string {
	trace := "1/traces/tr-aaaa/"
	return writeFiles(t, map[string]string{
		"0/meta.yaml":                   "artifact_location: file:///s/0\nexperiment_id: '0'\nlifecycle_stage: active\nname: Default\n",
		"1/meta.yaml":                   "artifact_location: file:///s/1\nexperiment_id: '1'\nlifecycle_stage: active\nname: agents\n",
		"1/" + entityRun + "/meta.yaml": runMeta(entityRun, "1", "active"),
		"1/" + entityRun + "/outputs/" + entityModel + "/meta.yaml":  "destination_id: " + entityModel + "\ndestination_type: MODEL_OUTPUT\nsource_id: " + entityModel + "\nsource_type: RUN_OUTPUT\nstep: 3\ntags: {}\n",
		"1/" + entityRun + "/outputs/" + missingModel + "/meta.yaml": "destination_id: " + missingModel + "\ndestination_type: MODEL_OUTPUT\nsource_id: " + missingModel + "\nsource_type: RUN_OUTPUT\nstep: 0\ntags: {}\n",
		"1/models/" + entityModel + "/meta.yaml": "artifact_location: file:///s/1/models/" + entityModel + "/artifacts\ncreation_timestamp: 100\nexperiment_id: '1'\n" +
			"last_updated_timestamp: 200\nmodel_id: " + entityModel + "\nmodel_type: agent\nname: planner\nsource_run_id: " + entityRun + "\nstatus: READY\nstatus_message: null\n",
		"1/models/" + entityModel + "/params/temperature": "0.2",
		"1/models/" + entityModel + "/tags/mlflow.user":   "u",
		"1/models/" + entityModel + "/metrics/accuracy":   "150 0.75 1 " + entityRun + "\n160 0.8 2 " + entityRun + " eval 1a2b3c\n",
		trace + "trace_info.yaml": "client_request_id: null\nexecution_duration_ms: 1500\nrequest_preview: '{\"q\": \"hi\"}'\nrequest_time: '2025-12-22T00:29:16.016Z'\n" +
			"response_preview: ''\nstate: OK\ntrace_id: tr-aaaa\ntrace_location:\n  mlflow_experiment:\n    experiment_id: '1'\n  type: MLFLOW_EXPERIMENT\n",
		trace + "tags/mlflow.artifactLocation":         "file:///s/1/traces/tr-aaaa/artifacts",
		trace + "request_metadata/mlflow.traceOutputs": "",
		trace + "assessments/a-1.yaml": "assessment_id: a-1\nassessment_name: correct\ncreate_time: '2025-12-22T00:30:00.5Z'\nfeedback:\n  error:\n    error_code: TIMEOUT\n    error_message: judge timed out\n" +
			"  value: yes\nlast_update_time: '2025-12-22T00:31:00Z'\nmetadata:\n  mlflow.assessment.sourceRunId: " + entityRun + "\n  note: é\nrationale: fine\n" +
			"source:\n  source_id: judge@x\n  source_type: LLM_JUDGE\ntrace_id: tr-aaaa\nvalid: true\n",
		trace + "assessments/a-2.yaml": "assessment_id: a-2\nassessment_name: expected\ncreate_time: '2025-12-22T00:32:00Z'\nexpectation:\n  serialized_value:\n" +
			"    serialization_format: JSON_FORMAT\n    value: '{\"b\": [1, 2.0], \"a\": \"x\"}'\nlast_update_time: '2025-12-22T00:32:00Z'\n" +
			"source:\n  source_id: ann\n  source_type: HUMAN\nspan_id: s1\ntrace_id: tr-aaaa\nvalid: false\noverrides: a-1\n",
		// The trashed "agents" reused id 1 and has a run.
		".trash/1/meta.yaml":                    "artifact_location: file:///s/1\nexperiment_id: '1'\nlifecycle_stage: deleted\nname: agents\n",
		".trash/1/" + trashedRun + "/meta.yaml": runMeta(trashedRun, "1", "deleted"),
		".trash/1/" + trashedRun + "/params/p":  "v",
		".trash/1/" + trashedRun + "/metrics/m": "5 1.5 0\n",
		// A registry of the stage era, and one of MLflow 3 with an alias map.
		"models/legacy/meta.yaml":                    "creation_timestamp: 1\ndescription: old model\nlast_updated_timestamp: 9\nname: legacy\n",
		"models/legacy/version-1/meta.yaml":          "creation_timestamp: 2\ncurrent_stage: Archived\ndescription: ''\nlast_updated_timestamp: 3\nname: legacy\nrun_id: " + entityRun + "\nrun_link: ''\nsource: file:///s/1/" + entityRun + "/artifacts/model\nstatus: READY\nstatus_message: null\nuser_id: null\nversion: 1\n",
		"models/legacy/version-2/meta.yaml":          "creation_timestamp: 4\ncurrent_stage: Production\ndescription: ''\nlast_updated_timestamp: 5\nname: legacy\nrun_id: " + entityRun + "\nrun_link: ''\nsource: file:///s/1/" + entityRun + "/artifacts/model\nstatus: READY\nstatus_message: null\nuser_id: null\nversion: 2\n",
		"models/legacy/version-2/tags/approved":      "true",
		"models/prompt/meta.yaml":                    "aliases:\n  latest: '2'\n  prod: '1'\ncreation_timestamp: 1\ndescription: ''\nlast_updated_timestamp: 9\nname: prompt\n",
		"models/prompt/aliases/prod":                 "1",
		"models/prompt/tags/mlflow.prompt.is_prompt": "true",
		"models/prompt/version-1/meta.yaml":          "aliases: []\ncreation_timestamp: 2\ncurrent_stage: None\ndescription: ''\nlast_updated_timestamp: 2\nmodel_id: null\nname: prompt\nrun_id: null\nsource: null\nstatus: READY\nversion: 1\n",
		"models/prompt/version-2/meta.yaml":          "aliases: []\ncreation_timestamp: 3\ncurrent_stage: None\ndescription: ''\nlast_updated_timestamp: 3\nmodel_id: ''\nname: prompt\nrun_id: null\nsource: models:/prompt/1\nstatus: READY\nversion: 2\n",
	})
}

// TestImportFileStoreEntitiesSynthetic checks the rows of what the real stores lack, on
// every target, value by value.
func TestImportFileStoreEntitiesSynthetic(t *testing.T) {
	root := entityStore(t)
	for _, target := range targets {
		t.Run(target.name, func(t *testing.T) {
			uri := target.uri(t)
			report, err := importPaths(t, uri, importer.Options{}, root)
			if err != nil {
				t.Fatal(err)
			}
			notes := fmt.Sprint(report.Notices, report.Skipped)
			for _, want := range []string{"has the id of an active experiment", `"agents (deleted, id 1)"`, "logged model " + missingModel + " left out"} {
				if !strings.Contains(notes, want) {
					t.Errorf("the report does not say %q: %s", want, notes)
				}
			}
			d := openDB(t, uri)
			compareSets(t, "experiments", d.strRows(3, "SELECT experiment_id, name, lifecycle_stage FROM experiments"),
				[]string{"0|Default|active", "1|agents|active", "2|agents (deleted, id 1)|deleted"})
			compareSets(t, "runs", d.strRows(3, "SELECT run_uuid, experiment_id, lifecycle_stage FROM runs"),
				[]string{entityRun + "|1|active", trashedRun + "|2|deleted"})
			if n := d.count("SELECT COUNT(*) FROM metrics WHERE run_uuid = ?", trashedRun); n != 1 {
				t.Errorf("the trashed run has %d metric rows, want 1", n)
			}
			compareSets(t, "inputs", d.strRows(4, "SELECT source_type, source_id, destination_id, step FROM inputs"),
				[]string{"RUN_OUTPUT|" + entityRun + "|" + entityModel + "|3"})
			compareSets(t, "logged_models", d.strRows(8, "SELECT model_id, experiment_id, name, status, lifecycle_stage, model_type, source_run_id, creation_timestamp_ms FROM logged_models"),
				[]string{entityModel + "|1|planner|2|active|agent|" + entityRun + "|100"})
			compareSets(t, "logged_model_metrics", d.strRows(6, "SELECT metric_name, metric_timestamp_ms, metric_step, run_id, dataset_name, dataset_digest FROM logged_model_metrics"),
				[]string{"accuracy|150|1|" + entityRun + "|NULL|NULL", "accuracy|160|2|" + entityRun + "|eval|1a2b3c"})
			compareSets(t, "trace_info", d.strRows(7, "SELECT request_id, experiment_id, timestamp_ms, execution_time_ms, status, request_preview, response_preview FROM trace_info"),
				[]string{`tr-aaaa|1|1766363356016|1500|OK|{"q": "hi"}|`})
			compareSets(t, "trace_request_metadata", d.strRows(2, `SELECT "key", value FROM trace_request_metadata`), []string{"mlflow.traceOutputs|"})
			compareSets(t, "assessments", d.strRows(14, "SELECT assessment_id, name, assessment_type, value, error, created_timestamp, last_updated_timestamp, source_type, source_id, run_id, span_id, rationale, overrides, assessment_metadata FROM assessments"),
				[]string{
					`a-1|correct|feedback|true|{"error_code": "TIMEOUT", "error_message": "judge timed out"}|1766363400500|1766363460000|LLM_JUDGE|judge@x|` + entityRun +
						`|NULL|fine|NULL|{"mlflow.assessment.sourceRunId": "` + entityRun + `", "note": "\u00e9"}`,
					`a-2|expected|expectation|{"b": [1, 2.0], "a": "x"}|NULL|1766363520000|1766363520000|HUMAN|ann|NULL|s1|NULL|a-1|NULL`,
				})
			compareSets(t, "assessments.valid", d.strRows(1, "SELECT assessment_id FROM assessments WHERE valid = ?", true), []string{"a-1"})
			compareSets(t, "model_versions", d.strRows(5, "SELECT name, version, current_stage, source, run_id FROM model_versions"), []string{
				"legacy|1|Archived|file:///s/1/" + entityRun + "/artifacts/model|" + entityRun,
				"legacy|2|Production|file:///s/1/" + entityRun + "/artifacts/model|" + entityRun,
				"prompt|1|None|NULL|NULL", "prompt|2|None|models:/prompt/1|NULL",
			})
			compareSets(t, "registered_model_aliases", d.strRows(3, "SELECT name, alias, version FROM registered_model_aliases"), []string{"prompt|latest|2", "prompt|prod|1"})
			compareSets(t, "registered_model_tags", d.strRows(3, `SELECT name, "key", value FROM registered_model_tags`), []string{"prompt|mlflow.prompt.is_prompt|true"})
			compareSets(t, "model_version_tags", d.strRows(4, `SELECT name, version, "key", value FROM model_version_tags`), []string{"legacy|2|approved|true"})
			d.close()
			for _, c := range report.Counts {
				// latest_metrics are computed, and the run-name tag is added by MLflow's rule.
				if c.Entity != "latest_metrics" && c.Entity != "tags" && c.Read != c.Created+c.Merged+c.Skipped+c.Rejected {
					t.Errorf("%s: read %d, but created %d + merged %d + skipped %d + rejected %d", c.Entity, c.Read, c.Created, c.Merged, c.Skipped, c.Rejected)
				}
				if c.Entity == "assessments" && c.Created != 2 || c.Entity == "model_aliases" && c.Created != 2 {
					t.Errorf("%s: %+v", c.Entity, c.Count)
				}
			}
			if vr := verifyPaths(t, uri, root); len(vr.Differences) > 0 {
				t.Errorf("verify after import: %+v", vr.Differences)
			}
			again, err := importPaths(t, uri, importer.Options{}, root)
			if err != nil {
				t.Fatal(err)
			}
			if !again.NothingNew() {
				t.Errorf("a second import wrote rows: %+v", again.Counts)
			}
		})
	}
}

// TestLoggedModelsIntoAnOlderSchema: a file store with logged models into a schema of
// MLflow 2.8 – 2.12, which has no logged_models table, stops before writing, naming the
// table, as a database source does; with --skip-unsupported the models and the runs'
// edges to them are left out and said so, and no inputs row points at nothing.
func TestLoggedModelsIntoAnOlderSchema(t *testing.T) {
	root := testenv.Sample(t, "dmatrix-logged-models/mlruns")
	older, _ := schema.Lookup("acf3f17fdcc7")
	dumped := filepath.Join(t.TempDir(), "dump")
	exportTo(t, root, dumped, false)
	for _, target := range targets {
		t.Run(target.name, func(t *testing.T) {
			// A dump of the same store is checked the same way before writing.
			uri := target.uri(t)
			createAt(t, uri, older)
			_, err := importPaths(t, uri, importer.Options{}, dumped)
			if !errors.Is(err, importer.ErrUnsupported) || !strings.Contains(err.Error(), "table logged_models, 3 rows") || !strings.Contains(err.Error(), "Nothing was written") {
				t.Fatalf("a dump into a schema without logged_models: %v", err)
			}
			if n := count(t, uri, "runs"); n != 0 {
				t.Errorf("%d runs of the dump written before the refusal", n)
			}
			_, err = importPaths(t, uri, importer.Options{}, root)
			if !errors.Is(err, importer.ErrUnsupported) || !strings.Contains(err.Error(), "table logged_models, 3 rows") || !strings.Contains(err.Error(), "Nothing was written") {
				t.Fatalf("into a schema without logged_models: %v", err)
			}
			if n := count(t, uri, "runs"); n != 0 {
				t.Errorf("%d runs written before the refusal", n)
			}
			report, err := importPaths(t, uri, importer.Options{SkipUnsupported: true}, root)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(fmt.Sprint(report.Skipped), "run inputs and outputs of logged models left out") {
				t.Errorf("the model edges left out are not reported: %v", report.Skipped)
			}
			d := openDB(t, uri)
			defer d.close()
			if n := d.count("SELECT COUNT(*) FROM inputs WHERE destination_type IN ('MODEL_INPUT', 'MODEL_OUTPUT') OR source_type IN ('MODEL_INPUT', 'MODEL_OUTPUT')"); n != 0 {
				t.Errorf("%d inputs rows point at logged models the target cannot hold", n)
			}
		})
	}
}

// TestLoggedModelMetricOfAnAbsentRun: a logged model whose metric names a run neither
// the import nor the target holds is imported with that metric left out and named, also
// into a target that holds runs (where the run is looked up there, outside any run).
func TestLoggedModelMetricOfAnAbsentRun(t *testing.T) {
	const absentRun = "00000000000000000000000000000abc"
	uri := testenv.SQLite(t)
	if _, err := importPaths(t, uri, importer.Options{}, entityStore(t)); err != nil {
		t.Fatal(err)
	}
	second := writeFiles(t, map[string]string{
		"0/meta.yaml": "artifact_location: file:///s/0\nexperiment_id: '0'\nlifecycle_stage: active\nname: Default\n",
		"1/meta.yaml": "artifact_location: file:///s/1\nexperiment_id: '1'\nlifecycle_stage: active\nname: agents\n",
		"1/models/m-00000000000000000000000000000002/meta.yaml": "artifact_location: file:///s/1/models/m-2/artifacts\ncreation_timestamp: 100\nexperiment_id: '1'\n" +
			"last_updated_timestamp: 200\nmodel_id: m-00000000000000000000000000000002\nmodel_type: agent\nname: second\nsource_run_id: null\nstatus: READY\nstatus_message: null\n",
		"1/models/m-00000000000000000000000000000002/metrics/accuracy": "150 0.75 1 " + absentRun + "\n160 0.8 2 " + entityRun + "\n",
	})
	report, err := importPaths(t, uri, importer.Options{}, second)
	if err != nil {
		t.Fatal(err)
	}
	if notes := fmt.Sprint(report.Skipped); !strings.Contains(notes, "run "+absentRun+" left out: the run is not in the target") {
		t.Errorf("the report does not name the metric of the absent run: %s", notes)
	}
	d := openDB(t, uri)
	defer d.close()
	compareSets(t, "logged_model_metrics of the second model", d.strRows(2, "SELECT metric_step, run_id FROM logged_model_metrics WHERE model_id = ?", "m-00000000000000000000000000000002"),
		[]string{"2|" + entityRun})
}
