package trackingserver

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/mlflow-bulk/mlflow-bulk/sources"
	"github.com/mlflow-bulk/mlflow-bulk/sources/pyvalue"
)

// Traces as MLflow's v3 REST API shows them (TraceInfoV3): the trace_info row, its tags,
// its metadata and its assessments; and the spans of those whose spans MLflow keeps in
// its database, which come with the whole trace (spans.go). Spans kept as artifacts are
// copied as files with --copy-artifacts.

type wireTrace struct {
	TraceID         string `json:"trace_id"`
	ClientRequestID *string
	TraceLocation   struct {
		MLflowExperiment struct {
			ExperimentID string `json:"experiment_id"`
		} `json:"mlflow_experiment"`
	} `json:"trace_location"`
	RequestPreview    *string           `json:"request_preview"`
	ResponsePreview   *string           `json:"response_preview"`
	RequestTime       string            `json:"request_time"`
	ExecutionDuration *string           `json:"execution_duration"`
	State             string            `json:"state"`
	TraceMetadata     map[string]string `json:"trace_metadata"`
	Tags              map[string]string `json:"tags"`
	Assessments       []wireAssessment  `json:"assessments"`
}

// UnmarshalJSON reads client_request_id apart: the field name is the only one the
// struct tags cannot give together with a pointer default.
func (t *wireTrace) UnmarshalJSON(b []byte) error {
	type plain wireTrace
	var p struct {
		plain
		ClientRequestID *string `json:"client_request_id"`
	}
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*t = wireTrace(p.plain)
	t.ClientRequestID = p.ClientRequestID
	return nil
}

type wireAssessment struct {
	AssessmentID   string `json:"assessment_id"`
	AssessmentName string `json:"assessment_name"`
	TraceID        string `json:"trace_id"`
	SpanID         *string
	Source         *struct {
		SourceType string  `json:"source_type"`
		SourceID   *string `json:"source_id"`
	} `json:"source"`
	CreateTime     string           `json:"create_time"`
	LastUpdateTime string           `json:"last_update_time"`
	Feedback       *wireFeedback    `json:"feedback"`
	Expectation    *wireExpectation `json:"expectation"`
	Rationale      *string          `json:"rationale"`
	Metadata       json.RawMessage  `json:"metadata"`
	Overrides      *string          `json:"overrides"`
	Valid          *bool            `json:"valid"`
	RunID          *string          `json:"run_id"`
}

// UnmarshalJSON reads span_id apart, as wireTrace does client_request_id.
func (a *wireAssessment) UnmarshalJSON(b []byte) error {
	type plain wireAssessment
	var p struct {
		plain
		SpanID *string `json:"span_id"`
	}
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*a = wireAssessment(p.plain)
	a.SpanID = p.SpanID
	return nil
}

type wireFeedback struct {
	Value json.RawMessage `json:"value"`
	Error json.RawMessage `json:"error"`
}

type wireExpectation struct {
	Value           json.RawMessage `json:"value"`
	SerializedValue *struct {
		Value string `json:"value"`
	} `json:"serialized_value"`
}

type searchTraces struct {
	Traces        []wireTrace `json:"traces"`
	NextPageToken string      `json:"next_page_token"`
}

// tracesPage is the most traces one search returns.
const tracesPage = 500

// readTraces streams the traces of the experiments read.
func (s *server) readTraces(ctx context.Context, c *client, experiments []string, out *pipeline) error {
	for _, id := range experiments {
		token := ""
		for {
			body := map[string]any{"max_results": tracesPage,
				"locations": []any{map[string]any{"type": "MLFLOW_EXPERIMENT", "mlflow_experiment": map[string]any{"experiment_id": id}}}}
			if token != "" {
				body["page_token"] = token
			}
			var page searchTraces
			err := c.post(ctx, "/api/3.0/mlflow/traces/search", body, &page)
			if notFound(err) {
				return nil // a server before MLflow 3 keeps no traces this way
			}
			if err != nil {
				return fmt.Errorf("experiment %s: %w", id, err)
			}
			for start := 0; start < len(page.Traces); start += spansPerRequest {
				if err := s.emitTraces(ctx, c, page.Traces[start:min(start+spansPerRequest, len(page.Traces))], id, out); err != nil {
					return err
				}
			}
			if token = page.NextPageToken; token == "" || len(page.Traces) == 0 {
				break
			}
		}
	}
	return nil
}

func (t *wireTrace) record(server, experimentID string) (*sources.Trace, *sources.InputError) {
	origin := sources.Origin{File: server + " trace " + t.TraceID}
	fail := func(format string, args ...any) *sources.InputError {
		return &sources.InputError{File: origin.File, Err: fmt.Errorf(format, args...)}
	}
	start, err := time.Parse(time.RFC3339Nano, t.RequestTime)
	if err != nil {
		return nil, fail("request_time %q is not a timestamp", t.RequestTime)
	}
	var duration any
	if t.ExecutionDuration != nil {
		ms, ok := durationMillis(*t.ExecutionDuration)
		if !ok {
			return nil, fail("execution_duration %q is not a duration such as 1.5s", *t.ExecutionDuration)
		}
		duration = ms
	}
	state := t.State
	if state == "" {
		state = "STATE_UNSPECIFIED"
	}
	if own := t.TraceLocation.MLflowExperiment.ExperimentID; own != "" {
		experimentID = own
	}
	info := sources.TableRows{Table: "trace_info", Columns: []string{"request_id", "experiment_id", "timestamp_ms", "execution_time_ms", "status"},
		Rows: [][]any{{t.TraceID, experimentID, start.UnixMilli(), duration, state}}}
	for _, f := range []struct {
		column string
		value  *string
	}{{"client_request_id", t.ClientRequestID}, {"request_preview", t.RequestPreview}, {"response_preview", t.ResponsePreview}} {
		if f.value != nil {
			info.Columns = append(info.Columns, f.column)
			info.Rows[0] = append(info.Rows[0], *f.value)
		}
	}
	tr := &sources.Trace{RequestID: t.TraceID, ExperimentSourceID: experimentID, Origin: origin, Tables: []sources.TableRows{info}}
	for _, kv := range []struct {
		table  string
		values map[string]string
	}{{"trace_tags", t.Tags}, {"trace_request_metadata", t.TraceMetadata}} {
		if len(kv.values) == 0 {
			continue
		}
		rows := sources.TableRows{Table: kv.table, Columns: []string{"key", "value", "request_id"}}
		for k, v := range kv.values {
			rows.Rows = append(rows.Rows, []any{k, v, t.TraceID})
		}
		tr.Tables = append(tr.Tables, rows)
	}
	if len(t.Assessments) > 0 {
		rows := sources.TableRows{Table: "assessments", Columns: []string{"assessment_id", "trace_id", "name", "assessment_type", "value", "error",
			"created_timestamp", "last_updated_timestamp", "source_type", "source_id", "run_id", "span_id", "rationale", "overrides", "valid", "assessment_metadata"}}
		for _, a := range t.Assessments {
			row, err := a.row(t.TraceID)
			if err != nil {
				return nil, fail("assessment %s: %v", a.AssessmentID, err)
			}
			rows.Rows = append(rows.Rows, row)
		}
		tr.Tables = append(tr.Tables, rows)
	}
	return tr, nil
}

// row is an assessment as MLflow's table keeps it: value, error and metadata as the JSON
// text Python's json.dumps writes, keys in the order given.
func (a *wireAssessment) row(traceID string) ([]any, error) {
	created, err := time.Parse(time.RFC3339Nano, a.CreateTime)
	if err != nil {
		return nil, fmt.Errorf("create_time %q is not a timestamp", a.CreateTime)
	}
	updated := created
	if a.LastUpdateTime != "" {
		if updated, err = time.Parse(time.RFC3339Nano, a.LastUpdateTime); err != nil {
			return nil, fmt.Errorf("last_update_time %q is not a timestamp", a.LastUpdateTime)
		}
	}
	var kind, value string
	var errorJSON any
	switch {
	case a.Feedback != nil:
		kind = "feedback"
		if value, err = dumps(a.Feedback.Value); err != nil {
			return nil, err
		}
		if errorJSON, err = feedbackError(a.Feedback.Error); err != nil {
			return nil, err
		}
	case a.Expectation != nil:
		kind = "expectation"
		raw := a.Expectation.Value
		if sv := a.Expectation.SerializedValue; sv != nil {
			raw = json.RawMessage(sv.Value)
		}
		if value, err = dumps(raw); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("neither feedback nor expectation")
	}
	sourceType, sourceID := "SOURCE_TYPE_UNSPECIFIED", any(nil)
	if a.Source != nil {
		if a.Source.SourceType != "" {
			sourceType = a.Source.SourceType
		}
		if a.Source.SourceID != nil {
			sourceID = *a.Source.SourceID
		}
	}
	var metadata any
	runID := optionalText(a.RunID)
	if len(a.Metadata) > 0 {
		v, err := pyvalue.FromJSON(string(a.Metadata))
		if err != nil {
			return nil, fmt.Errorf("metadata: %w", err)
		}
		if m, ok := v.(pyvalue.Map); ok && len(m) > 0 {
			// In the order the answer lists them: MLflow itself writes a map's keys in an
			// order of the moment (its protobuf maps keep none), so no order is the one.
			metadata = pyvalue.JSONDumps(m)
			if id, ok := m.Get(sources.AssessmentSourceRunID); ok && id != nil && runID == nil {
				runID = fmt.Sprint(id)
			}
		}
	}
	valid := a.Valid == nil || *a.Valid
	return []any{a.AssessmentID, traceID, a.AssessmentName, kind, value, errorJSON, created.UnixMilli(), updated.UnixMilli(), sourceType, sourceID,
		runID, optionalText(a.SpanID), optionalText(a.Rationale), optionalText(a.Overrides), valid, metadata}, nil
}

// feedbackError is a feedback's error as MLflow's store writes it (its error code,
// message and stack trace, in that order, a missing one as null); nil without one.
func feedbackError(raw json.RawMessage) (any, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	v, err := pyvalue.FromJSON(string(raw))
	if err != nil {
		return nil, err
	}
	given, ok := v.(pyvalue.Map)
	if !ok {
		return nil, fmt.Errorf("error: expected an object")
	}
	if len(given) == 0 {
		return nil, nil
	}
	out := pyvalue.Map{}
	for _, key := range []string{"error_code", "error_message", "stack_trace"} {
		value, _ := given.Get(key)
		out = append(out, pyvalue.Pair{Key: key, Value: value})
	}
	return pyvalue.JSONDumps(out), nil
}

// dumps is a JSON value as Python's json.dumps writes it (", " and ": ", keys in order).
func dumps(raw json.RawMessage) (string, error) {
	if len(raw) == 0 {
		return "null", nil
	}
	v, err := pyvalue.FromJSON(string(raw))
	if err != nil {
		return "", err
	}
	return pyvalue.JSONDumps(v), nil
}

func optionalText(s *string) any {
	if s == nil {
		return nil
	}
	return *s
}

// durationMillis reads a protobuf Duration in JSON ("1.450s") as whole milliseconds,
// truncated as MLflow's ToMilliseconds does.
func durationMillis(s string) (int64, bool) {
	body, ok := strings.CutSuffix(s, "s")
	if !ok || body == "" {
		return 0, false
	}
	whole, frac, _ := strings.Cut(body, ".")
	secs, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || len(frac) > 9 {
		return 0, false
	}
	frac = (frac + "000")[:3]
	ms, err := strconv.ParseInt(frac, 10, 64)
	if err != nil {
		return 0, false
	}
	if strings.HasPrefix(whole, "-") {
		return secs*1000 - ms, true
	}
	return secs*1000 + ms, true
}

// spansPerRequest is how many traces one batchGet asks for: their ids fit in the
// request line servers accept, and their spans in memory.
const spansPerRequest = 25

// emitTraces hands over a few traces of a page, each with its spans where the server
// keeps them in its database.
func (s *server) emitTraces(ctx context.Context, c *client, wire []wireTrace, experimentID string, out *pipeline) error {
	recs := make([]*sources.Trace, len(wire))
	var want []string
	for i := range wire {
		rec, inErr := wire[i].record(s.Describe(), experimentID)
		if inErr != nil {
			if err := out.record(ctx, &sources.Invalid{Err: inErr}); err != nil {
				return err
			}
			continue
		}
		recs[i] = rec
		if wire[i].Tags[spansLocationTag] == spansInTrackingDB {
			want = append(want, wire[i].TraceID)
		}
	}
	spans, err := s.fetchSpans(ctx, c, want)
	if err != nil {
		return err
	}
	for _, rec := range recs {
		if rec == nil {
			continue
		}
		if list, ok := spans[rec.RequestID]; ok {
			tables, err := spanTables(rec.RequestID, rec.ExperimentSourceID, list)
			if err != nil {
				if err := out.record(ctx, &sources.Invalid{Err: &sources.InputError{File: rec.Origin.File, Err: fmt.Errorf("spans: %w", err)}}); err != nil {
					return err
				}
				continue
			}
			rec.Tables = append(rec.Tables, tables...)
		}
		if err := out.record(ctx, rec); err != nil {
			return err
		}
	}
	return nil
}

type wholeTrace struct {
	TraceInfo struct {
		TraceID string `json:"trace_id"`
	} `json:"trace_info"`
	Spans []json.RawMessage `json:"spans"`
}

// fetchSpans reads the spans of the traces named, by trace id: complete traces many to
// a request (batchGet), then each that batchGet leaves out (it returns only traces whose
// spans are all in) alone, partial as it is.
func (s *server) fetchSpans(ctx context.Context, c *client, ids []string) (map[string][]pyvalue.Value, error) {
	out := map[string][]pyvalue.Value{}
	if len(ids) == 0 {
		return out, nil
	}
	var batch struct {
		Traces []wholeTrace `json:"traces"`
	}
	err := c.get(ctx, "/api/3.0/mlflow/traces/batchGet", url.Values{"trace_ids": ids}, &batch)
	if err != nil && !notFound(err) {
		return nil, fmt.Errorf("the spans of traces %s…: %w", ids[0], err)
	}
	for _, t := range batch.Traces {
		if err := addSpans(out, t); err != nil {
			return nil, err
		}
	}
	for _, id := range ids {
		if _, ok := out[id]; ok {
			continue
		}
		var one struct {
			Trace wholeTrace `json:"trace"`
		}
		err := c.get(ctx, "/api/3.0/mlflow/traces/get", url.Values{"trace_id": {id}, "allow_partial": {"true"}}, &one)
		if err != nil {
			return nil, fmt.Errorf("the spans of trace %s: %w", id, err)
		}
		one.Trace.TraceInfo.TraceID = id
		if err := addSpans(out, one.Trace); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func addSpans(out map[string][]pyvalue.Value, t wholeTrace) error {
	list := make([]pyvalue.Value, 0, len(t.Spans))
	for _, raw := range t.Spans {
		v, err := pyvalue.FromJSON(string(raw))
		if err != nil {
			return fmt.Errorf("trace %s: a span: %w", t.TraceInfo.TraceID, err)
		}
		list = append(list, v)
	}
	out[t.TraceInfo.TraceID] = list
	return nil
}
