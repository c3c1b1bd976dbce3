package importer

import "testing"

// TestIDSet: small ids as bits, large and negative ones in the map, each found only
// once added.
func TestIDSet(t *testing.T) {
	var s idSet
	ids := []int64{0, 1, 63, 64, 65, 1000, denseIDs - 1, denseIDs, 1234567890123456, -1}
	for _, id := range ids {
		if s.has(id) {
			t.Fatalf("%d held before it was added", id)
		}
		s.add(id)
		if !s.has(id) {
			t.Fatalf("%d not held once added", id)
		}
	}
	for _, id := range []int64{2, 62, 66, 999, 1001, denseIDs + 1, 1234567890123457, -2} {
		if s.has(id) {
			t.Errorf("%d held, never added", id)
		}
	}
	if len(s.sparse) != 3 {
		t.Errorf("%d ids in the map, want the 3 outside the dense range", len(s.sparse))
	}
	if len(s.bits) > int(denseIDs/64) {
		t.Errorf("%d words of bits, more than the dense range needs", len(s.bits))
	}
}
