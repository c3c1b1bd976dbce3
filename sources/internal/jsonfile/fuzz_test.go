package jsonfile

import (
	"encoding/json"
	"testing"
)

// FuzzPythonJSON: Python's bare NaN and Infinity are quoted outside strings only, so
// text that already is JSON comes back unchanged, and whatever comes back from text
// that was JSON but for those tokens is JSON.
func FuzzPythonJSON(f *testing.F) {
	for _, seed := range []string{`{"a": NaN, "b": "NaN", "c": [Infinity, -Infinity]}`, `"\"NaN\\"`, `[1, 2]`, `{"k": "x\\\"Infinity"}`} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		out := PythonJSON(data)
		if json.Valid(data) && string(out) != string(data) {
			t.Fatalf("valid JSON %q changed to %q", data, out)
		}
	})
}
