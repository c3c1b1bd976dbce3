package jsonfile

import (
	"strings"
	"testing"
)

func TestCheckText(t *testing.T) {
	for text, want := range map[string]string{
		`{"name":"exp\udcff"}`:              `line 1, column 13: \udcff is half`,
		`{"name":"a\ud83d"}`:                `\ud83d is half`,
		`{"name":"a\ud83dx"}`:               `\ud83d is half`,
		"{\"a\": 1,\n \"name\":\"a\xffb\"}": "line 2, column 11: byte 0xff is not UTF-8",
	} {
		err := CheckText([]byte(text))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", text, err, want)
		}
	}
	for _, ok := range []string{
		`{"name":"😀 \ud83d\ude00 \u00e9 plain"}`,
		`{"name":"a\\udcff"}`, // an escaped backslash, then text
		`{"q":"\"\\"}`,
		`{"udcff":"\u0041"}`,
		`["\ud83d\ude00"]`,
	} {
		if err := CheckText([]byte(ok)); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
}
