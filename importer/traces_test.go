package importer_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/mlflow-bulk/mlflow-bulk/importer"
	"github.com/mlflow-bulk/mlflow-bulk/internal/testenv"
	"github.com/mlflow-bulk/mlflow-bulk/schema"
)

var traceTables = map[string]string{
	"trace_info":             "request_id, experiment_id, timestamp_ms, execution_time_ms, status, client_request_id, request_preview, response_preview",
	"trace_tags":             `"key", value, request_id`,
	"trace_request_metadata": `"key", value, request_id`,
	"spans":                  "trace_id, experiment_id, span_id, parent_span_id, name, type, status, start_time_unix_nano, end_time_unix_nano, duration_ns, content, dimension_attributes",
	"trace_metrics":          `request_id, "key", value`,
	"span_metrics":           `trace_id, span_id, "key", value`,
	"assessments":            "assessment_id, trace_id, name, assessment_type, value, created_timestamp, last_updated_timestamp, source_type, run_id, span_id, valid",
}

// rowsAsText renders rows of a query, booleans and integers alike as numbers.
func rowsAsText(t *testing.T, q querier, query string) []string {
	rows, err := q.Query(context.Background(), query)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n int
		if r, ok := rows.(interface{ Columns() ([]string, error) }); ok {
			cols, _ := r.Columns()
			n = len(cols)
		}
		values := make([]any, n)
		ptrs := make([]any, n)
		for i := range values {
			ptrs[i] = &values[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		var parts []string
		for _, v := range values {
			if b, ok := v.([]byte); ok {
				v = string(b)
			}
			switch x := v.(type) {
			case string:
				parts = append(parts, normalizeJSON(x))
			case map[string]any, []any:
				b, _ := json.Marshal(x)
				parts = append(parts, string(b))
			case bool:
				if x {
					parts = append(parts, "1")
				} else {
					parts = append(parts, "0")
				}
			case nil:
				parts = append(parts, "NULL")
			default:
				parts = append(parts, fmt.Sprint(x))
			}
		}
		out = append(out, strings.Join(parts, "|"))
	}
	sort.Strings(out)
	return out
}

// normalizeJSON re-encodes JSON text compactly, so databases that keep JSON differently
// (text, or parsed) compare equal; other text is returned as it is.
func normalizeJSON(s string) string {
	if !strings.HasPrefix(s, "{") && !strings.HasPrefix(s, "[") {
		return s
	}
	var v any
	if json.Unmarshal([]byte(s), &v) != nil {
		return s
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func TestMigrateTraces(t *testing.T) {
	src := testenv.SQLite(t)
	createAt(t, src, schema.Newest())
	run := strings.Repeat("c", 32)
	setUp(t, src,
		"INSERT INTO experiments (experiment_id, name, artifact_location, lifecycle_stage) VALUES (7, 'genai', '/a', 'active')",
		"INSERT INTO runs (run_uuid, name, source_type, status, start_time, lifecycle_stage, artifact_uri, experiment_id) VALUES ('"+run+"', 'eval', 'LOCAL', 'FINISHED', 1, 'active', '/a', 7)",
		"INSERT INTO trace_info (request_id, experiment_id, timestamp_ms, execution_time_ms, status, request_preview) VALUES ('tr-1', 7, 1000, 25, 'OK', '{\"q\": \"hi\"}')",
		"INSERT INTO trace_info (request_id, experiment_id, timestamp_ms, status) VALUES ('tr-2', 7, 2000, 'ERROR')",
		"INSERT INTO trace_tags (key, value, request_id) VALUES ('mlflow.traceName', 'chat', 'tr-1')",
		"INSERT INTO trace_request_metadata (key, value, request_id) VALUES ('mlflow.sourceRun', '"+run+"', 'tr-1')",
		"INSERT INTO spans (trace_id, experiment_id, span_id, name, type, status, start_time_unix_nano, end_time_unix_nano, content, dimension_attributes) VALUES ('tr-1', 7, 's1', 'root', 'CHAIN', 'OK', 100, 350, '{}', '{\"model\": \"x\"}')",
		"INSERT INTO spans (trace_id, experiment_id, span_id, parent_span_id, name, type, status, start_time_unix_nano, content) VALUES ('tr-1', 7, 's2', 's1', 'llm', 'LLM', 'OK', 120, '{}')",
		"INSERT INTO trace_metrics (request_id, key, value) VALUES ('tr-1', 'tokens', 42)",
		"INSERT INTO span_metrics (trace_id, span_id, key, value) VALUES ('tr-1', 's1', 'latency', 0.25)",
		"INSERT INTO assessments (assessment_id, trace_id, name, assessment_type, value, created_timestamp, last_updated_timestamp, source_type, run_id, span_id, valid) VALUES ('a-1', 'tr-1', 'correct', 'feedback', 'true', 5, 6, 'HUMAN', '"+run+"', 's1', 1)",
	)
	want := map[string][]string{}
	srcDB := openDB(t, src)
	for table, cols := range traceTables {
		want[table] = rowsAsText(t, srcDB.tx, "SELECT "+cols+" FROM "+table)
	}
	srcDB.close()
	for _, target := range targets {
		t.Run(target.name, func(t *testing.T) {
			uri := target.uri(t)
			report, err := importPaths(t, uri, importer.Options{}, src)
			if err != nil {
				t.Fatal(err)
			}
			if c := report.Count("traces"); c.Created != 2 {
				t.Errorf("traces %+v", c)
			}
			d := openDB(t, uri)
			for table, cols := range traceTables {
				compareSets(t, table, rowsAsText(t, d.tx, "SELECT "+cols+" FROM "+table), want[table])
			}
			d.close()
			again, err := importPaths(t, uri, importer.Options{}, src)
			if err != nil || again.Count("traces").Skipped != 2 {
				t.Errorf("a second import wrote traces again: %v %+v", err, again.Count("traces"))
			}
		})
	}
}

// TestTracesThroughServers reads traces back from PostgreSQL and MariaDB sources:
// SQLite -> PostgreSQL -> MariaDB -> SQLite leaves every trace row as it was.
func TestTracesThroughServers(t *testing.T) {
	src := testenv.SQLite(t)
	createAt(t, src, schema.Newest())
	setUp(t, src,
		"INSERT INTO experiments (experiment_id, name, artifact_location, lifecycle_stage) VALUES (2, 'genai', '/a', 'active')",
		"INSERT INTO trace_info (request_id, experiment_id, timestamp_ms, status) VALUES ('tr-9', 2, 9, 'OK')",
		"INSERT INTO spans (trace_id, experiment_id, span_id, name, type, status, start_time_unix_nano, end_time_unix_nano, content, dimension_attributes) VALUES ('tr-9', 2, 's', 'n', 'LLM', 'OK', 1, 5, '{}', '{\"k\": [1, 2]}')",
		"INSERT INTO assessments (assessment_id, trace_id, name, assessment_type, value, created_timestamp, last_updated_timestamp, source_type, valid) VALUES ('a', 'tr-9', 'n', 'feedback', '1', 1, 1, 'HUMAN', 0)",
	)
	hops := []string{src, testenv.Postgres(t), testenv.MySQL(t), testenv.SQLite(t)}
	for i := 1; i < len(hops); i++ {
		if _, err := importPaths(t, hops[i], importer.Options{}, hops[i-1]); err != nil {
			t.Fatalf("hop %d: %v", i, err)
		}
	}
	first, last := openDB(t, hops[0]), openDB(t, hops[len(hops)-1])
	for table, cols := range traceTables {
		compareSets(t, table, rowsAsText(t, last.tx, "SELECT "+cols+" FROM "+table), rowsAsText(t, first.tx, "SELECT "+cols+" FROM "+table))
	}
}
