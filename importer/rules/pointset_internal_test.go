package rules

import "testing"

// TestPointSetBounded: every point is remembered up to exactPoints; past that only the
// last windowPoints are, so a point logged twice in a row is still caught while the
// memory stays flat; a set of stored points (a merge) stays whole.
func TestPointSetBounded(t *testing.T) {
	s := NewPointSet()
	point := func(i int) PointKey {
		return PointKey{Key: "loss", Value: float64(i), Timestamp: int64(i), Step: int64(i)}
	}
	bounded := false
	for i := 0; i < ExactPoints+WindowPoints*2; i++ {
		if s.Has(point(i)) {
			t.Fatalf("point %d seen before it was added", i)
		}
		bounded = s.Add(point(i)) || bounded
	}
	if !bounded || s.exact != nil || len(s.window) != WindowPoints {
		t.Fatalf("bounded %v, exact %d, window %d", bounded, len(s.exact), len(s.window))
	}
	last := ExactPoints + WindowPoints*2 - 1
	if !s.Has(point(last)) || !s.Has(point(last-WindowPoints+1)) {
		t.Error("a recent point is not remembered")
	}
	if s.Has(point(0)) {
		t.Error("a point far back is still held: memory would grow with the run")
	}
	// A repeat across the moment the set became bounded is caught too.
	across := NewPointSet()
	for i := 0; i < ExactPoints-1; i++ {
		across.Add(point(i))
	}
	across.Add(point(ExactPoints - 1)) // bounded from here
	if !across.Has(point(ExactPoints - 10)) {
		t.Error("a point just before the set became bounded was let go")
	}
	whole := NewPointSet()
	whole.Whole = true
	for i := 0; i < ExactPoints+10; i++ {
		whole.Add(point(i))
	}
	if whole.bounded || !whole.Has(point(0)) {
		t.Error("a merge's stored points were let go")
	}
}
