package pyvalue

import (
	"math"
	"testing"

	"gopkg.in/yaml.v3"
)

// The expected texts are what CPython 3 prints for repr(float) and json.dumps.
func TestPyFloatRepr(t *testing.T) {
	tenth, fifth := 0.1, 0.2
	for f, want := range map[float64]string{
		1: "1.0", 0.1: "0.1", 1e16: "1e+16", 1e15: "1000000000000000.0", 1e-05: "1e-05", 0.0001: "0.0001",
		123456789: "123456789.0", 1.5e300: "1.5e+300", 12345678901234567890: "1.2345678901234567e+19",
		tenth + fifth: "0.30000000000000004", -2.5: "-2.5", 5e-324: "5e-324", math.Copysign(0, -1): "-0.0",
	} {
		if got := pyFloatRepr(f); got != want {
			t.Errorf("repr(%v) = %s, want %s", f, got, want)
		}
	}
}

func TestPyJSONDumps(t *testing.T) {
	v := Map{
		{"a", []Value{int64(1), 2.5, true, nil, math.Inf(1), math.NaN()}},
		{"é", "ü😀\n\t\"\\\x01"},
		{"empty", Map{}},
		{"list", []Value{}},
	}
	want := `{"a": [1, 2.5, true, null, Infinity, NaN], "\u00e9": "\u00fc\ud83d\ude00\n\t\"\\\u0001", "empty": {}, "list": []}`
	if got := JSONDumps(v); got != want {
		t.Errorf("json.dumps:\n got %s\nwant %s", got, want)
	}
}

// TestPyJSONDumpsUnicode: json.dumps(v, ensure_ascii=False) escapes only quotes,
// backslashes and control characters (the want is Python's own output).
func TestPyJSONDumpsUnicode(t *testing.T) {
	v := Map{{"a", []Value{int64(1), 2.5, true, nil}}, {"é", "ü😀\n\t\"\\\x01\x7f"}}
	want := "{\"a\": [1, 2.5, true, null], \"é\": \"ü😀\\n\\t\\\"\\\\\\u0001\x7f\"}"
	if got := JSONDumpsUnicode(v); got != want {
		t.Errorf("json.dumps(ensure_ascii=False):\n got %q\nwant %q", got, want)
	}
}

// PyYAML's safe loader reads YAML 1.1: these differ from what a YAML 1.2 reader gives.
func TestPyFromYAML(t *testing.T) {
	src := "b1: yes\nb2: Off\ni: 0x1F\no: 017\nbin: 0b101\ne: 1e5\nf: 1.5e+3\nd: 1_000\nq: 'yes'\nn: ~\ninf: -.inf\ns: text\nlist: [1, x]\n"
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
		t.Fatal(err)
	}
	v, err := FromYAML(&doc)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"b1": true, "b2": false, "i": 31, "o": 15, "bin": 5, "e": "1e5", "f": 1500.0, "d": 1000, "q": "yes", "n": null, "inf": -Infinity, "s": "text", "list": [1, "x"]}`
	if got := JSONDumps(v); got != want {
		t.Errorf("read as PyYAML does:\n got %s\nwant %s", got, want)
	}
}

func TestPyFromJSONKeepsOrderAndIntegers(t *testing.T) {
	v, err := FromJSON(`{"z": 1, "a": [1.0, 2, {"k": null}], "big": 1e400}`)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := JSONDumps(v), `{"z": 1, "a": [1.0, 2, {"k": null}], "big": Infinity}`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	if _, err := FromJSON(`{"a": 1} x`); err == nil {
		t.Error("text after the value was accepted")
	}
}

// TestPlainDecimalsReadAsPython: the fast path for plain decimals gives what the general
// reading of Python's int() and float() gives, for texts on both sides of its edges.
func TestPlainDecimalsReadAsPython(t *testing.T) {
	texts := []string{"0", "-0", "+7", "12", "007", "1.5", "-1.5", ".5", "5.", "1e5", "1E-5", "1e+5", "-2.5e-3",
		"1e999", "-1e999", "1e-400", "+", "-", ".", "e5", "1e", "1e+", "1.5.5", "1e5e5", "--1", "+-1", "1+1",
		"9223372036854775807", "9223372036854775808", "-9223372036854775808"}
	for _, s := range texts {
		if plainDecimal(s, true) {
			got, gotOK := Float(s)
			want, wantOK := floatGeneral(s)
			if gotOK != wantOK || (gotOK && got != want && !(math.IsNaN(got) && math.IsNaN(want))) {
				t.Errorf("pyFloat(%q) = %v, %t; the general reading gives %v, %t", s, got, gotOK, want, wantOK)
			}
		}
		if plainDecimal(s, false) {
			got, gotOK := Int(s)
			want, wantOK := intGeneral(s)
			if gotOK != wantOK || got != want {
				t.Errorf("pyInt(%q) = %d, %t; the general reading gives %d, %t", s, got, gotOK, want, wantOK)
			}
		}
	}
	for _, s := range []string{"1_0", "0x1p3", "inf", "nan", "1 ", ""} {
		if plainDecimal(s, true) {
			t.Errorf("plainDecimal(%q) is true: the fast path would take a text it does not cover", s)
		}
	}
}
