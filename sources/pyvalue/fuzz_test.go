package pyvalue

import (
	"math"
	"strings"
	"testing"
)

// FuzzFromJSON: whatever text FromJSON accepts, json.dumps of it reads back to the same
// text (where it holds no NaN or infinity, which strict JSON cannot carry).
func FuzzFromJSON(f *testing.F) {
	for _, seed := range []string{`{"a": [1, 2.5, "x", null, true]}`, `[]`, `{"b": 1, "a": {"c": -0.0}}`, `"\u00e9\ud83d\ude00"`, `1e400`, `12345678901234567890`} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, text string) {
		v, err := FromJSON(text)
		if err != nil {
			return
		}
		dumped := JSONDumps(v)
		if strings.Contains(dumped, "NaN") || strings.Contains(dumped, "Infinity") {
			return
		}
		again, err := FromJSON(dumped)
		if err != nil {
			t.Fatalf("json.dumps of %q is %q, which does not read back: %v", text, dumped, err)
		}
		if JSONDumps(again) != dumped {
			t.Fatalf("%q: dumped %q, then %q", text, dumped, JSONDumps(again))
		}
	})
}

// FuzzNumbers: Python's int() and float() of any text; a text int() takes, float() takes
// too, with the same value where a double holds it exactly.
func FuzzNumbers(f *testing.F) {
	for _, seed := range []string{"1", "-2_000", "+1.5e3", "1__0", "nan", "-Infinity", "1e999", ".5", "5.", "0x10", " 1"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		i, intOK := Int(s)
		x, floatOK := Float(s)
		if intOK && !floatOK {
			t.Fatalf("int(%q) = %d but float(%q) fails", s, i, s)
		}
		if intOK && math.Abs(float64(i)) < 1<<53 && x != float64(i) {
			t.Fatalf("int(%q) = %d but float(%q) = %v", s, i, s, x)
		}
	})
}
