package tablerows

import (
	"encoding/json"
	"testing"

	"github.com/mlflow-bulk/mlflow-bulk/schema"
)

// TestMapExperimentIDs maps foreign-key, experiment_id and polymorphic references, and
// refuses rows of experiments that were not imported.
func TestMapExperimentIDs(t *testing.T) {
	t.Parallel()
	ids := map[string]int64{"0": 0, "7": 12}
	lookup := func(id string) (int64, bool) { v, ok := ids[id]; return v, ok }
	info := &schema.TableInfo{Name: "entity_associations"}
	cols := []string{"source_type", "source_id", "destination_type", "destination_id"}
	row := []any{"EXPERIMENT", "7", "EVALUATION_DATASET", "d-1"}
	got, ok := MapExperimentIDs(info.Name, cols, row, ExperimentColumns(info, cols), lookup)
	if !ok || got[1] != "12" || got[3] != "d-1" || row[1] != "7" {
		t.Errorf("entity association: %v %v (source row %v)", got, ok, row)
	}
	if _, ok := MapExperimentIDs(info.Name, cols, []any{"EXPERIMENT", "8", "RUN", "r"}, nil, lookup); ok {
		t.Error("a row of an experiment not imported was mapped")
	}
	scorers := &schema.TableInfo{Name: "scorers", ForeignKeys: []schema.ForeignKey{{Columns: []string{"experiment_id"}, RefTable: "experiments", RefColumns: []string{"experiment_id"}}}}
	sc := []string{"experiment_id", "scorer_name"}
	if got, ok := MapExperimentIDs("scorers", sc, []any{int64(7), "s"}, ExperimentColumns(scorers, sc), lookup); !ok || got[0] != int64(12) {
		t.Errorf("scorers: %v %v", got, ok)
	}
	if got, ok := MapExperimentIDs("scorers", sc, []any{nil, "s"}, ExperimentColumns(scorers, sc), lookup); !ok || got[0] != nil {
		t.Errorf("a NULL experiment id: %v %v", got, ok)
	}
	b, _ := json.Marshal(ExperimentColumns(&schema.TableInfo{Name: "spans"}, []string{"trace_id", "experiment_id"}))
	if string(b) != "[1]" {
		t.Errorf("spans.experiment_id without a foreign key is not taken for an experiment id: %s", b)
	}
}

// TestKeysAndComparison: a row's key is its key columns' values, rows written by one
// database and read back by another compare the same, and a key of all columns stands in
// where a table has no primary key among the columns written.
func TestKeysAndComparison(t *testing.T) {
	t.Parallel()
	info := &schema.TableInfo{Name: "t", PrimaryKey: []string{"id", "k"}}
	names := []string{"k", "v", "id"}
	key := KeyColumns(info, names)
	if len(key) != 2 || key[0] != 2 || key[1] != 0 {
		t.Fatalf("key %v", key)
	}
	a, b := []any{"x", 2.5, int64(1)}, []any{[]byte("x"), 2.5, float64(1)}
	if RowKey(a, key) != RowKey(b, key) || !SameRow(a, b) {
		t.Errorf("%v and %v differ", a, b)
	}
	if SameRow(a, []any{"x", 2.4, int64(1)}) || RowKey(a, key) == RowKey([]any{"x", 2.5, int64(2)}, key) {
		t.Error("different rows compare the same")
	}
	if all := KeyColumns(&schema.TableInfo{Name: "t", PrimaryKey: []string{"gone"}}, names); len(all) != 3 {
		t.Errorf("without its key among the columns: %v", all)
	}
}
