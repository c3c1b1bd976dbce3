package jsonfile

import (
	"fmt"
	"strconv"
	"unicode/utf8"
)

// MLflow keeps text as UTF-8; Go's JSON decoder would turn bytes that are not UTF-8, and
// \u escapes of half a surrogate pair (Python's json.dumps writes them for the lone
// surrogates surrogateescape makes of undecodable bytes), into U+FFFD without a word,
// so that two different names become one. A JSON source is refused instead, naming
// where, as file stores and SQLite sources are.

// CheckText finds the first text of data that is not UTF-8, or a \u escape of a lone
// surrogate inside a string, and says where (line and column, from 1); nil when there
// is none.
func CheckText(data []byte) *TextError {
	if !utf8.Valid(data) {
		at := 0
		for at < len(data) {
			r, size := utf8.DecodeRune(data[at:])
			if r == utf8.RuneError && size <= 1 {
				break
			}
			at += size
		}
		line, col := lineCol(data, int64(at))
		return &TextError{Line: line, Column: col, Problem: fmt.Sprintf("byte 0x%02x is not UTF-8; MLflow keeps text as UTF-8, so fix the file's encoding", data[at])}
	}
	inString := false
	for i := 0; i < len(data); i++ {
		switch c := data[i]; {
		case c == '"':
			inString = !inString
		case c == '\\' && inString && i+1 < len(data):
			if data[i+1] != 'u' {
				i++ // \" \\ \n …: the next byte is escaped
				continue
			}
			r, ok := hex4(data, i+2)
			switch {
			case !ok:
				i++
			case r >= 0xD800 && r <= 0xDBFF:
				low, lowOK := rune(0), false
				if i+7 < len(data) && data[i+6] == '\\' && data[i+7] == 'u' {
					low, lowOK = hex4(data, i+8)
				}
				if !lowOK || low < 0xDC00 || low > 0xDFFF {
					return loneSurrogate(data, i, r)
				}
				i += 11
			case r >= 0xDC00 && r <= 0xDFFF:
				return loneSurrogate(data, i, r)
			default:
				i += 5
			}
		}
	}
	return nil
}

// TextError is text of a JSON file that MLflow could not keep, and where it is.
type TextError struct {
	Line, Column int
	Problem      string
}

func (e *TextError) Error() string {
	return fmt.Sprintf("line %d, column %d: %s", e.Line, e.Column, e.Problem)
}

func loneSurrogate(data []byte, at int, r rune) *TextError {
	line, col := lineCol(data, int64(at))
	return &TextError{Line: line, Column: col, Problem: fmt.Sprintf("\\u%04x is half of a UTF-16 surrogate pair, not a character (a byte that was not UTF-8 where the file was written); "+
		"MLflow keeps text as UTF-8, so fix the value", r)}
}

// hex4 reads four hex digits at data[i:].
func hex4(data []byte, i int) (rune, bool) {
	if i+4 > len(data) {
		return 0, false
	}
	r, err := strconv.ParseUint(string(data[i:i+4]), 16, 32)
	return rune(r), err == nil
}
