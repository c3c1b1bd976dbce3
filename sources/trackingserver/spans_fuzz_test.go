package trackingserver

import (
	"testing"

	"github.com/mlflow-bulk/mlflow-bulk/sources/pyvalue"
)

// FuzzSpanTables: whatever a server sends as a trace's spans, rebuilding the rows
// either fails with an error or gives one spans row per span, never a panic.
func FuzzSpanTables(f *testing.F) {
	f.Add(`[{"trace_id": "vvqAnCGJbEwpjLzLRYg66A==", "span_id": "Wyqhd3CjDXg=", "parent_span_id": "Iz7J8wTZJEE=", "name": "n", "start_time_unix_nano": 1, "end_time_unix_nano": "2", "attributes": [{"key": "a", "value": {"kvlist_value": {"values": [{"key": "k", "value": {"double_value": "NaN"}}]}}}, {"key": "mlflow.llm.cost", "value": {"kvlist_value": {"values": [{"key": "total", "value": {"double_value": 0.5}}]}}}], "events": [{"name": "e", "time_unix_nano": 3, "attributes": [{"key": "b", "value": {"bytes_value": "AAE="}}]}], "status": {"code": "STATUS_CODE_ERROR", "message": "m"}}]`)
	f.Add(`[{"traceId": "AAAAAAAAAAAAAAAAAAAAAA==", "spanId": "AAAAAAAAAAA=", "attributes": [{"key": "x", "value": {"arrayValue": {}}}], "status": {}}]`)
	f.Add(`[{}]`)
	f.Fuzz(func(t *testing.T, text string) {
		v, err := pyvalue.FromJSON(text)
		if err != nil {
			return
		}
		list, ok := v.([]pyvalue.Value)
		if !ok {
			return
		}
		tables, err := spanTables("tr-1", "1", list)
		if err != nil {
			return
		}
		if len(list) > 0 && (len(tables) == 0 || len(tables[0].Rows) != len(list)) {
			t.Fatalf("%d spans gave %+v", len(list), tables)
		}
	})
}
