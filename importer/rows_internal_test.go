package importer

import (
	"encoding/json"
	"math"
	"regexp"
	"testing"

	"github.com/mlflow-bulk/mlflow-bulk/schema"
	"github.com/mlflow-bulk/mlflow-bulk/sources"
)

func TestNewUUID(t *testing.T) {
	t.Parallel()
	form := regexp.MustCompile(`^[0-9a-f]{12}4[0-9a-f]{3}[89ab][0-9a-f]{15}$`)
	seen := map[string]bool{}
	for range 1000 {
		u := newUUID()
		if !form.MatchString(u) || seen[u] {
			t.Fatalf("%q: not a fresh 32-digit version 4 UUID", u)
		}
		seen[u] = true
	}
}

// TestComparableText: what one database wrote and another reads back compares equal;
// different values do not.
func TestComparableText(t *testing.T) {
	t.Parallel()
	for _, same := range [][2]any{{true, int64(1)}, {false, int64(0)}, {int64(3), float64(3)}, {[]byte("x"), "x"}, {2.5, 2.5}, {int32(7), int64(7)}} {
		if sources.ComparableText(same[0]) != sources.ComparableText(same[1]) {
			t.Errorf("%#v and %#v differ", same[0], same[1])
		}
	}
	for _, other := range [][2]any{{nil, ""}, {nil, "\x00null "}, {int64(1), "1.5"}, {2.5, 2.4999999999999996}, {math.Inf(1), math.MaxFloat64}} {
		if sources.ComparableText(other[0]) == sources.ComparableText(other[1]) {
			t.Errorf("%#v and %#v compare equal", other[0], other[1])
		}
	}
}

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
