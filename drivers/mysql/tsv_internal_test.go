package mysql

import (
	"math"
	"testing"
)

// TestAppendTSV: every value LOAD DATA reads back as it was, and values it cannot hold
// are errors, not text.
func TestAppendTSV(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		in   any
		want string
	}{
		{nil, `\N`},
		{"plain", "plain"},
		{"tab\there", `tab\there`},
		{"line\nbreak\r\n", `line\nbreak\r\n`},
		{`back\slash`, `back\\slash`},
		{`\N`, `\\N`}, // a string that spells NULL stays a string
		{"nul\x00byte", `nul\0byte`},
		{"emoji 😀 and U+2028 \u2028", "emoji 😀 and U+2028 \u2028"},
		{int64(-42), "-42"},
		{7, "7"},
		{0.1, "0.1"},
		{1e-300, "1e-300"},
		{math.MaxFloat64, "1.7976931348623157e+308"},
		{true, "1"},
		{false, "0"},
	} {
		got, err := appendTSV([]byte("x|"), c.in)
		if err != nil || string(got) != "x|"+c.want {
			t.Errorf("appendTSV(%#v) = %q, %v; want %q", c.in, got, err, "x|"+c.want)
		}
	}
	for _, bad := range []any{math.NaN(), math.Inf(1), math.Inf(-1), []byte("bytes"), struct{}{}} {
		if _, err := appendTSV(nil, bad); err == nil {
			t.Errorf("appendTSV(%#v) encoded a value LOAD DATA cannot hold", bad)
		}
	}
}

// BenchmarkAppendTSV encodes a metric row the way the MySQL path streams it.
func BenchmarkAppendTSV(b *testing.B) {
	row := []any{"train/loss", 0.123456789, int64(1733000000000), "0123456789abcdef0123456789abcdef", int64(1234), false}
	buf := make([]byte, 0, 256)
	for i := 0; i < b.N; i++ {
		buf = buf[:0]
		for _, v := range row {
			var err error
			if buf, err = appendTSV(buf, v); err != nil {
				b.Fatal(err)
			}
			buf = append(buf, '\t')
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
