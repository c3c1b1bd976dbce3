package verify

import (
	"testing"

	"github.com/mlflow-bulk/mlflow-bulk/importer/rules"
)

// TestFirstDifference: two histories that part among their first points show where;
// beyond the points kept, nothing is claimed.
func TestFirstDifference(t *testing.T) {
	build := func(values ...float64) *history {
		h := &history{}
		for i := len(values) - 1; i >= 0; i-- { // out of order: kept in order regardless
			h.add(rules.MetricPoint{Key: "loss", Step: int64(i), Timestamp: 100 + int64(i), Value: values[i]})
		}
		return h
	}
	if got := firstDifference(build(1, 2, 3), build(1, 2.5, 3)); got != "the first point that differs: step 1 at 101 = 2 in the source, step 1 at 101 = 2.5 in the target" {
		t.Errorf("a changed value: %q", got)
	}
	if got := firstDifference(build(1, 2, 3), build(1, 2)); got != "the first point that differs: step 2 at 102 = 3 in the source, not in the target" {
		t.Errorf("a missing point: %q", got)
	}
	long := make([]float64, 40)
	changed := make([]float64, 40)
	changed[30] = 9
	if got := firstDifference(build(long...), build(changed...)); got != "" {
		t.Errorf("a difference beyond the points kept: %q", got)
	}
	if h := build(long...); len(h.first) != firstKept || h.first[0].Step != 0 || h.first[firstKept-1].Step != firstKept-1 {
		t.Errorf("kept %d points, from step %d", len(h.first), h.first[0].Step)
	}
}
