package verify_test

import (
	"strings"
	"testing"

	"github.com/mlflow-bulk/mlflow-bulk/importer"
	"github.com/mlflow-bulk/mlflow-bulk/internal/importtest"
	"github.com/mlflow-bulk/mlflow-bulk/internal/testenv"
	"github.com/mlflow-bulk/mlflow-bulk/verify"
)

// tamper is one change made to a target behind an import's back, and how to undo it.
type tamper struct {
	name       string
	do, undo   []string
	wantKind   string // a difference of this kind must be reported
	caseFolded bool   // only where the target's collation folds case
}

var tampers = []tamper{
	{name: "trace tag", wantKind: "row extra",
		do:   []string{`INSERT INTO trace_tags ("key", value, request_id) SELECT 'tampered', 'x', MIN(request_id) FROM trace_info`},
		undo: []string{`DELETE FROM trace_tags WHERE "key" = 'tampered'`}},
	{name: "request metadata", wantKind: "row extra",
		do:   []string{`INSERT INTO trace_request_metadata ("key", value, request_id) SELECT 'tampered', 'x', MIN(request_id) FROM trace_info`},
		undo: []string{`DELETE FROM trace_request_metadata WHERE "key" = 'tampered'`}},
	{name: "assessment", wantKind: "row extra",
		do: []string{`INSERT INTO assessments (assessment_id, trace_id, name, assessment_type, value, created_timestamp, last_updated_timestamp, source_type, valid)
			SELECT 'a-tampered', MIN(request_id), 'n', 'feedback', '1', 1, 1, 'HUMAN', false FROM trace_info`},
		undo: []string{`DELETE FROM assessments WHERE assessment_id = 'a-tampered'`}},
	{name: "span", wantKind: "row extra",
		do: []string{`INSERT INTO spans (trace_id, experiment_id, span_id, name, type, status, start_time_unix_nano, content)
			SELECT request_id, experiment_id, 'tampered', 'n', 'LLM', 'OK', 1, '{}' FROM trace_info WHERE request_id = (SELECT MIN(request_id) FROM trace_info)`},
		undo: []string{`DELETE FROM spans WHERE span_id = 'tampered'`}},
	{name: "model version tag", wantKind: "row extra",
		do:   []string{`INSERT INTO model_version_tags ("key", value, name, version) SELECT 'tampered', 'x', name, MIN(version) FROM model_versions GROUP BY name`},
		undo: []string{`DELETE FROM model_version_tags WHERE "key" = 'tampered'`}},
	{name: "registered model tag", wantKind: "row extra",
		do:   []string{`INSERT INTO registered_model_tags ("key", value, name) SELECT 'tampered', 'x', name FROM registered_models`},
		undo: []string{`DELETE FROM registered_model_tags WHERE "key" = 'tampered'`}},
	{name: "alias", wantKind: "row extra",
		do:   []string{`INSERT INTO registered_model_aliases (alias, version, name) SELECT 'tampered', MIN(version), name FROM model_versions GROUP BY name`},
		undo: []string{`DELETE FROM registered_model_aliases WHERE alias = 'tampered'`}},
	{name: "model version", wantKind: "row extra",
		do: []string{`INSERT INTO model_versions (name, version, creation_time, last_updated_time, current_stage, source, status)
			SELECT name, 999, 1, 1, 'None', 's3://x', 'READY' FROM registered_models`},
		undo: []string{`DELETE FROM model_versions WHERE version = 999`}},
	{name: "logged model param", wantKind: "row extra",
		do:   []string{`INSERT INTO logged_model_params (model_id, experiment_id, param_key, param_value) SELECT model_id, experiment_id, 'tampered', 'x' FROM logged_models`},
		undo: []string{`DELETE FROM logged_model_params WHERE param_key = 'tampered'`}},
	{name: "logged model tag", wantKind: "row extra",
		do:   []string{`INSERT INTO logged_model_tags (model_id, experiment_id, tag_key, tag_value) SELECT model_id, experiment_id, 'tampered', 'x' FROM logged_models`},
		undo: []string{`DELETE FROM logged_model_tags WHERE tag_key = 'tampered'`}},
	{name: "trace", wantKind: "trace extra",
		do:   []string{`INSERT INTO trace_info (request_id, experiment_id, timestamp_ms, status) SELECT 'tr-tampered', MIN(experiment_id), 1, 'OK' FROM trace_info`},
		undo: []string{`DELETE FROM trace_info WHERE request_id = 'tr-tampered'`}},
	{name: "logged model", wantKind: "logged model extra",
		do: []string{`INSERT INTO logged_models (model_id, experiment_id, name, artifact_location, creation_timestamp_ms, last_updated_timestamp_ms, status)
			SELECT 'm-tampered', MAX(experiment_id), 'x', 'a', 1, 1, 1 FROM logged_models`},
		undo: []string{`DELETE FROM logged_models WHERE model_id = 'm-tampered'`}},
	{name: "dataset", wantKind: "dataset extra",
		do: []string{`INSERT INTO datasets (dataset_uuid, experiment_id, name, digest, dataset_source_type, dataset_source)
			SELECT 'd-tampered', MAX(experiment_id), 'tampered', 'y', 'local', 's' FROM datasets`},
		undo: []string{`DELETE FROM datasets WHERE dataset_uuid = 'd-tampered'`}},
	{name: "input", wantKind: "input extra",
		do: []string{`INSERT INTO inputs (input_uuid, source_type, source_id, destination_type, destination_id)
			SELECT 'i-tampered', 'DATASET', MIN(dataset_uuid), 'RUN', '0123456789abcdef0123456789abcdef' FROM datasets`},
		undo: []string{`DELETE FROM inputs WHERE input_uuid = 'i-tampered'`}},
	{name: "input tag", wantKind: "input differs",
		do:   []string{`INSERT INTO input_tags (input_uuid, name, value) SELECT MIN(input_uuid), 'tampered', 'x' FROM inputs WHERE source_type = 'DATASET'`},
		undo: []string{`DELETE FROM input_tags WHERE name = 'tampered'`}},
	{name: "scorer", wantKind: "row extra",
		do:   []string{`INSERT INTO scorers (experiment_id, scorer_name, scorer_id) SELECT MIN(experiment_id), 'tampered', 's-tampered' FROM trace_info`},
		undo: []string{`DELETE FROM scorers WHERE scorer_id = 's-tampered'`}},
	{name: "issue", wantKind: "row extra",
		do: []string{`INSERT INTO issues (issue_id, experiment_id, name, description, status, created_timestamp, last_updated_timestamp)
			SELECT 'i-tampered', MIN(experiment_id), 'n', 'd', 'open', 1, 1 FROM trace_info`},
		undo: []string{`DELETE FROM issues WHERE issue_id = 'i-tampered'`}},
	{name: "param key case", wantKind: "param differs", caseFolded: true,
		do:   []string{`UPDATE params SET "key" = 'SQL' WHERE "key" = 'sql'`},
		undo: []string{`UPDATE params SET "key" = 'sql' WHERE "key" = 'SQL'`}},
	{name: "tag key case", wantKind: "tag differs", caseFolded: true,
		do:   []string{`UPDATE tags SET "key" = 'MULTI' WHERE "key" = 'multi'`},
		undo: []string{`UPDATE tags SET "key" = 'multi' WHERE "key" = 'MULTI'`}},
	{name: "metric key case", wantKind: "metric key differs", caseFolded: true,
		do:   []string{`UPDATE metrics SET "key" = 'LOSS' WHERE "key" = 'loss'`, `UPDATE latest_metrics SET "key" = 'LOSS' WHERE "key" = 'loss'`},
		undo: []string{`UPDATE metrics SET "key" = 'loss' WHERE "key" = 'LOSS'`, `UPDATE latest_metrics SET "key" = 'loss' WHERE "key" = 'LOSS'`}},
	{name: "experiment name case", wantKind: "experiment differs", caseFolded: true,
		do:   []string{`UPDATE experiments SET name = 'TRAPS' WHERE name = 'traps'`},
		undo: []string{`UPDATE experiments SET name = 'traps' WHERE name = 'TRAPS'`}},
}

// TestVerifySeesRowsAddedOutsideRuns tampers with an imported target, one change at a
// time, beside the runs (traces, the registry, logged models, datasets) and, where the
// collation folds case, in the spelling of keys and names: verify reports each, and is
// clean again once it is undone.
func TestVerifySeesRowsAddedOutsideRuns(t *testing.T) {
	srcs := []string{
		importtest.HostileStore(t),
		testenv.Sample(t, "yizhehong-ecu-agent-sqlite/mlflow.db"),
		testenv.Sample(t, "sqlite-bloodglucose-mlflow3/mlflow/mlflow.db"),
		testenv.Sample(t, "dmatrix-logged-models/mlruns"), // datasets in an experiment of its own
	}
	for _, target := range importtest.Targets {
		t.Run(target.Name, func(t *testing.T) {
			uri := target.URI(t)
			if _, err := importtest.Import(t, uri, importer.Options{}, srcs...); err != nil {
				t.Fatal(err)
			}
			if r := importtest.Verify(t, uri, verify.Options{}, srcs...); len(r.Differences) != 0 {
				t.Fatalf("verify before tampering: %v", r.Differences)
			}
			for _, tp := range tampers {
				if tp.caseFolded && !target.Folds {
					continue
				}
				importtest.SetUp(t, uri, tp.do...)
				r := importtest.Verify(t, uri, verify.Options{}, srcs...)
				found := false
				for _, d := range r.Differences {
					found = found || d.Kind == tp.wantKind
				}
				if !found {
					t.Errorf("%s: no %q among %v", tp.name, tp.wantKind, kinds(r.Differences))
				}
				importtest.SetUp(t, uri, tp.undo...)
			}
			if r := importtest.Verify(t, uri, verify.Options{}, srcs...); len(r.Differences) != 0 {
				t.Errorf("verify after undoing: %v", r.Differences)
			}
		})
	}
}

func kinds(ds []verify.Difference) string {
	var out []string
	for _, d := range ds {
		out = append(out, d.Kind+" "+d.Key)
	}
	return strings.Join(out, "; ")
}

// TestVerifySeesRowsAddedToCopiedTables: a table copied as rows belongs to an experiment
// by a column naming it (scorers) or through its parent (a scorer's versions). A row
// added to either in an experiment of the source's own is reported; the source's own
// rows are not.
func TestVerifySeesRowsAddedToCopiedTables(t *testing.T) {
	source := testenv.SQLite(t)
	store := importtest.StoreWith(t, map[string]string{"params/p": "1", "metrics/m": "1 2 3\n"})
	// An experiment with a creation time is the source's own in the target.
	importtest.WriteFile(t, store, "1/meta.yaml", "artifact_location: /a/1\ncreation_time: 1000\nexperiment_id: '1'\nlifecycle_stage: active\nname: traps\n")
	if _, err := importtest.Import(t, source, importer.Options{}, store); err != nil {
		t.Fatal(err)
	}
	importtest.SetUp(t, source, `INSERT INTO scorers (experiment_id, scorer_name, scorer_id) SELECT MAX(experiment_id), 'mine', 's-1' FROM runs`,
		`INSERT INTO scorer_versions (scorer_id, scorer_version, serialized_scorer, creation_time) VALUES ('s-1', 1, '{}', 1)`)
	src := strings.TrimPrefix(source, "sqlite:///")
	for _, target := range importtest.Targets {
		t.Run(target.Name, func(t *testing.T) {
			uri := target.URI(t)
			if _, err := importtest.Import(t, uri, importer.Options{}, src); err != nil {
				t.Fatal(err)
			}
			if r := importtest.Verify(t, uri, verify.Options{}, src); len(r.Differences) != 0 {
				t.Fatalf("verify after the import: %v", r.Differences)
			}
			for _, tp := range []tamper{
				{name: "scorer_versions", do: []string{`INSERT INTO scorer_versions (scorer_id, scorer_version, serialized_scorer, creation_time) VALUES ('s-1', 2, '{}', 2)`},
					undo: []string{`DELETE FROM scorer_versions WHERE scorer_version = 2`}},
				{name: "scorers", do: []string{`INSERT INTO scorers (experiment_id, scorer_name, scorer_id) SELECT MAX(experiment_id), 'theirs', 's-2' FROM runs`},
					undo: []string{`DELETE FROM scorers WHERE scorer_id = 's-2'`}},
			} {
				importtest.SetUp(t, uri, tp.do...)
				r := importtest.Verify(t, uri, verify.Options{}, src)
				if len(r.Differences) != 1 || r.Differences[0].Kind != "row extra" || !strings.Contains(r.Differences[0].Detail, "a row of "+tp.name+" ") {
					t.Errorf("%s: %v", tp.name, r.Differences)
				}
				importtest.SetUp(t, uri, tp.undo...)
			}
			if r := importtest.Verify(t, uri, verify.Options{}, src); len(r.Differences) != 0 {
				t.Errorf("verify after undoing: %v", r.Differences)
			}
		})
	}
}
