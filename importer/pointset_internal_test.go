package importer

import "testing"

// TestPointSetBounded: every point is remembered up to exactPoints; past that only the
// last windowPoints are, so a point logged twice in a row is still caught while the
// memory stays flat; a set of stored points (a merge) stays whole.
func TestPointSetBounded(t *testing.T) {
	s := newPointSet()
	point := func(i int) pointKey {
		return pointKey{key: "loss", value: float64(i), timestamp: int64(i), step: int64(i)}
	}
	bounded := false
	for i := 0; i < exactPoints+windowPoints*2; i++ {
		if s.has(point(i)) {
			t.Fatalf("point %d seen before it was added", i)
		}
		bounded = s.add(point(i)) || bounded
	}
	if !bounded || s.exact != nil || len(s.window) != windowPoints {
		t.Fatalf("bounded %v, exact %d, window %d", bounded, len(s.exact), len(s.window))
	}
	last := exactPoints + windowPoints*2 - 1
	if !s.has(point(last)) || !s.has(point(last-windowPoints+1)) {
		t.Error("a recent point is not remembered")
	}
	if s.has(point(0)) {
		t.Error("a point far back is still held: memory would grow with the run")
	}
	// A repeat across the moment the set became bounded is caught too.
	across := newPointSet()
	for i := 0; i < exactPoints-1; i++ {
		across.add(point(i))
	}
	across.add(point(exactPoints - 1)) // bounded from here
	if !across.has(point(exactPoints - 10)) {
		t.Error("a point just before the set became bounded was let go")
	}
	whole := newPointSet()
	whole.whole = true
	for i := 0; i < exactPoints+10; i++ {
		whole.add(point(i))
	}
	if whole.bounded || !whole.has(point(0)) {
		t.Error("a merge's stored points were let go")
	}
}

// TestFirstDifference: two histories that part among their first points show where;
// beyond the points kept, nothing is claimed.
func TestFirstDifference(t *testing.T) {
	build := func(values ...float64) *history {
		h := &history{}
		for i := len(values) - 1; i >= 0; i-- { // out of order: kept in order regardless
			h.add(MetricPoint{Key: "loss", Step: int64(i), Timestamp: 100 + int64(i), Value: values[i]})
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
