package rules_test

import (
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/mlflow-bulk/mlflow-bulk/importer/rules"
	"github.com/mlflow-bulk/mlflow-bulk/sources"
)

// The conversions are MLflow 3.17's migration's, value by value (its backfill module's
// token_count_or_none, finite_float_or_none and the assessment aggregate).
func TestTokenCountReadsAsTheMigration(t *testing.T) {
	for _, c := range []struct {
		in   any
		want any
	}{
		{int64(12), int64(12)}, {12.0, int64(12)}, {"12", int64(12)}, {" 12 ", int64(12)}, {"12.0", int64(12)},
		{"1e3", int64(1000)}, {"1_000", int64(1000)}, {"-5", int64(-5)},
		{12.5, nil}, {"12.5", nil}, {math.NaN(), nil}, {math.Inf(1), nil}, {true, nil}, {"abc", nil}, {"NaN", nil},
		{"Infinity", nil}, {nil, nil}, {"9223372036854775807", int64(math.MaxInt64)}, {"9223372036854775808", nil},
		{9.3e18, nil}, {"1e999999999", nil}, {"0e999999999", int64(0)}, {"0x10", nil}, {"", nil},
	} {
		if got := rules.TokenCount(c.in); !reflect.DeepEqual(got, c.want) {
			t.Errorf("TokenCount(%#v) = %#v, want %#v", c.in, got, c.want)
		}
	}
}

func TestFiniteFloatReadsAsTheMigration(t *testing.T) {
	for _, c := range []struct {
		in   any
		want any
	}{
		{0.5, 0.5}, {int64(2), 2.0}, {"0.25", 0.25}, {" 1e-3 ", 0.001}, {"1_0.5", 10.5},
		{true, nil}, {false, nil}, {"inf", nil}, {"nan", nil}, {"1e400", nil}, {"0x1p-2", nil}, {"cheap", nil}, {nil, nil},
	} {
		if got := rules.FiniteFloat(c.in); !reflect.DeepEqual(got, c.want) {
			t.Errorf("FiniteFloat(%#v) = %#v, want %#v", c.in, got, c.want)
		}
	}
}

func TestAssessmentAggregateReadsAsTheMigration(t *testing.T) {
	for _, c := range []struct {
		in      string
		value   any
		numeric bool
	}{
		{"true", 1.0, false}, {"false", 0.0, false}, {"0.75", 0.75, true}, {"3", 3.0, true}, {`"yes"`, 1.0, false},
		{`" No "`, 0.0, false}, {"yes", 1.0, false}, {"NaN", nil, false}, {"-Infinity", nil, false}, {"1e400", nil, false},
		{`"0.5"`, nil, false}, {`{"a": 1}`, nil, false}, {"null", nil, false}, {"maybe", nil, false},
		{"1" + strings.Repeat("0", 400), nil, false}, {"1" + strings.Repeat("0", 30), 1e30, true},
	} {
		value, numeric := rules.AssessmentAggregate(c.in)
		if !reflect.DeepEqual(value, c.value) || numeric != c.numeric {
			t.Errorf("AssessmentAggregate(%s) = %#v, %v; want %#v, %v", c.in, value, numeric, c.value, c.numeric)
		}
	}
}

// legacyTrace is a trace as MLflow 3.9 to 3.16 keeps it.
func legacyTrace() *sources.Trace {
	long := strings.Repeat("é", 5000)
	return &sources.Trace{RequestID: "tr-1", ExperimentSourceID: "3", Tables: []sources.TableRows{
		{Table: "trace_info", Columns: []string{"request_id", "experiment_id", "timestamp_ms", "status"}, Rows: [][]any{{"tr-1", int64(3), int64(1700), "OK"}}},
		{Table: "trace_tags", Columns: []string{"key", "value", "request_id"}, Rows: [][]any{{"mlflow.traceName", long, "tr-1"}, {"team", "a", "tr-1"}}},
		{Table: "trace_request_metadata", Columns: []string{"key", "value", "request_id"}, Rows: [][]any{
			{"mlflow.trace.session", "s-1", "tr-1"},
			{"mlflow.trace.tokenUsage", `{"input_tokens": 10, "output_tokens": 2.0, "total_tokens": "12", "cache_read_input_tokens": 1.5}`, "tr-1"},
			{"mlflow.trace.cost", `{"input_cost": 0.5, "output_cost": "0.25", "total_cost": true}`, "tr-1"},
			{"mlflow.user", "ann", "tr-1"},
		}},
		{Table: "assessments", Columns: []string{"assessment_id", "trace_id", "value"}, Rows: [][]any{{"a-1", "tr-1", "0.5"}, {"a-2", "tr-1", `"Yes"`}}},
		{Table: "spans", Columns: []string{"trace_id", "span_id", "content", "dimension_attributes"}, Rows: [][]any{
			{"tr-1", "s1", "{}", `{"mlflow.llm.model": "gpt", "mlflow.llm.provider": "openai"}`},
			{"tr-1", "s2", "{}", nil},
		}},
		// A metric row wins over the metadata, even a NULL one.
		{Table: "trace_metrics", Columns: []string{"request_id", "key", "value"}, Rows: [][]any{{"tr-1", "input_tokens", 11.0}, {"tr-1", "output_tokens", nil}, {"tr-1", "latency", 3.0}}},
		{Table: "span_metrics", Columns: []string{"trace_id", "span_id", "key", "value"}, Rows: [][]any{{"tr-1", "s1", "total_cost", 0.75}, {"tr-1", "s1", "latency", 1.0}}},
	}}
}

func rowsOf(t *testing.T, tr *sources.Trace, table string) map[string]any {
	t.Helper()
	for _, tb := range tr.Tables {
		if tb.Table != table {
			continue
		}
		out := map[string]any{}
		for r, row := range tb.Rows {
			for i, c := range tb.Columns {
				out[fmt.Sprintf("%d.%s", r, c)] = row[i]
			}
		}
		return out
	}
	return nil
}

func TestPromoteFillsColumnsAndDropsLegacyRows(t *testing.T) {
	src := legacyTrace()
	got, notes := rules.ShapeTrace(src, rules.TraceShape{Columns: true, TraceMetrics: true, SpanMetrics: true})
	if len(notes) != 0 {
		t.Errorf("notes: %v", notes)
	}
	info := rowsOf(t, got, "trace_info")
	want := map[string]any{
		"0.trace_name": strings.Repeat("é", 4096), "0.session_id": "s-1",
		"0.input_tokens": int64(11), "0.output_tokens": nil, "0.total_tokens": int64(12), "0.cache_read_input_tokens": nil,
		"0.cache_creation_input_tokens": nil, "0.input_cost": 0.5, "0.output_cost": 0.25, "0.total_cost": nil,
	}
	for k, v := range want {
		if !reflect.DeepEqual(info[k], v) {
			t.Errorf("trace_info %s = %#v, want %#v", k, info[k], v)
		}
	}
	if tags := rowsOf(t, got, "trace_tags"); len(tags) != 3 || tags["0.key"] != "team" {
		t.Errorf("trace_tags kept %v, want only team", tags)
	}
	if meta := rowsOf(t, got, "trace_request_metadata"); len(meta) != 3 || meta["0.key"] != "mlflow.user" {
		t.Errorf("request metadata kept %v, want only mlflow.user", meta)
	}
	if m := rowsOf(t, got, "trace_metrics"); len(m) != 3 || m["0.key"] != "latency" {
		t.Errorf("trace_metrics kept %v", m)
	}
	if m := rowsOf(t, got, "span_metrics"); len(m) != 4 || m["0.key"] != "latency" {
		t.Errorf("span_metrics kept %v", m)
	}
	spans := rowsOf(t, got, "spans")
	if spans["0.model_name"] != "gpt" || spans["0.model_provider"] != "openai" || spans["0.total_cost"] != 0.75 || spans["1.model_name"] != nil {
		t.Errorf("spans %v", spans)
	}
	if _, kept := spans["0.dimension_attributes"]; kept {
		t.Error("spans.dimension_attributes kept for a target without it")
	}
	a := rowsOf(t, got, "assessments")
	if a["0.experiment_id"] != int64(3) || a["0.trace_timestamp_ms"] != int64(1700) || a["0.aggregate_value"] != 0.5 || a["0.is_numeric_value"] != true ||
		a["1.aggregate_value"] != 1.0 || a["1.is_numeric_value"] != false {
		t.Errorf("assessments %v", a)
	}
	if !reflect.DeepEqual(src, legacyTrace()) {
		t.Error("the source's record was changed")
	}
}

func TestPromoteReportsDimensionsItCannotMove(t *testing.T) {
	src := legacyTrace()
	src.Tables[4].Rows[1][3] = `{"mlflow.llm.model": "m", "region": "eu"}`
	got, notes := rules.ShapeTrace(src, rules.TraceShape{Columns: true})
	if len(notes) != 1 || !strings.Contains(notes[0], "span s2 of trace tr-1") || !strings.Contains(notes[0], "region") {
		t.Errorf("notes %v", notes)
	}
	if spans := rowsOf(t, got, "spans"); spans["1.model_name"] != "m" {
		t.Errorf("model of the span with other dimensions: %v", spans["1.model_name"])
	}
}

// A 3.17 trace into an older target goes back into rows as MLflow's downgrade writes
// them; promoting those again gives the columns back.
func TestDemoteRoundTrips(t *testing.T) {
	shape317 := rules.TraceShape{Columns: true, TraceMetrics: true, SpanMetrics: true}
	shape316 := rules.TraceShape{TraceMetrics: true, SpanMetrics: true, DimensionAttributes: true}
	columns, _ := rules.ShapeTrace(legacyTrace(), shape317)
	rows, _ := rules.ShapeTrace(columns, shape316)
	meta := rowsOf(t, rows, "trace_request_metadata")
	found := map[string]any{}
	for i := 0; i < 10; i++ {
		if k, ok := meta[fmt.Sprintf("%d.key", i)]; ok {
			found[k.(string)] = meta[fmt.Sprintf("%d.value", i)]
		}
	}
	if found["mlflow.trace.tokenUsage"] != `{"input_tokens": 11, "total_tokens": 12}` || found["mlflow.trace.cost"] != `{"input_cost": 0.5, "output_cost": 0.25}` || found["mlflow.trace.session"] != "s-1" {
		t.Errorf("request metadata written back: %v", found)
	}
	if info := rowsOf(t, rows, "trace_info"); info["0.trace_name"] != nil || len(info) != 4 {
		t.Errorf("trace_info keeps analytics columns: %v", info)
	}
	spans := rowsOf(t, rows, "spans")
	if spans["0.dimension_attributes"] != `{"mlflow.llm.model": "gpt", "mlflow.llm.provider": "openai"}` || spans["0.model_name"] != nil {
		t.Errorf("spans written back: %v", spans)
	}
	again, _ := rules.ShapeTrace(rows, shape317)
	if a, b := rowsOf(t, again, "trace_info"), rowsOf(t, columns, "trace_info"); !reflect.DeepEqual(a, b) {
		t.Errorf("promote after demote:\n%v\nwant\n%v", a, b)
	}
	if a, b := rowsOf(t, again, "spans"), rowsOf(t, columns, "spans"); !reflect.DeepEqual(a, b) {
		t.Errorf("spans after the round trip:\n%v\nwant\n%v", a, b)
	}
}
