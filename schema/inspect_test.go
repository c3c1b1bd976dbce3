package schema_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/mlflow-bulk/mlflow-bulk/schema"
	"github.com/mlflow-bulk/mlflow-bulk/schema/live"
)

// TestInspect reads back a created 3.14 schema on every dialect: keys, references,
// generated, boolean and binary columns as MLflow declared them.
func TestInspect(t *testing.T) {
	ctx := context.Background()
	for _, d := range dialects {
		t.Run(string(d.dialect), func(t *testing.T) {
			s := open(t, d.uri(t))
			tx, err := s.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = tx.Rollback(ctx) }()
			if err := live.Create(ctx, tx, d.dialect, schema.Newest(), live.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
			tables, err := live.Inspect(ctx, tx, d.dialect)
			if err != nil {
				t.Fatal(err)
			}
			stmts, _ := schema.Statements(schema.Newest(), d.dialect)
			creates := 0
			for _, s := range stmts {
				if strings.HasPrefix(s, "CREATE TABLE") {
					creates++
				}
			}
			if len(tables) != creates {
				t.Errorf("%d tables inspected, the DDL creates %d", len(tables), creates)
			}
			items := tables["review_queue_items"]
			if items == nil || strings.Join(items.PrimaryKey, ",") != "queue_id,item_id" {
				t.Fatalf("review_queue_items: %+v", items)
			}
			if ref, col := items.References("queue_id"); ref != "review_queues" || col != "queue_id" {
				t.Errorf("review_queue_items.queue_id refers to %s.%s", ref, col)
			}
			if ref, col := tables["scorer_versions"].References("scorer_id"); ref != "scorers" || col != "scorer_id" {
				t.Errorf("scorer_versions.scorer_id refers to %s.%s", ref, col)
			}
			if ref, _ := tables["runs"].References("experiment_id"); ref != "experiments" {
				t.Errorf("runs.experiment_id refers to %q", ref)
			}
			if got := strings.Join(tables["metrics"].PrimaryKey, ","); got != "key,timestamp,step,run_uuid,value,is_nan" {
				t.Errorf("metrics' key: %s", got)
			}
			if c := tables["spans"].Column("duration_ns"); c == nil || !c.Generated {
				t.Errorf("spans.duration_ns: %+v", c)
			}
			if c := tables["spans"].Column("span_id"); c == nil || c.Generated {
				t.Errorf("spans.span_id: %+v", c)
			}
			if c := tables["secrets"].Column("encrypted_value"); c == nil || !c.Binary {
				t.Errorf("secrets.encrypted_value: %+v", c)
			}
			if c := tables["label_schemas"].Column("is_default"); c == nil || (d.dialect != schema.MySQL && !c.Boolean) {
				t.Errorf("label_schemas.is_default: %+v", c)
			}
			if v, ok := tables["experiments"].Column("workspace").LiteralDefault(); !ok || v != "default" {
				t.Errorf("experiments.workspace default %q, %v", v, ok)
			}
			if _, ok := tables["experiments"].Column("experiment_id").LiteralDefault(); ok && d.dialect == schema.Postgres {
				t.Error("nextval(...) taken for a literal")
			}
			order := schema.ParentsFirst(tables, []string{"review_queue_items", "scorer_versions", "review_queues", "scorers", "jobs"})
			pos := map[string]int{}
			for i, n := range order {
				pos[n] = i
			}
			if len(order) != 5 || pos["review_queues"] > pos["review_queue_items"] || pos["scorers"] > pos["scorer_versions"] {
				t.Errorf("parents first: %v", order)
			}
		})
	}
}

// TestTableInfoJSON: a table's description is written in snake case, and one written by
// an earlier version, in Go's field names, reads the same.
func TestTableInfoJSON(t *testing.T) {
	old := `{"Name":"t","Columns":[{"Name":"a","Type":"text","Binary":true}],"PrimaryKey":["a"],"ForeignKeys":[{"Columns":["a"],"RefTable":"x","RefColumns":["b"]}]}`
	var info schema.TableInfo
	if err := json.Unmarshal([]byte(old), &info); err != nil {
		t.Fatal(err)
	}
	if info.Name != "t" || len(info.Columns) != 1 || !info.Columns[0].Binary || info.PrimaryKey[0] != "a" || info.ForeignKeys[0].RefTable != "x" {
		t.Errorf("an earlier dump's table reads as %+v", info)
	}
	b, err := json.Marshal(info)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"name":"t"`) || !strings.Contains(string(b), `"ref_table":"x"`) || strings.Contains(string(b), `"Name"`) {
		t.Errorf("written as %s", b)
	}
}
