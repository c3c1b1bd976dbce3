package pyvalue

import (
	"errors"
	"regexp"
	"strconv"
	"strings"
)

// pythonDigits are digits as Python's int() and float() take them: single underscores
// between digits allowed.
var pythonDigits = regexp.MustCompile(`^[0-9]+(_[0-9]+)*$`)

// Int is Python's int() of a text (sign, digits, underscores between digits).
func Int(s string) (int64, bool) {
	if plainDecimal(s, false) {
		// The common case, which Go and Python read alike.
		v, err := strconv.ParseInt(s, 10, 64)
		return v, err == nil
	}
	return intGeneral(s)
}

// intGeneral is Int for any text.
func intGeneral(s string) (int64, bool) {
	digits := strings.TrimLeft(s, "+-")
	if len(s)-len(digits) > 1 || !pythonDigits.MatchString(digits) {
		return 0, false
	}
	v, err := strconv.ParseInt(strings.ReplaceAll(s, "_", ""), 10, 64)
	return v, err == nil
}

var pythonFloat = regexp.MustCompile(`^[+-]?(([0-9]+(_[0-9]+)*)?\.?[0-9]+(_[0-9]+)*|[0-9]+(_[0-9]+)*\.)([eE][+-]?[0-9]+(_[0-9]+)*)?$`)

// Float is Python's float() of a text: decimal numbers with underscores between
// digits, inf, infinity and nan in any case; an out-of-range literal (1e999) is ±inf.
func Float(s string) (float64, bool) {
	if plainDecimal(s, true) {
		// Digits, one optional sign, '.' and an exponent: Go's grammar for these is
		// Python's (no hex, underscores, inf or nan can be among them).
		return parseFloatOrInf(s)
	}
	return floatGeneral(s)
}

// floatGeneral is Float for any text.
func floatGeneral(s string) (float64, bool) {
	switch strings.ToLower(strings.TrimLeft(s, "+-")) {
	case "inf", "infinity", "nan":
		if len(s)-len(strings.TrimLeft(s, "+-")) > 1 {
			return 0, false
		}
		v, err := strconv.ParseFloat(s, 64)
		return v, err == nil
	}
	if !pythonFloat.MatchString(s) {
		return 0, false
	}
	return parseFloatOrInf(strings.ReplaceAll(s, "_", ""))
}

// parseFloatOrInf reads a decimal float as Python does: out of range is ±inf.
func parseFloatOrInf(s string) (float64, bool) {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		var numErr *strconv.NumError
		return v, errors.As(err, &numErr) && errors.Is(numErr.Err, strconv.ErrRange)
	}
	return v, true
}

// plainDecimal reports whether s is made of digits after at most one leading sign, with
// also '.', 'e', 'E' and an exponent's sign when fraction is set: text whose reading by
// strconv matches Python's without the checks the general forms need.
func plainDecimal(s string, fraction bool) bool {
	if s == "" {
		return false
	}
	start := 0
	if s[0] == '+' || s[0] == '-' {
		start = 1
	}
	for i := start; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
		case fraction && (c == '.' || c == 'e' || c == 'E'):
		case fraction && (c == '+' || c == '-') && (s[i-1] == 'e' || s[i-1] == 'E'):
		default:
			return false
		}
	}
	return start < len(s)
}
