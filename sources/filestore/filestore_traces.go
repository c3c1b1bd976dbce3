package filestore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/mlflow-bulk/mlflow-bulk/sources"
	"github.com/mlflow-bulk/mlflow-bulk/sources/pyvalue"

	"gopkg.in/yaml.v3"
)

// Traces of a file store: <exp>/traces/<trace id>/ with trace_info.yaml, tags/,
// request_metadata/ (one file per key, a zero-byte file an empty value), assessments/
// (<assessment id>.yaml) and artifacts/ (the spans, which stay artifacts: the trace's
// mlflow.artifactLocation tag points at them). MLflow has written two layouts of
// trace_info.yaml: V2 (request_id, timestamp_ms, execution_time_ms, status; still written
// by 3.1) and V3 (trace_id, trace_location, request_time as a timestamp, execution
// duration, state, request and response previews). Both become the rows MLflow's SQL
// store keeps: trace_info, trace_tags, trace_request_metadata and assessments.

const traceInfoFile = "trace_info.yaml"

// traceArtifactTag is the tag naming where a trace's spans are.
const traceArtifactTag = "mlflow.artifactLocation"

// traceArtifactsAt is the trace folder's artifacts folder when its tag names the
// store's own layout (ownArtifacts).
func traceArtifactsAt(tr *sources.Trace, dir, expFolder, folder string) string {
	for _, t := range tr.Tables {
		if t.Table != "trace_tags" {
			continue
		}
		for _, row := range t.Rows {
			if loc, ok := row[1].(string); ok && row[0] == traceArtifactTag {
				return ownArtifacts(dir, loc, expFolder, "traces", folder, "artifacts")
			}
		}
	}
	return ""
}

// readTraces streams the traces of one experiment, in folder-name order.
func (s *fileStore) readTraces(ctx context.Context, exp experimentFolder) error {
	return s.readEntityFolders(ctx, filepath.Join(exp.dir, "traces"), "trace", traceInfoFile, func(path, folder string) (sources.Record, []sources.Record, error) {
		return parseTrace(s.files, path, folder, exp)
	})
}

func parseTrace(files storeFiles, dir, folder string, exp experimentFolder) (*sources.Trace, []sources.Record, error) {
	m, err := readMeta(files, filepath.Join(dir, traceInfoFile))
	if err != nil {
		return nil, nil, err
	}
	id, err := m.str("trace_id")
	if err != nil {
		return nil, nil, err
	}
	if id == "" {
		if id, err = m.str("request_id"); err != nil {
			return nil, nil, err
		}
	}
	if id == "" {
		id = folder
	}
	start, err := traceStart(m)
	if err != nil {
		return nil, nil, err
	}
	duration, err := traceDuration(m)
	if err != nil {
		return nil, nil, err
	}
	status, err := m.str("status")
	if err != nil {
		return nil, nil, err
	}
	if status == "" {
		if status, err = m.str("state"); err != nil {
			return nil, nil, err
		}
	}
	if status == "" {
		status = "STATE_UNSPECIFIED" // V3 leaves out a state that is the enum's default
	}
	info := sources.TableRows{Table: "trace_info",
		Columns: []string{"request_id", "experiment_id", "timestamp_ms", "execution_time_ms", "status"},
		Rows:    [][]any{{id, exp.sourceID, start, duration, status}}}
	for _, field := range []string{"client_request_id", "request_preview", "response_preview"} {
		v, err := m.optStr(field)
		if err != nil {
			return nil, nil, err
		}
		if v != nil {
			info.Columns = append(info.Columns, field)
			info.Rows[0] = append(info.Rows[0], *v)
		}
	}
	tr := &sources.Trace{RequestID: id, ExperimentSourceID: exp.sourceID, Origin: sources.Origin{File: m.file}, Tables: []sources.TableRows{info}}
	for _, kv := range []struct{ table, folder, field string }{
		{"trace_tags", "tags", "tags"},
		{"trace_request_metadata", "request_metadata", "request_metadata"},
	} {
		values, err := readKeyValueFiles(files, filepath.Join(dir, kv.folder))
		if err != nil {
			return nil, nil, err
		}
		if values, err = withEmbedded(m, values, kv.field, kv.field == "request_metadata"); err != nil {
			return nil, nil, err
		}
		rows := sources.TableRows{Table: kv.table, Columns: []string{"key", "value", "request_id"}}
		for _, t := range values {
			rows.Rows = append(rows.Rows, []any{t.Key, t.Value, id})
		}
		if len(rows.Rows) > 0 {
			tr.Tables = append(tr.Tables, rows)
		}
	}
	tr.ArtifactsAt = traceArtifactsAt(tr, dir, exp.id, folder)
	assessments, skips, err := readAssessments(files, filepath.Join(dir, "assessments"), id)
	if err != nil {
		return nil, nil, err
	}
	if n := m.fields["assessments"]; n != nil && n.Kind == yaml.SequenceNode && len(n.Content) > 0 {
		skips = append(skips, &sources.Skipped{Path: m.file, Reason: fmt.Sprintf("%d assessments listed inside %s left out: MLflow's file store reads a trace's assessments from its assessments folder", len(n.Content), traceInfoFile)})
	}
	if len(assessments.Rows) > 0 {
		tr.Tables = append(tr.Tables, assessments)
	}
	return tr, skips, nil
}

// withEmbedded adds the entries of a mapping in trace_info.yaml (V3 can hold tags and
// metadata there) that the folder does not have: the folder's files are what MLflow
// reads and win.
func withEmbedded(m *meta, values []sources.Tag, field string, alsoTraceMetadata bool) ([]sources.Tag, error) {
	fields := []string{field}
	if alsoTraceMetadata {
		fields = append(fields, "trace_metadata")
	}
	have := map[string]bool{}
	for _, t := range values {
		have[t.Key] = true
	}
	for _, f := range fields {
		if n := m.fields[f]; n == nil || n.Kind != yaml.MappingNode {
			continue
		}
		embedded, err := m.stringMap(f)
		if err != nil {
			return nil, err
		}
		for _, t := range embedded {
			if !have[t.Key] {
				have[t.Key] = true
				values = append(values, t)
			}
		}
	}
	return values, nil
}

// traceStart is the trace's start in epoch milliseconds: V2's timestamp_ms, or V3's
// request_time (a protobuf timestamp such as 2025-12-22T00:29:16.016Z, or milliseconds).
func traceStart(m *meta) (int64, error) {
	if v, err := m.optInt("timestamp_ms"); err != nil || v != nil {
		if v == nil {
			return 0, err
		}
		return *v, nil
	}
	n := m.fields["request_time"]
	if isNull(n) {
		return 0, m.errorf(nil, "trace without a start time (neither timestamp_ms nor request_time)")
	}
	if ms, err := strconv.ParseInt(n.Value, 10, 64); err == nil {
		return ms, nil
	}
	t, err := time.Parse(time.RFC3339Nano, n.Value)
	if err != nil {
		return 0, m.errorf(n, "request_time %q is not a timestamp such as 2025-01-31T12:00:00.000Z", n.Value)
	}
	return t.UnixMilli(), nil
}

// traceDuration is the trace's execution time in milliseconds, nil while it runs: V2's
// execution_time_ms, V3's execution_duration_ms, or a protobuf duration ("1.5s").
func traceDuration(m *meta) (any, error) {
	for _, field := range []string{"execution_time_ms", "execution_duration_ms"} {
		if v, err := m.optInt(field); err != nil || v != nil {
			if v == nil {
				return nil, err
			}
			return *v, nil
		}
	}
	n := m.fields["execution_duration"]
	if isNull(n) {
		return nil, nil
	}
	ms, ok := durationMillis(n.Value)
	if !ok {
		return nil, m.errorf(n, "execution_duration %q is not a duration such as 1.5s", n.Value)
	}
	return ms, nil
}

// durationMillis reads a protobuf JSON duration ("0.008s", "-1.5s", "3s") as whole
// milliseconds, cut toward zero as protobuf's ToMilliseconds does.
func durationMillis(s string) (int64, bool) {
	text, ok := strings.CutSuffix(s, "s")
	if !ok || text == "" {
		return 0, false
	}
	r, ok := new(big.Rat).SetString(text)
	if !ok {
		return 0, false
	}
	r.Mul(r, big.NewRat(1000, 1))
	q := new(big.Int).Quo(r.Num(), r.Denom())
	if !q.IsInt64() {
		return 0, false
	}
	return q.Int64(), true
}

// readAssessments reads a trace's assessments/ folder into rows of MLflow's assessments
// table. Values, errors and metadata are stored as the JSON text MLflow's SQL store
// makes of them.
func readAssessments(files storeFiles, dir, traceID string) (sources.TableRows, []sources.Record, error) {
	rows := sources.TableRows{Table: "assessments", Columns: []string{"assessment_id", "trace_id", "name", "assessment_type", "value", "error",
		"created_timestamp", "last_updated_timestamp", "source_type", "source_id", "run_id", "span_id", "rationale", "overrides", "valid", "assessment_metadata"}}
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return rows, nil, nil
	}
	if err != nil {
		return rows, nil, &sources.InputError{File: dir, Err: err}
	}
	var skips []sources.Record
	for _, e := range entries {
		path := filepath.Join(dir, e.Name())
		stem, isYAML := strings.CutSuffix(e.Name(), ".yaml")
		if e.IsDir() || !isYAML {
			skips = append(skips, &sources.Skipped{Path: path, Reason: "not an assessment file (<id>.yaml)"})
			continue
		}
		row, err := parseAssessment(files, path, stem, traceID)
		if errors.Is(err, errEmptyMeta) {
			skips = append(skips, &sources.Skipped{Path: path, Reason: "empty assessment file"})
			continue
		}
		if err != nil {
			return rows, nil, err
		}
		rows.Rows = append(rows.Rows, row)
	}
	return rows, skips, nil
}

func parseAssessment(files storeFiles, path, stem, traceID string) ([]any, error) {
	m, err := readMeta(files, path)
	if err != nil {
		return nil, err
	}
	id, err := m.str("assessment_id")
	if err != nil {
		return nil, err
	}
	if id == "" {
		id = stem
	}
	name, err := m.str("assessment_name")
	if err != nil {
		return nil, err
	}
	if name == "" {
		if name, err = m.str("name"); err != nil {
			return nil, err
		}
	}
	kind, value, errorJSON, err := assessmentValue(m)
	if err != nil {
		return nil, err
	}
	created, err := assessmentTime(m, "create_time")
	if err != nil {
		return nil, err
	}
	if created == nil {
		return nil, m.errorf(nil, "assessment %s without a creation time (create_time)", id)
	}
	updated, err := assessmentTime(m, "last_update_time")
	if err != nil {
		return nil, err
	}
	if updated == nil {
		updated = created
	}
	sourceType, sourceID, err := assessmentSource(m)
	if err != nil {
		return nil, err
	}
	metadata, runID, err := assessmentMetadata(m)
	if err != nil {
		return nil, err
	}
	var optional [4]any // run_id, span_id, rationale, overrides
	for i, field := range []string{"run_id", "span_id", "rationale", "overrides"} {
		v, err := m.optStr(field)
		if err != nil {
			return nil, err
		}
		if v != nil {
			optional[i] = *v
		}
	}
	if optional[0] == nil {
		optional[0] = runID
	}
	valid := true
	if n := m.fields["valid"]; !isNull(n) {
		v, err := pyvalue.Scalar(n)
		b, isBool := v.(bool)
		if err != nil || !isBool {
			return nil, m.errorf(n, "valid: expected true or false, found %q", n.Value)
		}
		valid = b
	}
	return []any{id, traceID, name, kind, value, errorJSON, *created, *updated, sourceType, sourceID, optional[0], optional[1], optional[2], optional[3], valid, metadata}, nil
}

// assessmentSource is who made an assessment: its source_type (the enum's default
// when MLflow left it out) and source_id.
func assessmentSource(m *meta) (string, any, error) {
	sourceType, sourceID := "SOURCE_TYPE_UNSPECIFIED", any(nil)
	n := m.fields["source"]
	if isNull(n) {
		return sourceType, sourceID, nil
	}
	src, err := pyvalue.FromYAML(n)
	if err != nil {
		return "", nil, m.errorf(n, "source: %v", err)
	}
	srcMap, ok := src.(pyvalue.Map)
	if !ok {
		return "", nil, m.errorf(n, "source: expected a mapping of source_type and source_id")
	}
	if v, ok := srcMap.Get("source_type"); ok && v != nil {
		sourceType = fmt.Sprint(v)
	}
	if v, ok := srcMap.Get("source_id"); ok && v != nil {
		sourceID = fmt.Sprint(v)
	}
	return sourceType, sourceID, nil
}

// assessmentMetadata is an assessment's metadata as JSON text (nil when empty) and the
// run it names, which MLflow takes as the assessment's run when it has none of its own.
func assessmentMetadata(m *meta) (any, any, error) {
	n := m.fields["metadata"]
	if isNull(n) {
		return nil, nil, nil
	}
	md, err := pyvalue.FromYAML(n)
	if err != nil {
		return nil, nil, m.errorf(n, "metadata: %v", err)
	}
	mdMap, ok := md.(pyvalue.Map)
	if !ok {
		return nil, nil, m.errorf(n, "metadata: expected a mapping")
	}
	var metadata, runID any
	if len(mdMap) > 0 {
		metadata = pyvalue.JSONDumps(mdMap)
	}
	if v, ok := mdMap.Get(sources.AssessmentSourceRunID); ok && v != nil {
		runID = fmt.Sprint(v)
	}
	return metadata, runID, nil
}

// assessmentValue is an assessment's kind, its value as JSON text and its error as JSON
// text (nil without one). MLflow 3 nests both kinds (feedback: {value, error},
// expectation: {value} or {serialized_value: {value: <JSON>}}); before, the error sat
// beside them.
func assessmentValue(m *meta) (string, string, any, error) {
	var errorJSON any
	errorNode := m.fields["error"]
	for _, kind := range []string{"feedback", "expectation"} {
		n := m.fields[kind]
		if isNull(n) {
			continue
		}
		v, err := pyvalue.FromYAML(n)
		if err != nil {
			return "", "", nil, m.errorf(n, "%s: %v", kind, err)
		}
		body, ok := v.(pyvalue.Map)
		if !ok {
			return "", "", nil, m.errorf(n, "%s: expected a mapping with a value", kind)
		}
		value, _ := body.Get("value")
		if serialized, ok := body.Get("serialized_value"); ok && kind == "expectation" {
			sv, _ := serialized.(pyvalue.Map)
			text, _ := sv.Get("value")
			s, isText := text.(string)
			if !isText {
				return "", "", nil, m.errorf(n, "expectation: serialized_value holds no JSON text")
			}
			if value, err = pyvalue.FromJSON(s); err != nil {
				return "", "", nil, m.errorf(n, "expectation: serialized_value is not JSON: %v", err)
			}
		}
		if e, ok := body.Get("error"); ok && e != nil {
			if em, isMap := e.(pyvalue.Map); !isMap || len(em) > 0 {
				errorJSON = pyvalue.JSONDumps(e)
			}
		} else if !isNull(errorNode) {
			e, err := pyvalue.FromYAML(errorNode)
			if err != nil {
				return "", "", nil, m.errorf(errorNode, "error: %v", err)
			}
			if em, isMap := e.(pyvalue.Map); !isMap || len(em) > 0 {
				errorJSON = pyvalue.JSONDumps(e)
			}
		}
		return kind, pyvalue.JSONDumps(value), errorJSON, nil
	}
	return "", "", nil, m.errorf(nil, "an assessment with neither feedback nor expectation")
}

// assessmentTime reads <field> (a protobuf timestamp) or <field>_ms (milliseconds), nil
// when neither is there.
func assessmentTime(m *meta, field string) (*int64, error) {
	if v, err := m.optInt(field + "_ms"); err != nil || v != nil {
		return v, err
	}
	n := m.fields[field]
	if isNull(n) {
		return nil, nil
	}
	if ms, err := strconv.ParseInt(n.Value, 10, 64); err == nil {
		return &ms, nil
	}
	t, err := time.Parse(time.RFC3339Nano, n.Value)
	if err != nil {
		return nil, m.errorf(n, "%s %q is not a timestamp such as 2025-01-31T12:00:00.000Z", field, n.Value)
	}
	ms := t.UnixMilli()
	return &ms, nil
}
