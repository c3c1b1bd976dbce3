package importer

import (
	"math"
	"regexp"
	"testing"

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
