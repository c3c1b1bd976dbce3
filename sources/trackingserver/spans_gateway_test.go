package trackingserver_test

import (
	"database/sql"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"

	_ "modernc.org/sqlite" // the stand-in reads the served database

	"github.com/mlflow-bulk/mlflow-bulk/sources/pyvalue"
)

// The MLflow server of these tests cannot build a trace's spans (OpenTelemetry's SDK is
// stubbed there), so its traces/get and traces/batchGet answer 500. spansGateway stands
// in front of it and answers those two from the database it serves, in the shapes
// MLflow's source defines: a Trace message, its spans OpenTelemetry protobuf spans made
// the way MLflow's Span.to_otel_proto makes them from the stored span (each attribute's
// JSON decoded into an AnyValue), written as MLflow's message_to_json writes them
// (protobuf field names, 64-bit integers as numbers). Everything else goes to MLflow.
func spansGateway(t *testing.T, server, dbPath string) string {
	t.Helper()
	target, err := url.Parse(server)
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", "file:"+dbPath+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	proxy := httputil.NewSingleHostReverseProxy(target)
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body pyvalue.Map
		switch {
		case strings.HasSuffix(r.URL.Path, "/api/3.0/mlflow/traces/batchGet"):
			traces := []pyvalue.Value{}
			for _, id := range r.URL.Query()["trace_ids"] {
				spans, complete, err := storedSpans(db, id)
				if err != nil {
					http.Error(w, err.Error(), http.StatusInternalServerError)
					return
				}
				if complete && len(spans) > 0 { // MLflow's batch answers complete traces only
					traces = append(traces, wholeTrace(id, spans))
				}
			}
			body = pyvalue.Map{{Key: "traces", Value: traces}}
		case strings.HasSuffix(r.URL.Path, "/api/3.0/mlflow/traces/get"):
			id := r.URL.Query().Get("trace_id")
			spans, complete, err := storedSpans(db, id)
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			if !complete && r.URL.Query().Get("allow_partial") != "true" {
				http.Error(w, `{"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "not fully exported yet"}`, http.StatusNotFound)
				return
			}
			body = pyvalue.Map{{Key: "trace", Value: wholeTrace(id, spans)}}
		default:
			proxy.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(pyvalue.JSONDumps(body)))
	}))
	t.Cleanup(gw.Close)
	return gw.URL
}

func wholeTrace(id string, spans []pyvalue.Value) pyvalue.Map {
	return pyvalue.Map{{Key: "trace_info", Value: pyvalue.Map{{Key: "trace_id", Value: id}}}, {Key: "spans", Value: spans}}
}

// storedSpans are a trace's spans as the served database keeps them, root spans first,
// then by start time, as MLflow orders them, each as MLflow serves it; complete unless
// the trace's size statistics count more spans than the database holds.
func storedSpans(db *sql.DB, traceID string) ([]pyvalue.Value, bool, error) {
	rows, err := db.Query(`SELECT content FROM spans WHERE trace_id = ? ORDER BY parent_span_id IS NOT NULL, start_time_unix_nano`, traceID)
	if err != nil {
		return nil, false, err
	}
	defer rows.Close()
	var out []pyvalue.Value
	for rows.Next() {
		var content string
		if err := rows.Scan(&content); err != nil {
			return nil, false, err
		}
		span, err := otelSpan(content)
		if err != nil {
			return nil, false, err
		}
		out = append(out, span)
	}
	if err := rows.Err(); err != nil {
		return nil, false, err
	}
	var stats sql.NullString
	err = db.QueryRow(`SELECT value FROM trace_request_metadata WHERE request_id = ? AND key = 'mlflow.trace.sizeStats'`, traceID).Scan(&stats)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, false, err
	}
	var sizes struct {
		NumSpans int `json:"num_spans"`
	}
	if stats.Valid {
		_ = json.Unmarshal([]byte(stats.String), &sizes)
	}
	return out, len(out) >= sizes.NumSpans, nil
}

// otelSpan is a stored span as MLflow's server shows it.
func otelSpan(content string) (pyvalue.Value, error) {
	v, err := pyvalue.FromJSON(content)
	if err != nil {
		return nil, err
	}
	c := v.(pyvalue.Map)
	get := func(k string) pyvalue.Value { x, _ := c.Get(k); return x }
	out := pyvalue.Map{{Key: "trace_id", Value: get("trace_id")}, {Key: "span_id", Value: get("span_id")}}
	if p, ok := get("parent_span_id").(string); ok && p != "" {
		out = append(out, pyvalue.Pair{Key: "parent_span_id", Value: p})
	}
	if name, _ := get("name").(string); name != "" {
		out = append(out, pyvalue.Pair{Key: "name", Value: name})
	}
	out = append(out, pyvalue.Pair{Key: "start_time_unix_nano", Value: get("start_time_unix_nano")})
	if end, ok := get("end_time_unix_nano").(int64); ok && end != 0 {
		out = append(out, pyvalue.Pair{Key: "end_time_unix_nano", Value: end})
	}
	var attrs []pyvalue.Value
	for _, p := range get("attributes").(pyvalue.Map) {
		raw, _ := p.Value.(string)
		var decoded pyvalue.Value // MLflow reads an empty value as None
		if raw != "" {
			if decoded, err = pyvalue.FromJSON(raw); err != nil {
				decoded = raw // a value MLflow did not write as JSON is read as it is
			}
		}
		attrs = append(attrs, pyvalue.Map{{Key: "key", Value: p.Key}, {Key: "value", Value: otelAnyValue(decoded)}})
	}
	if len(attrs) > 0 {
		out = append(out, pyvalue.Pair{Key: "attributes", Value: attrs})
	}
	var events []pyvalue.Value
	for _, e := range get("events").([]pyvalue.Value) {
		em := e.(pyvalue.Map)
		name, _ := em.Get("name")
		at, _ := em.Get("time_unix_nano")
		ev := pyvalue.Map{{Key: "time_unix_nano", Value: at}, {Key: "name", Value: name}}
		if ea, _ := em.Get("attributes"); ea != nil {
			var list []pyvalue.Value
			for _, p := range ea.(pyvalue.Map) {
				list = append(list, pyvalue.Map{{Key: "key", Value: p.Key}, {Key: "value", Value: otelAnyValue(p.Value)}})
			}
			if len(list) > 0 {
				ev = append(ev, pyvalue.Pair{Key: "attributes", Value: list})
			}
		}
		events = append(events, ev)
	}
	if len(events) > 0 {
		out = append(out, pyvalue.Pair{Key: "events", Value: events})
	}
	status := pyvalue.Map{}
	sm := get("status").(pyvalue.Map)
	if code, _ := sm.Get("code"); code != "STATUS_CODE_UNSET" {
		status = append(status, pyvalue.Pair{Key: "code", Value: code})
	}
	if msg, _ := sm.Get("message"); msg != nil && msg != "" {
		status = append(status, pyvalue.Pair{Key: "message", Value: msg})
	}
	return append(out, pyvalue.Pair{Key: "status", Value: status}), nil
}

// otelAnyValue is a value as an OpenTelemetry AnyValue in protobuf's JSON, as MLflow
// fills one (None leaves it unset).
func otelAnyValue(v pyvalue.Value) pyvalue.Map {
	switch x := v.(type) {
	case nil:
		return pyvalue.Map{}
	case bool:
		return pyvalue.Map{{Key: "bool_value", Value: x}}
	case string:
		return pyvalue.Map{{Key: "string_value", Value: x}}
	case int64:
		return pyvalue.Map{{Key: "int_value", Value: x}}
	case float64:
		var d pyvalue.Value = x
		switch {
		case math.IsNaN(x):
			d = "NaN"
		case math.IsInf(x, 1):
			d = "Infinity"
		case math.IsInf(x, -1):
			d = "-Infinity"
		}
		return pyvalue.Map{{Key: "double_value", Value: d}}
	case []pyvalue.Value:
		values := pyvalue.Map{}
		if len(x) > 0 {
			list := make([]pyvalue.Value, len(x))
			for i, e := range x {
				list[i] = otelAnyValue(e)
			}
			values = pyvalue.Map{{Key: "values", Value: list}}
		}
		return pyvalue.Map{{Key: "array_value", Value: values}}
	case pyvalue.Map:
		values := pyvalue.Map{}
		if len(x) > 0 {
			list := make([]pyvalue.Value, len(x))
			for i, p := range x {
				list[i] = pyvalue.Map{{Key: "key", Value: p.Key}, {Key: "value", Value: otelAnyValue(p.Value)}}
			}
			values = pyvalue.Map{{Key: "values", Value: list}}
		}
		return pyvalue.Map{{Key: "kvlist_value", Value: values}}
	}
	panic("unexpected value")
}
