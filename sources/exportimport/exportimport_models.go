package exportimport

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/mlflow-bulk/mlflow-bulk/sources"
	"github.com/mlflow-bulk/mlflow-bulk/sources/internal/jsonfile"
	"github.com/mlflow-bulk/mlflow-bulk/sources/pyvalue"
)

// The model side of mlflow-export-import's exports: registered models (model.json, one
// per model, in single and bulk exports), single model versions (model_version.json,
// with the version's run exported beside it in run/), and logged models
// (logged_model.json, one per model, listed per experiment in logged_models.json).

// flexInt is a number mlflow-export-import writes as a JSON number or as text ("3").
type flexInt int64

func (n *flexInt) UnmarshalJSON(b []byte) error {
	text := string(bytes.Trim(bytes.TrimSpace(b), `"`))
	v, err := strconv.ParseInt(text, 10, 64)
	if err != nil {
		f, ferr := strconv.ParseFloat(text, 64)
		if ferr != nil || f != float64(int64(f)) {
			return fmt.Errorf("%s is not a whole number", b)
		}
		v = int64(f)
	}
	*n = flexInt(v)
	return nil
}

// flexText is text that the tool may also write as a number or a boolean.
type flexText string

func (s *flexText) UnmarshalJSON(b []byte) error {
	var text string
	if err := json.Unmarshal(b, &text); err == nil {
		*s = flexText(text)
		return nil
	}
	*s = flexText(bytes.TrimSpace(b))
	return nil
}

type eiModelVersion struct {
	Name                 string          `json:"name"`
	Version              flexInt         `json:"version"`
	CreationTimestamp    *int64          `json:"creation_timestamp"`
	LastUpdatedTimestamp *int64          `json:"last_updated_timestamp"`
	Description          *string         `json:"description"`
	UserID               *string         `json:"user_id"`
	CurrentStage         *string         `json:"current_stage"`
	Source               *string         `json:"source"`
	RunID                *string         `json:"run_id"`
	RunLink              *string         `json:"run_link"`
	Status               *string         `json:"status"`
	StatusMessage        *string         `json:"status_message"`
	StorageLocation      *string         `json:"storage_location"`
	Tags                 jsonfile.TagMap `json:"tags"`
	Aliases              []string        `json:"aliases"`
}

type eiAlias struct {
	Alias   string  `json:"alias"`
	Version flexInt `json:"version"`
}

type eiModelFile struct {
	Mlflow struct {
		RegisteredModel *struct {
			Name                 string           `json:"name"`
			CreationTimestamp    *int64           `json:"creation_timestamp"`
			LastUpdatedTimestamp *int64           `json:"last_updated_timestamp"`
			Description          *string          `json:"description"`
			Tags                 jsonfile.TagMap  `json:"tags"`
			Aliases              []eiAlias        `json:"aliases"`
			Versions             []eiModelVersion `json:"versions"`
			LatestVersions       []eiModelVersion `json:"latest_versions"`
		} `json:"registered_model"`
		ModelVersion *eiModelVersion `json:"model_version"`
	} `json:"mlflow"`
}

type eiMetric struct {
	Key           string         `json:"key"`
	Value         jsonfile.Float `json:"value"`
	Timestamp     int64          `json:"timestamp"`
	Step          int64          `json:"step"`
	RunID         string         `json:"run_id"`
	DatasetName   *string        `json:"dataset_name"`
	DatasetDigest *string        `json:"dataset_digest"`
}

type eiLoggedModelFile struct {
	Mlflow struct {
		ModelID              string          `json:"model_id"`
		ExperimentID         flexText        `json:"experiment_id"`
		Name                 string          `json:"name"`
		ArtifactLocation     string          `json:"artifact_location"`
		CreationTimestamp    int64           `json:"creation_timestamp"`
		LastUpdatedTimestamp int64           `json:"last_updated_timestamp"`
		Status               *flexText       `json:"status"`
		StatusMessage        *string         `json:"status_message"`
		ModelType            *string         `json:"model_type"`
		SourceRunID          *string         `json:"source_run_id"`
		LifecycleStage       *string         `json:"lifecycle_stage"`
		Tags                 jsonfile.TagMap `json:"tags"`
		Params               jsonfile.TagMap `json:"params"`
		Metrics              []eiMetric      `json:"metrics"`
	} `json:"mlflow"`
}

func readModelFile(path string) (*eiModelFile, error) {
	var f eiModelFile
	return &f, readJSONInto(path, &f)
}

func (v eiModelVersion) record() sources.ModelVersion {
	mv := sources.ModelVersion{Version: int64(v.Version), CreationTime: v.CreationTimestamp, LastUpdatedTime: v.LastUpdatedTimestamp,
		Description: v.Description, UserID: v.UserID, CurrentStage: v.CurrentStage, Source: v.Source, RunID: v.RunID,
		Status: v.Status, StatusMessage: v.StatusMessage, RunLink: v.RunLink, StorageLocation: v.StorageLocation,
		Tags: sortedTags(v.Tags)}
	if mv.CurrentStage == nil {
		stage := "None"
		mv.CurrentStage = &stage
	}
	if mv.Status == nil {
		status := "READY"
		mv.Status = &status
	}
	return mv
}

// parseRegisteredModel reads model.json (a registered model with its versions) or
// model_version.json (one version, the model named by it).
func parseEIRegisteredModel(path string) (*sources.RegisteredModel, error) {
	f, err := readModelFile(path)
	if err != nil {
		return nil, err
	}
	if mv := f.Mlflow.ModelVersion; mv != nil {
		if mv.Name == "" {
			return nil, &sources.InputError{File: path, Err: errors.New("model_version without the name of its registered model")}
		}
		return &sources.RegisteredModel{Name: mv.Name, Versions: []sources.ModelVersion{mv.record()}, Origin: sources.Origin{File: path}}, nil
	}
	rm := f.Mlflow.RegisteredModel
	if rm == nil || rm.Name == "" {
		return nil, &sources.InputError{File: path, Err: errors.New("no \"registered_model\" with a name in it")}
	}
	out := &sources.RegisteredModel{Name: rm.Name, CreationTime: rm.CreationTimestamp, LastUpdatedTime: rm.LastUpdatedTimestamp,
		Description: rm.Description, Tags: sortedTags(rm.Tags), Origin: sources.Origin{File: path}}
	versions := rm.Versions
	if len(versions) == 0 {
		versions = rm.LatestVersions // exports before tool 1.2 keep only the latest version per stage
	}
	seen := map[int64]bool{}
	for _, v := range versions {
		if seen[int64(v.Version)] {
			continue
		}
		seen[int64(v.Version)] = true
		out.Versions = append(out.Versions, v.record())
	}
	sort.Slice(out.Versions, func(i, j int) bool { return out.Versions[i].Version < out.Versions[j].Version })
	for _, a := range rm.Aliases {
		out.Aliases = append(out.Aliases, sources.ModelAlias{Alias: a.Alias, Version: int64(a.Version)})
	}
	for _, v := range versions { // versions also list their aliases
		for _, alias := range v.Aliases {
			if !hasAlias(out.Aliases, alias) {
				out.Aliases = append(out.Aliases, sources.ModelAlias{Alias: alias, Version: int64(v.Version)})
			}
		}
	}
	sort.Slice(out.Aliases, func(i, j int) bool { return out.Aliases[i].Alias < out.Aliases[j].Alias })
	return out, nil
}

func hasAlias(list []sources.ModelAlias, alias string) bool {
	for _, a := range list {
		if a.Alias == alias {
			return true
		}
	}
	return false
}

// parseEILoggedModel reads logged_model.json into the experiment expID names in this
// source.
func parseEILoggedModel(path, expID string) (*sources.LoggedModel, error) {
	var f eiLoggedModelFile
	if err := readJSONInto(path, &f); err != nil {
		return nil, err
	}
	m := f.Mlflow
	if m.ModelID == "" {
		return nil, &sources.InputError{File: path, Err: errors.New("logged model without model_id")}
	}
	lm := &sources.LoggedModel{ModelID: m.ModelID, ExperimentSourceID: expID, Name: m.Name, ArtifactLocation: m.ArtifactLocation,
		CreationTimestamp: m.CreationTimestamp, LastUpdatedTimestamp: m.LastUpdatedTimestamp, StatusMessage: m.StatusMessage,
		ModelType: m.ModelType, SourceRunID: m.SourceRunID, Params: sortedTags(m.Params), Tags: sortedTags(m.Tags), Origin: sources.Origin{File: path}}
	stage := string(sources.LifecycleActive)
	if m.LifecycleStage != nil && *m.LifecycleStage != "" {
		stage = *m.LifecycleStage
	}
	lm.LifecycleStage = &stage
	if m.Status != nil {
		status, ok := loggedModelStatusByName(string(*m.Status))
		if !ok {
			return nil, &sources.InputError{File: path, Err: fmt.Errorf("unknown logged-model status %q", *m.Status)}
		}
		lm.Status = status
	}
	for _, mm := range m.Metrics {
		value := float64(mm.Value)
		lm.Metrics = append(lm.Metrics, sources.ModelMetric{ExperimentSourceID: expID, Name: mm.Key, Timestamp: mm.Timestamp, Step: mm.Step,
			Value: &value, RunID: mm.RunID, DatasetName: mm.DatasetName, DatasetDigest: mm.DatasetDigest})
	}
	return lm, nil
}

// loggedModelStatusByName reads a logged-model status given as its number or its name
// (with or without MLflow's LOGGED_MODEL_ prefix).
func loggedModelStatusByName(s string) (int64, bool) {
	if v, err := strconv.ParseInt(s, 10, 64); err == nil {
		return v, v >= 0 && v < int64(len(sources.LoggedModelStatuses))
	}
	name := strings.TrimPrefix(strings.ToUpper(s), "LOGGED_MODEL_")
	for i, known := range sources.LoggedModelStatuses {
		if name == known || name == "UPLOAD_"+known || name == "STATUS_"+known {
			return int64(i), true
		}
	}
	return 0, false
}

// loggedModelExperiment is the experiment folder a logged_model.json sits in:
// <experiment>/logged_models/<model id>/logged_model.json.
func loggedModelExperiment(path string) string {
	dir := filepath.Dir(filepath.Dir(path))
	if filepath.Base(dir) == "logged_models" {
		return filepath.Dir(dir)
	}
	return ""
}

// parseEIPrompt reads prompt.json (one version of a prompt of MLflow's prompt registry)
// into the registry rows MLflow keeps for it: a registered model tagged as a prompt,
// and a version holding the template in its tags, the commit message as its description.
func parseEIPrompt(path string) (*sources.RegisteredModel, error) {
	var f struct {
		Mlflow struct {
			Prompt *struct {
				Name                 string          `json:"name"`
				Version              flexInt         `json:"version"`
				Template             json.RawMessage `json:"template"`
				Tags                 jsonfile.TagMap `json:"tags"`
				CreationTimestamp    *int64          `json:"creation_timestamp"`
				LastUpdatedTimestamp *int64          `json:"last_updated_timestamp"`
				UserID               *string         `json:"user_id"`
				Description          *string         `json:"description"`
				CommitMessage        *string         `json:"commit_message"`
			} `json:"prompt"`
		} `json:"mlflow"`
	}
	if err := readJSONInto(path, &f); err != nil {
		return nil, err
	}
	p := f.Mlflow.Prompt
	if p == nil || p.Name == "" {
		return nil, &sources.InputError{File: path, Err: errors.New("no \"prompt\" with a name in it")}
	}
	var text, kind string
	if err := json.Unmarshal(p.Template, &text); err == nil {
		kind = "text"
	} else {
		// A chat prompt: a list of messages, which MLflow keeps as JSON text.
		v, err := pyvalue.FromJSON(string(p.Template))
		if err != nil {
			return nil, &sources.InputError{File: path, Err: fmt.Errorf("template: %w", err)}
		}
		text, kind = pyvalue.JSONDumps(v), "chat"
	}
	tags := sortedTags(p.Tags)
	tags = append(tags, sources.Tag{Key: "mlflow.prompt.is_prompt", Value: "true"}, sources.Tag{Key: "mlflow.prompt.text", Value: text}, sources.Tag{Key: "_mlflow_prompt_type", Value: kind})
	stage, status, source := "None", "READY", "dummy-source"
	v := sources.ModelVersion{Version: int64(p.Version), CreationTime: p.CreationTimestamp, LastUpdatedTime: p.LastUpdatedTimestamp, UserID: p.UserID,
		Description: p.CommitMessage, CurrentStage: &stage, Status: &status, Source: &source, StorageLocation: &source, Tags: tags}
	rm := &sources.RegisteredModel{Name: p.Name, Tags: []sources.Tag{{Key: "mlflow.prompt.is_prompt", Value: "true"}}, Versions: []sources.ModelVersion{v}, Origin: sources.Origin{File: path}}
	if p.Description != nil && *p.Description != "" && (p.CommitMessage == nil || *p.Description != *p.CommitMessage) {
		rm.Description = p.Description
	}
	return rm, nil
}

// parseEITrace reads trace.json (a trace's info as the tool writes it: MLflow 3's trace
// fields, or MLflow 2's) into the rows of MLflow's trace tables, in the experiment expID
// names in this source.
func parseEITrace(path, expID string) (*sources.Trace, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &sources.InputError{File: path, Err: err}
	}
	doc, err := pyvalue.FromJSON(string(jsonfile.PythonJSON(data)))
	if err != nil {
		return nil, &sources.InputError{File: path, Err: fmt.Errorf("invalid JSON: %w", err)}
	}
	info := pyPath(doc, "mlflow", "info")
	infoMap, ok := info.(pyvalue.Map)
	if !ok {
		return nil, &sources.InputError{File: path, Err: errors.New("no \"mlflow\".\"info\" in it")}
	}
	text := func(keys ...string) any {
		for _, k := range keys {
			if v, ok := infoMap.Get(k); ok && v != nil {
				return pyText(v)
			}
		}
		return nil
	}
	number := func(keys ...string) any {
		for _, k := range keys {
			if v, ok := infoMap.Get(k); ok && v != nil {
				switch n := v.(type) {
				case int64:
					return n
				case float64:
					return int64(n)
				}
			}
		}
		return nil
	}
	id, _ := text("trace_id", "request_id").(string)
	if id == "" {
		return nil, &sources.InputError{File: path, Err: errors.New("trace without trace_id or request_id")}
	}
	start := number("request_time", "timestamp_ms")
	if start == nil {
		return nil, &sources.InputError{File: path, Err: fmt.Errorf("trace %s without a start time", id)}
	}
	status := text("state", "status")
	if status == nil {
		status = "STATE_UNSPECIFIED"
	}
	row := sources.TableRows{Table: "trace_info", Columns: []string{"request_id", "experiment_id", "timestamp_ms", "execution_time_ms", "status"},
		Rows: [][]any{{id, expID, start, number("execution_duration", "execution_time_ms"), status}}}
	for _, c := range []string{"client_request_id", "request_preview", "response_preview"} {
		if v := text(c); v != nil {
			row.Columns = append(row.Columns, c)
			row.Rows[0] = append(row.Rows[0], v)
		}
	}
	tr := &sources.Trace{RequestID: id, ExperimentSourceID: expID, Tables: []sources.TableRows{row}, Origin: sources.Origin{File: path}}
	for _, kv := range []struct {
		table string
		keys  []string
	}{{"trace_tags", []string{"tags"}}, {"trace_request_metadata", []string{"trace_metadata", "request_metadata"}}} {
		rows := sources.TableRows{Table: kv.table, Columns: []string{"key", "value", "request_id"}}
		for _, k := range kv.keys {
			m, _ := pyPath(infoMap, k).(pyvalue.Map)
			for _, p := range m {
				rows.Rows = append(rows.Rows, []any{p.Key, pyText(p.Value), id})
			}
		}
		if len(rows.Rows) > 0 {
			tr.Tables = append(tr.Tables, rows)
		}
	}
	list, _ := pyPath(infoMap, "assessments").([]pyvalue.Value)
	if len(list) > 0 {
		rows := sources.TableRows{Table: "assessments", Columns: []string{"assessment_id", "trace_id", "name", "assessment_type", "value", "error",
			"created_timestamp", "last_updated_timestamp", "source_type", "source_id", "run_id", "span_id", "rationale", "overrides", "valid", "assessment_metadata"}}
		for _, a := range list {
			r, err := exportedAssessment(a, id)
			if err != nil {
				return nil, &sources.InputError{File: path, Err: err}
			}
			rows.Rows = append(rows.Rows, r)
		}
		tr.Tables = append(tr.Tables, rows)
	}
	return tr, nil
}

// exportedAssessment is an assessment of trace.json as a row of MLflow's assessments
// table: the tool writes the assessment's own fields, a feedback as {value, error}, an
// expectation as its bare value.
func exportedAssessment(a pyvalue.Value, traceID string) ([]any, error) {
	m, ok := a.(pyvalue.Map)
	if !ok {
		return nil, errors.New("an assessment that is not an object")
	}
	get := func(k string) pyvalue.Value { v, _ := m.Get(k); return v }
	orNil := func(v pyvalue.Value) any {
		if v == nil {
			return nil
		}
		return pyText(v)
	}
	id, _ := orNil(get("assessment_id")).(string)
	if id == "" {
		return nil, errors.New("an assessment without assessment_id")
	}
	var kind, value string
	var errorJSON any
	switch {
	case get("feedback") != nil:
		kind = "feedback"
		fb, _ := get("feedback").(pyvalue.Map)
		v, _ := fb.Get("value")
		value = pyvalue.JSONDumps(v)
		if e, _ := fb.Get("error"); e != nil {
			errorJSON = pyvalue.JSONDumps(e)
		}
	case get("expectation") != nil:
		kind = "expectation"
		v := get("expectation")
		if em, isMap := v.(pyvalue.Map); isMap && len(em) == 1 && em[0].Key == "value" {
			v = em[0].Value
		}
		value = pyvalue.JSONDumps(v)
	default:
		return nil, fmt.Errorf("assessment %s with neither feedback nor expectation", id)
	}
	created, _ := get("create_time_ms").(int64)
	updated, ok := get("last_update_time_ms").(int64)
	if !ok {
		updated = created
	}
	sourceType, sourceID := any("SOURCE_TYPE_UNSPECIFIED"), any(nil)
	if src, isMap := get("source").(pyvalue.Map); isMap {
		if v, _ := src.Get("source_type"); v != nil {
			sourceType = pyText(v)
		}
		if v, _ := src.Get("source_id"); v != nil {
			sourceID = pyText(v)
		}
	}
	var metadata any
	runID := orNil(get("run_id"))
	if md, isMap := get("metadata").(pyvalue.Map); isMap && len(md) > 0 {
		metadata = pyvalue.JSONDumps(md)
		if v, _ := md.Get(sources.AssessmentSourceRunID); v != nil && runID == nil {
			runID = pyText(v)
		}
	}
	valid := true
	if v, isBool := get("valid").(bool); isBool {
		valid = v
	}
	return []any{id, traceID, orNil(get("name")), kind, value, errorJSON, created, updated, sourceType, sourceID, runID,
		orNil(get("span_id")), orNil(get("rationale")), orNil(get("overrides")), valid, metadata}, nil
}

// pyPath follows keys through nested objects, nil where one is missing.
func pyPath(v pyvalue.Value, keys ...string) pyvalue.Value {
	for _, k := range keys {
		m, ok := v.(pyvalue.Map)
		if !ok {
			return nil
		}
		v, _ = m.Get(k)
	}
	return v
}

// pyText is a value as text: strings as they are, anything else as JSON.
func pyText(v pyvalue.Value) string {
	if s, ok := v.(string); ok {
		return s
	}
	return pyvalue.JSONDumps(v)
}
