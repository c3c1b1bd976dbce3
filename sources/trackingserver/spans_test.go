package trackingserver_test

import (
	"database/sql"
	"fmt"
	"testing"

	"github.com/mlflow-bulk/mlflow-bulk/internal/testenv"
	"github.com/mlflow-bulk/mlflow-bulk/sources/pyvalue"
	"github.com/mlflow-bulk/mlflow-bulk/sources/trackingserver"
)

// TestSpansFromServerAsStored: every span of a real database MLflow wrote, shown as
// MLflow's server shows it, becomes the row MLflow stored, its content byte for byte.
func TestSpansFromServerAsStored(t *testing.T) {
	db, err := sql.Open("sqlite", "file:"+testenv.Sample(t, "yizhehong-ecu-agent-sqlite/mlflow.db")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT trace_id, experiment_id, span_id, parent_span_id, name, type, status, start_time_unix_nano, end_time_unix_nano, content FROM spans`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var traceID, spanID, status, content string
		var experimentID, start int64
		var parent, name, typ sql.NullString
		var end sql.NullInt64
		if err := rows.Scan(&traceID, &experimentID, &spanID, &parent, &name, &typ, &status, &start, &end, &content); err != nil {
			t.Fatal(err)
		}
		shown, err := otelSpan(content)
		if err != nil {
			t.Fatal(err)
		}
		wire, err := pyvalue.FromJSON(pyvalue.JSONDumps(shown)) // through the wire's text
		if err != nil {
			t.Fatal(err)
		}
		tables, err := trackingserver.SpanTables(traceID, fmt.Sprint(experimentID), []pyvalue.Value{wire})
		if err != nil {
			t.Fatalf("span %s of %s: %v", spanID, traceID, err)
		}
		if len(tables) != 1 || tables[0].Table != "spans" || len(tables[0].Rows) != 1 {
			t.Fatalf("span %s of %s: tables %+v", spanID, traceID, tables)
		}
		want := []any{traceID, fmt.Sprint(experimentID), spanID, nullable(parent), name.String, nullable(typ), status, start, nullableInt(end), content, nil}
		for i, got := range tables[0].Rows[0] {
			if fmt.Sprint(got) != fmt.Sprint(want[i]) {
				t.Errorf("span %s of %s: %s\n got %v\nwant %v", spanID, traceID, tables[0].Columns[i], got, want[i])
			}
		}
		n++
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if n < 300 {
		t.Fatalf("read %d spans; the sample holds 350", n)
	}
}

func nullable(s sql.NullString) any {
	if !s.Valid {
		return nil
	}
	return s.String
}

func nullableInt(n sql.NullInt64) any {
	if !n.Valid {
		return nil
	}
	return n.Int64
}

// TestRootSpanWithNullParent: a root span's parent may come as null, or not at all; its
// row has no parent either way.
func TestRootSpanWithNullParent(t *testing.T) {
	for _, text := range []string{
		`{"trace_id": "vvqAnCGJbEwpjLzLRYg66A==", "span_id": "Wyqhd3CjDXg=", "parent_span_id": null, "name": "root", "start_time_unix_nano": 5}`,
		`{"trace_id": "vvqAnCGJbEwpjLzLRYg66A==", "span_id": "Wyqhd3CjDXg=", "name": "root", "start_time_unix_nano": 5}`,
	} {
		span, err := pyvalue.FromJSON(text)
		if err != nil {
			t.Fatal(err)
		}
		tables, err := trackingserver.SpanTables("tr-1", "1", []pyvalue.Value{span})
		if err != nil {
			t.Fatalf("%s: %v", text, err)
		}
		row := tables[0].Rows[0]
		if row[3] != nil || row[2] != "5b2aa17770a30d78" || row[6] != "UNSET" {
			t.Errorf("%s: span %v, parent %v, status %v", text, row[2], row[3], row[6])
		}
		want := `{"trace_id": "vvqAnCGJbEwpjLzLRYg66A==", "span_id": "Wyqhd3CjDXg=", "parent_span_id": null, "name": "root", "start_time_unix_nano": 5, ` +
			`"end_time_unix_nano": null, "events": [], "status": {"code": "STATUS_CODE_UNSET", "message": ""}, "attributes": {}}`
		if row[9] != want {
			t.Errorf("content\n got %v\nwant %s", row[9], want)
		}
	}
}
