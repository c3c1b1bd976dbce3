package rules

import (
	"fmt"
	"math"
	"math/big"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/mlflow-bulk/mlflow-bulk/schema"
	"github.com/mlflow-bulk/mlflow-bulk/sources"
	"github.com/mlflow-bulk/mlflow-bulk/sources/pyvalue"
)

// MLflow 3.17 (alembic 75868b020152) moved a trace's name, session, token counts and
// costs out of tags, request metadata and metric rows into columns of trace_info, a
// span's costs and model out of span_metrics and spans.dimension_attributes into columns
// of spans, and gave assessments four columns derived from their trace and value. Its
// migration fills the columns from the old rows and then deletes those rows. A trace
// written into a database of that shape must look as the migration would have left it,
// and one written into an older database as the older MLflow logged it, so that an
// upgrade by MLflow afterwards gives what a direct import gives. The conversions below
// follow the migration's, value by value.

// Keys of the rows the analytics columns replace.
const (
	traceNameTag      = "mlflow.traceName"
	sessionMetadata   = "mlflow.trace.session"
	tokenUsageMeta    = "mlflow.trace.tokenUsage"
	costMetadata      = "mlflow.trace.cost"
	spanModelKey      = "mlflow.llm.model"
	spanProviderKey   = "mlflow.llm.provider"
	traceNameMaxChars = 4096
	sessionMaxChars   = 250
	modelMaxChars     = 500
)

// tokenKeys are the token counts, in the order MLflow writes them; each is both a key of
// the token-usage metadata and trace_metrics and a trace_info column.
var tokenKeys = []string{"input_tokens", "output_tokens", "total_tokens", "cache_read_input_tokens", "cache_creation_input_tokens", "cache_creation_input_tokens_above_1hr"}

// costKeys are the costs: keys of the cost metadata and span_metrics, and columns of
// trace_info and spans.
var costKeys = []string{"input_cost", "output_cost", "total_cost"}

// TraceShape is how a database holds what MLflow 3.17 moved into columns.
type TraceShape struct {
	// Columns: trace_info has trace_name and the other analytics columns (3.17 and later).
	Columns bool
	// TraceMetrics, SpanMetrics: the tables of those names exist (3.9, 3.10 and later).
	TraceMetrics, SpanMetrics bool
	// DimensionAttributes: spans has the column 3.10 added and 3.17 dropped.
	DimensionAttributes bool
}

// TraceShapeOf reads a database's shape from has, which reports whether a table has a
// column (column "" asks whether the table exists).
func TraceShapeOf(has func(table, column string) bool) TraceShape {
	columns := true
	for _, c := range schema.TraceAnalyticsColumns["trace_info"] {
		columns = columns && has("trace_info", c)
	}
	return TraceShape{
		// All of them, as MLflow's migration adds them: a part would lose the rest.
		Columns:             columns,
		TraceMetrics:        has("trace_metrics", ""),
		SpanMetrics:         has("span_metrics", ""),
		DimensionAttributes: has("spans", "dimension_attributes"),
	}
}

// ShapeTrace returns the trace as a database of shape target holds it, and notes on what
// the target's shape could not hold as the source had it. The source's record is not
// changed.
func ShapeTrace(tr *sources.Trace, target TraceShape) (*sources.Trace, []string) {
	if len(tr.Tables) == 0 || tr.Tables[0].Table != "trace_info" || len(tr.Tables[0].Rows) != 1 {
		return tr, nil
	}
	out := &sources.Trace{RequestID: tr.RequestID, ExperimentSourceID: tr.ExperimentSourceID, Origin: tr.Origin}
	for _, t := range tr.Tables {
		rows := make([][]any, len(t.Rows))
		for i, r := range t.Rows {
			rows[i] = append([]any(nil), r...)
		}
		out.Tables = append(out.Tables, sources.TableRows{Table: t.Table, Columns: append([]string(nil), t.Columns...), Rows: rows})
	}
	if target.Columns {
		return out, promote(out, target)
	}
	if slices.Index(tr.Tables[0].Columns, "trace_name") >= 0 {
		demote(out, target)
		return out, nil
	}
	return tr, nil
}

// table finds a table of the trace, nil when the trace has no rows of it.
func table(tr *sources.Trace, name string) *sources.TableRows {
	for i := range tr.Tables {
		if tr.Tables[i].Table == name {
			return &tr.Tables[i]
		}
	}
	return nil
}

// column returns the position of a column, adding it (NULL in every row) when missing.
func column(t *sources.TableRows, name string) int {
	if i := slices.Index(t.Columns, name); i >= 0 {
		return i
	}
	t.Columns = append(t.Columns, name)
	for i := range t.Rows {
		t.Rows[i] = append(t.Rows[i], nil)
	}
	return len(t.Columns) - 1
}

// dropColumn removes a column from a table, if it has it.
func dropColumn(t *sources.TableRows, name string) {
	i := slices.Index(t.Columns, name)
	if i < 0 {
		return
	}
	t.Columns = append(t.Columns[:i:i], t.Columns[i+1:]...)
	for r, row := range t.Rows {
		t.Rows[r] = append(row[:i:i], row[i+1:]...)
	}
}

// keyed removes the rows of a key/value table whose key is one of keys and returns their
// values by key (for span_metrics, by span id and key).
func keyed(t *sources.TableRows, keys []string) map[string]any {
	found := map[string]any{}
	if t == nil {
		return found
	}
	k, v, span := slices.Index(t.Columns, "key"), slices.Index(t.Columns, "value"), slices.Index(t.Columns, "span_id")
	if k < 0 || v < 0 {
		return found
	}
	kept := t.Rows[:0]
	for _, row := range t.Rows {
		key, _ := row[k].(string)
		if !slices.Contains(keys, key) {
			kept = append(kept, row)
			continue
		}
		if span >= 0 {
			key = fmt.Sprint(row[span]) + "\x00" + key
		}
		found[key] = row[v]
	}
	t.Rows = kept
	return found
}

// promote moves the trace's legacy rows into the analytics columns and drops the rows, as
// the 3.17 migration does. A column keeps the source's value where the source has no
// legacy row for it (a source of 3.17 or later, or one MLflow's prepopulation filled).
func promote(tr *sources.Trace, target TraceShape) []string {
	info := &tr.Tables[0]
	name := keyed(table(tr, "trace_tags"), []string{traceNameTag})
	meta := keyed(table(tr, "trace_request_metadata"), []string{sessionMetadata, tokenUsageMeta, costMetadata})
	metrics := keyed(table(tr, "trace_metrics"), tokenKeys)
	row := info.Rows[0]
	set := func(col string, have bool, v any) {
		i := column(info, col)
		row = info.Rows[0]
		if have {
			row[i] = v
		}
	}
	v, ok := name[traceNameTag]
	set("trace_name", ok, boundedText(v, traceNameMaxChars))
	v, ok = meta[sessionMetadata]
	set("session_id", ok, boundedText(v, sessionMaxChars))
	usage, haveUsage := meta[tokenUsageMeta]
	usageObject := jsonObject(usage)
	for _, k := range tokenKeys {
		if m, ok := metrics[k]; ok {
			set(k, true, TokenCount(m))
			continue
		}
		u, _ := usageObject.Get(k)
		set(k, haveUsage, TokenCount(u))
	}
	cost, haveCost := meta[costMetadata]
	costObject := jsonObject(cost)
	for _, k := range costKeys {
		c, _ := costObject.Get(k)
		set(k, haveCost, FiniteFloat(c))
	}
	notes := promoteSpans(tr, target)
	promoteAssessments(tr, row, info.Columns)
	for _, t := range []string{"trace_tags", "trace_request_metadata", "trace_metrics", "span_metrics"} {
		if tb := table(tr, t); tb != nil && len(tb.Rows) == 0 {
			removeTable(tr, t)
		}
	}
	return notes
}

func removeTable(tr *sources.Trace, name string) {
	for i := range tr.Tables {
		if tr.Tables[i].Table == name {
			tr.Tables = append(tr.Tables[:i:i], tr.Tables[i+1:]...)
			return
		}
	}
}

// promoteSpans fills the spans' cost and model columns from span_metrics and
// dimension_attributes.
func promoteSpans(tr *sources.Trace, target TraceShape) []string {
	spans := table(tr, "spans")
	costs := keyed(table(tr, "span_metrics"), costKeys)
	if spans == nil {
		return nil
	}
	var notes []string
	id := slices.Index(spans.Columns, "span_id")
	dims := slices.Index(spans.Columns, "dimension_attributes")
	for _, col := range append(append([]string{}, costKeys...), "model_name", "model_provider") {
		column(spans, col)
	}
	for _, row := range spans.Rows {
		spanID := ""
		if id >= 0 {
			spanID = fmt.Sprint(row[id])
		}
		for _, k := range costKeys {
			if c, ok := costs[spanID+"\x00"+k]; ok {
				row[slices.Index(spans.Columns, k)] = FiniteFloat(c)
			}
		}
		if dims < 0 || row[dims] == nil {
			continue
		}
		object, ok := dimensionObject(row[dims])
		if !ok {
			notes = append(notes, fmt.Sprintf("span %s of trace %s: its dimension_attributes %v are not what MLflow 3.17 can move into columns (only %s and %s, as text); the target's spans table has no place for them, so they were left out", spanID, tr.RequestID, row[dims], spanModelKey, spanProviderKey))
		}
		m, _ := object.Get(spanModelKey)
		p, _ := object.Get(spanProviderKey)
		row[slices.Index(spans.Columns, "model_name")] = boundedText(m, modelMaxChars)
		row[slices.Index(spans.Columns, "model_provider")] = boundedText(p, modelMaxChars)
	}
	if !target.DimensionAttributes {
		dropColumn(spans, "dimension_attributes")
	}
	return notes
}

// dimensionObject reads a span's dimension_attributes: a JSON object whose only keys are
// the model and provider, each text or null, is what the migration accepts.
func dimensionObject(v any) (pyvalue.Map, bool) {
	text, isText := v.(string)
	if b, isBytes := v.([]byte); isBytes {
		text, isText = string(b), true
	}
	if !isText {
		return nil, false
	}
	parsed, err := pyvalue.FromJSON(text)
	if err != nil {
		return nil, false
	}
	object, isObject := parsed.(pyvalue.Map)
	if !isObject {
		return nil, false
	}
	for _, p := range object {
		if p.Key != spanModelKey && p.Key != spanProviderKey {
			return object, false
		}
		if _, isText := p.Value.(string); p.Value != nil && !isText {
			return object, false
		}
	}
	return object, true
}

// promoteAssessments gives each assessment its trace's experiment and time and the
// aggregate of its value, where the source did not.
func promoteAssessments(tr *sources.Trace, info []any, infoColumns []string) {
	a := table(tr, "assessments")
	if a == nil {
		return
	}
	traceValue := func(col string) any {
		if i := slices.Index(infoColumns, col); i >= 0 {
			return info[i]
		}
		return nil
	}
	exp, ts := column(a, "experiment_id"), column(a, "trace_timestamp_ms")
	agg, numeric := column(a, "aggregate_value"), column(a, "is_numeric_value")
	value := slices.Index(a.Columns, "value")
	for _, row := range a.Rows {
		if row[exp] == nil {
			row[exp] = traceValue("experiment_id")
		}
		if row[ts] == nil {
			row[ts] = traceValue("timestamp_ms")
		}
		if row[numeric] == nil && value >= 0 {
			aggregate, isNumeric := AssessmentAggregate(row[value])
			row[agg], row[numeric] = aggregate, isNumeric
		}
	}
}

// demote writes the analytics columns of a 3.17 trace back as the rows an older MLflow
// keeps them in, as MLflow's downgrade of 75868b020152 does, and drops the columns.
func demote(tr *sources.Trace, target TraceShape) {
	info := &tr.Tables[0]
	row := info.Rows[0]
	get := func(col string) any {
		if i := slices.Index(info.Columns, col); i >= 0 {
			return row[i]
		}
		return nil
	}
	if name, ok := get("trace_name").(string); ok {
		addKeyed(tr, "trace_tags", []string{"key", "value", "request_id"}, traceNameTag, name)
	}
	if session, ok := get("session_id").(string); ok {
		addKeyed(tr, "trace_request_metadata", []string{"key", "value", "request_id"}, sessionMetadata, session)
	}
	var usage pyvalue.Map
	for _, k := range tokenKeys {
		if n, ok := TokenCount(get(k)).(int64); ok {
			usage = append(usage, pyvalue.Pair{Key: k, Value: n})
		}
	}
	if len(usage) > 0 {
		addKeyed(tr, "trace_request_metadata", []string{"key", "value", "request_id"}, tokenUsageMeta, pyvalue.JSONDumps(usage))
		if target.TraceMetrics {
			for _, p := range usage {
				addKeyed(tr, "trace_metrics", []string{"request_id", "key", "value"}, p.Key, float64(p.Value.(int64)))
			}
		}
	}
	var cost pyvalue.Map
	for _, k := range costKeys {
		if f, ok := FiniteFloat(get(k)).(float64); ok {
			cost = append(cost, pyvalue.Pair{Key: k, Value: f})
		}
	}
	if len(cost) > 0 {
		addKeyed(tr, "trace_request_metadata", []string{"key", "value", "request_id"}, costMetadata, pyvalue.JSONDumps(cost))
	}
	// Adding rows above may have moved the tables: take trace_info afresh.
	for _, col := range schema.TraceAnalyticsColumns["trace_info"] {
		dropColumn(&tr.Tables[0], col)
	}
	demoteSpans(tr, target)
	if a := table(tr, "assessments"); a != nil {
		for _, col := range []string{"experiment_id", "trace_timestamp_ms", "aggregate_value", "is_numeric_value"} {
			dropColumn(a, col)
		}
	}
}

// demoteSpans puts span costs back into span_metrics and the model into
// dimension_attributes, where the target has them.
func demoteSpans(tr *sources.Trace, target TraceShape) {
	spans := table(tr, "spans")
	if spans == nil {
		return
	}
	id := slices.Index(spans.Columns, "span_id")
	dims := -1
	if target.DimensionAttributes {
		dims = column(spans, "dimension_attributes")
	}
	var metrics [][]any
	for _, row := range spans.Rows {
		get := func(col string) any {
			if i := slices.Index(spans.Columns, col); i >= 0 {
				return row[i]
			}
			return nil
		}
		var object pyvalue.Map
		for _, kc := range [][2]string{{spanModelKey, "model_name"}, {spanProviderKey, "model_provider"}} {
			if v, ok := get(kc[1]).(string); ok {
				object = append(object, pyvalue.Pair{Key: kc[0], Value: v})
			}
		}
		if dims >= 0 && len(object) > 0 && row[dims] == nil {
			row[dims] = pyvalue.JSONDumps(object)
		}
		for _, k := range costKeys {
			if f, ok := toFloat(get(k)); ok && target.SpanMetrics && id >= 0 {
				metrics = append(metrics, []any{tr.RequestID, row[id], k, f})
			}
		}
	}
	if len(metrics) > 0 {
		appendSpanMetrics(tr, metrics)
		spans = table(tr, "spans") // the append may have moved the tables
	}
	if target.SpanMetrics || !spansHaveCosts(spans) {
		for _, k := range costKeys {
			dropColumn(spans, k)
		}
	}
	if target.DimensionAttributes || !spansHaveModels(spans) {
		dropColumn(spans, "model_name")
		dropColumn(spans, "model_provider")
	}
}

// appendSpanMetrics adds span_metrics rows (trace id, span id, key, value) to the trace.
func appendSpanMetrics(tr *sources.Trace, metrics [][]any) {
	sm := table(tr, "span_metrics")
	if sm == nil {
		tr.Tables = append(tr.Tables, sources.TableRows{Table: "span_metrics", Columns: []string{"trace_id", "span_id", "key", "value"}})
		sm = &tr.Tables[len(tr.Tables)-1]
	}
	for _, m := range metrics {
		r := make([]any, len(sm.Columns))
		for i, c := range sm.Columns {
			switch c {
			case "trace_id":
				r[i] = m[0]
			case "span_id":
				r[i] = m[1]
			case "key":
				r[i] = m[2]
			case "value":
				r[i] = m[3]
			}
		}
		sm.Rows = append(sm.Rows, r)
	}
}

func spansHaveCosts(spans *sources.TableRows) bool { return anyValue(spans, costKeys...) }
func spansHaveModels(spans *sources.TableRows) bool {
	return anyValue(spans, "model_name", "model_provider")
}
func anyValue(t *sources.TableRows, cols ...string) bool {
	for _, c := range cols {
		i := slices.Index(t.Columns, c)
		for _, row := range t.Rows {
			if i >= 0 && row[i] != nil {
				return true
			}
		}
	}
	return false
}

// addKeyed adds a row of a key/value table of the trace (creating the table's rows after
// trace_info's when the trace has none), unless one with the key is there.
func addKeyed(tr *sources.Trace, name string, columns []string, key string, value any) {
	t := table(tr, name)
	if t == nil {
		tr.Tables = append(tr.Tables, sources.TableRows{Table: name, Columns: columns})
		// Tables that refer to trace_info only go right after it, before spans and the
		// tables that refer to spans.
		last := tr.Tables[len(tr.Tables)-1]
		copy(tr.Tables[2:], tr.Tables[1:len(tr.Tables)-1])
		tr.Tables[1] = last
		t = &tr.Tables[1]
	}
	k := slices.Index(t.Columns, "key")
	for _, row := range t.Rows {
		if k >= 0 && row[k] == key {
			return
		}
	}
	r := make([]any, len(t.Columns))
	for i, c := range t.Columns {
		switch c {
		case "key":
			r[i] = key
		case "value":
			r[i] = value
		case "request_id", "trace_id":
			r[i] = tr.RequestID
		}
	}
	t.Rows = append(t.Rows, r)
}

// boundedText is text cut to max characters, nil for anything but text.
func boundedText(v any, max int) any {
	s, ok := v.(string)
	if !ok {
		return nil
	}
	n := 0
	for i := range s {
		if n == max {
			return s[:i]
		}
		n++
	}
	return s
}

// jsonObject is a JSON object given as text (or already parsed), empty for anything else.
func jsonObject(v any) pyvalue.Map {
	text, ok := v.(string)
	if !ok {
		return nil
	}
	parsed, err := pyvalue.FromJSON(text)
	if err != nil {
		return nil
	}
	object, _ := parsed.(pyvalue.Map)
	return object
}

var decimalText = regexp.MustCompile(`^[+-]?(([0-9]+(_[0-9]+)*)?\.?[0-9]+(_[0-9]+)*|[0-9]+(_[0-9]+)*\.)([eE][+-]?[0-9]+(_[0-9]+)*)?$`)

// TokenCount is a token count as MLflow's migration reads one: a finite whole number
// within 64 bits (12, 12.0 and "12" are 12), as int64; nil for anything else (12.5, NaN,
// true, text that is not a number).
func TokenCount(v any) any {
	switch x := v.(type) {
	case int64:
		return x
	case int:
		return int64(x)
	case float64:
		if math.IsInf(x, 0) || math.IsNaN(x) || x != math.Trunc(x) || x < -(1<<63) || x >= 1<<63 {
			return nil
		}
		return int64(x)
	case string:
		return decimalCount(strings.TrimSpace(x))
	}
	return nil
}

// decimalCount reads text as Python's Decimal does and keeps it when it is a whole
// number within 64 bits.
func decimalCount(s string) any {
	if !decimalText.MatchString(s) {
		return nil
	}
	s = strings.ReplaceAll(s, "_", "")
	mantissa, exp, _ := strings.Cut(strings.ToLower(s), "e")
	if exp != "" {
		e, err := strconv.Atoi(exp)
		if err != nil || e > 40 || e < -len(mantissa)-40 {
			// Far beyond 64 bits, or below 1 unless the mantissa is zero.
			if strings.Trim(mantissa, "+-0.") == "" {
				return int64(0)
			}
			return nil
		}
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok || !r.IsInt() || !r.Num().IsInt64() {
		return nil
	}
	return r.Num().Int64()
}

// FiniteFloat is a cost as MLflow's migration reads one: a number, or text Python's
// float() reads, that is finite, as float64; nil for anything else (booleans too).
func FiniteFloat(v any) any {
	f, ok := toFloat(v)
	if !ok {
		return nil
	}
	return f
}

func toFloat(v any) (float64, bool) {
	var f float64
	switch x := v.(type) {
	case float64:
		f = x
	case int64:
		f = float64(x)
	case int:
		f = float64(x)
	case string:
		parsed, ok := pyvalue.Float(strings.TrimSpace(x))
		if !ok {
			return 0, false
		}
		f = parsed
	default:
		return 0, false
	}
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, false
	}
	return f, true
}

// AssessmentAggregate is the number MLflow 3.17 aggregates an assessment by, and
// whether its value is a number: the value's JSON (or the text itself when it is not
// JSON) read as MLflow's migration reads it.
func AssessmentAggregate(v any) (any, bool) {
	text, ok := v.(string)
	if !ok {
		return nil, false
	}
	var parsed any = text
	switch strings.TrimSpace(text) {
	case "NaN", "Infinity", "-Infinity":
		// Python's json reads these as floats that are not finite.
		return nil, false
	}
	if p, err := pyvalue.FromJSON(text); err == nil {
		parsed = p
	}
	switch x := parsed.(type) {
	case bool:
		if x {
			return 1.0, false
		}
		return 0.0, false
	case int64:
		return float64(x), true
	case float64:
		if math.IsInf(x, 0) || math.IsNaN(x) {
			return nil, false
		}
		return x, true
	case string:
		switch strings.ToLower(strings.TrimSpace(x)) {
		case "yes":
			return 1.0, false
		case "no":
			return 0.0, false
		}
	}
	return nil, false
}
