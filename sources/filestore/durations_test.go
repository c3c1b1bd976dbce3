package filestore

import "testing"

func TestDurationMillis(t *testing.T) {
	for in, want := range map[string]int64{"0.008s": 8, "1.5s": 1500, "3s": 3000, "-1.0019s": -1001, "0.0009s": 0} {
		if got, ok := durationMillis(in); !ok || got != want {
			t.Errorf("%s: %d %v, want %d", in, got, ok, want)
		}
	}
	for _, bad := range []string{"", "s", "1.5", "xs"} {
		if _, ok := durationMillis(bad); ok {
			t.Errorf("%q accepted", bad)
		}
	}
}
