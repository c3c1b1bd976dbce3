package pyvalue

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf16"

	"gopkg.in/yaml.v3"
)

// MLflow stores some values of its YAML files in the database as the text Python's
// json.dumps makes of what PyYAML read (assessment values, errors and metadata). To
// write the same text, a YAML value is read the way PyYAML's safe loader reads it
// (YAML 1.1: `yes` is true, `1e5` without a dot is text) into a Value that keeps
// mapping order, and encoded the way json.dumps encodes it by default (ASCII only,
// ", " and ": " between items, floats as Python's repr).

// Value is a value as Python holds it after yaml.safe_load or json.loads: nil, bool,
// int64, float64, string, []Value, or Map.
type Value any

// Map is a dict, in insertion order.
type Map []Pair

// Pair is one entry of a Map.
type Pair struct {
	Key   string
	Value Value
}

// Get is the value of key, and whether the map has it.
func (m Map) Get(key string) (Value, bool) {
	for _, p := range m {
		if p.Key == key {
			return p.Value, true
		}
	}
	return nil, false
}

var (
	pyYAMLDecimal = regexp.MustCompile(`^[-+]?(0|[1-9][0-9_]*)$`)
	pyYAMLHex     = regexp.MustCompile(`^[-+]?0x[0-9a-fA-F_]+$`)
	pyYAMLOctal   = regexp.MustCompile(`^[-+]?0[0-7_]+$`)
	pyYAMLBinary  = regexp.MustCompile(`^[-+]?0b[01_]+$`)
	pyYAMLFloat   = regexp.MustCompile(`^[-+]?([0-9][0-9_]*)?\.[0-9_]*([eE][-+][0-9]+)?$`)
)

// pyYAMLIntBase is the base of a YAML 1.1 integer as PyYAML resolves it, 0 for text
// that is not one (sexagesimal integers are left as text).
func pyYAMLIntBase(v string) int {
	switch {
	case pyYAMLDecimal.MatchString(v):
		return 10
	case pyYAMLHex.MatchString(v):
		return 16
	case pyYAMLBinary.MatchString(v):
		return 2
	case pyYAMLOctal.MatchString(v):
		return 8
	}
	return 0
}

// FromYAML converts a YAML node as PyYAML's safe loader would. Aliases are followed.
func FromYAML(n *yaml.Node) (Value, error) {
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return FromYAML(n.Content[0])
	case yaml.AliasNode:
		return FromYAML(n.Alias)
	case yaml.SequenceNode:
		out := make([]Value, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := FromYAML(c)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case yaml.MappingNode:
		out := make(Map, 0, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, err := FromYAML(n.Content[i])
			if err != nil {
				return nil, err
			}
			v, err := FromYAML(n.Content[i+1])
			if err != nil {
				return nil, err
			}
			key, err := pyDictKey(k)
			if err != nil {
				return nil, fmt.Errorf("line %d: %w", n.Content[i].Line, err)
			}
			out = append(out, Pair{key, v})
		}
		return out, nil
	}
	return Scalar(n)
}

// pyDictKey is the text json.dumps writes for a dict key.
func pyDictKey(k Value) (string, error) {
	switch x := k.(type) {
	case string:
		return x, nil
	case nil:
		return "null", nil
	case bool:
		if x {
			return "true", nil
		}
		return "false", nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case float64:
		return pyFloatRepr(x), nil
	}
	return "", errors.New("a mapping key that is not a single value")
}

func Scalar(n *yaml.Node) (Value, error) {
	v := n.Value
	switch {
	case n.Style&yaml.TaggedStyle != 0 && (n.Tag == "!!str" || n.Tag == "!!binary"):
		return v, nil
	case n.Style&yaml.TaggedStyle != 0 && n.Tag == "!!null":
		return nil, nil
	case n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) != 0:
		return v, nil // quoted or block text
	}
	// A plain scalar: resolved by YAML 1.1's rules, as PyYAML does, not yaml.v3's.
	switch v {
	case "", "~", "null", "Null", "NULL":
		return nil, nil
	case "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON":
		return true, nil
	case "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF":
		return false, nil
	case ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF":
		return math.Inf(1), nil
	case "-.inf", "-.Inf", "-.INF":
		return math.Inf(-1), nil
	case ".nan", ".NaN", ".NAN":
		return math.NaN(), nil
	}
	clean := strings.ReplaceAll(v, "_", "")
	if base := pyYAMLIntBase(v); base != 0 {
		digits, negative := strings.TrimLeft(clean, "+-"), strings.HasPrefix(clean, "-")
		switch base {
		case 16, 2:
			digits = digits[2:]
		case 8:
			digits = digits[1:]
		}
		i, err := strconv.ParseInt(digits, base, 64)
		if err != nil {
			return nil, fmt.Errorf("line %d: integer %s is larger than this reader holds", n.Line, v)
		}
		if negative {
			i = -i
		}
		return i, nil
	}
	if pyYAMLFloat.MatchString(v) && clean != "." && clean != "-." && clean != "+." {
		f, err := strconv.ParseFloat(clean, 64)
		if err != nil && !math.IsInf(f, 0) {
			return nil, fmt.Errorf("line %d: %q is not a number", n.Line, v)
		}
		return f, nil
	}
	return v, nil
}

// FromJSON decodes JSON as Python's json.loads: objects keep their order, integers
// stay integers.
func FromJSON(text string) (Value, error) {
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	v, err := pyJSONValue(dec)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("text after the JSON value")
	}
	return v, nil
}

func pyJSONValue(dec *json.Decoder) (Value, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '[':
			out := []Value{}
			for dec.More() {
				v, err := pyJSONValue(dec)
				if err != nil {
					return nil, err
				}
				out = append(out, v)
			}
			_, err := dec.Token()
			return out, err
		case '{':
			out := Map{}
			for dec.More() {
				k, err := dec.Token()
				if err != nil {
					return nil, err
				}
				v, err := pyJSONValue(dec)
				if err != nil {
					return nil, err
				}
				out = append(out, Pair{fmt.Sprint(k), v})
			}
			_, err := dec.Token()
			return out, err
		}
	case json.Number:
		if i, err := strconv.ParseInt(string(t), 10, 64); err == nil {
			return i, nil
		}
		f, err := strconv.ParseFloat(string(t), 64)
		if err != nil && !math.IsInf(f, 0) {
			return nil, err
		}
		return f, nil
	case string, bool, nil:
		return t, nil
	}
	return nil, fmt.Errorf("unexpected JSON token %v", tok)
}

// JSONDumps is json.dumps(v) with Python's defaults.
func JSONDumps(v Value) string {
	var b bytes.Buffer
	pyJSONEncode(&b, v, true)
	return b.String()
}

// JSONDumpsUnicode is json.dumps(v, ensure_ascii=False), which MLflow uses for span
// attributes: text outside ASCII stays as it is.
func JSONDumpsUnicode(v Value) string {
	var b bytes.Buffer
	pyJSONEncode(&b, v, false)
	return b.String()
}

func pyJSONEncode(b *bytes.Buffer, v Value, asciiOnly bool) {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		if x {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case float64:
		switch {
		case math.IsNaN(x):
			b.WriteString("NaN")
		case math.IsInf(x, 1):
			b.WriteString("Infinity")
		case math.IsInf(x, -1):
			b.WriteString("-Infinity")
		default:
			b.WriteString(pyFloatRepr(x))
		}
	case string:
		pyJSONString(b, x, asciiOnly)
	case []Value:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			pyJSONEncode(b, e, asciiOnly)
		}
		b.WriteByte(']')
	case Map:
		b.WriteByte('{')
		for i, p := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			pyJSONString(b, p.Key, asciiOnly)
			b.WriteString(": ")
			pyJSONEncode(b, p.Value, asciiOnly)
		}
		b.WriteByte('}')
	default:
		pyJSONString(b, fmt.Sprint(x), asciiOnly)
	}
}

// pyJSONString writes a string as json.dumps does. With ensure_ascii (asciiOnly),
// everything outside printable ASCII is written as \uXXXX (UTF-16 surrogate pairs above
// U+FFFF); without it, only control characters are.
func pyJSONString(b *bytes.Buffer, s string, asciiOnly bool) {
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		default:
			switch {
			case r >= 0x20 && r < 0x7f, !asciiOnly && r >= 0x20:
				b.WriteRune(r)
			case r > 0xffff:
				r1, r2 := utf16.EncodeRune(r)
				fmt.Fprintf(b, `\u%04x\u%04x`, r1, r2)
			default:
				fmt.Fprintf(b, `\u%04x`, r)
			}
		}
	}
	b.WriteByte('"')
}

// pyFloatRepr is Python's repr of a finite float: the shortest digits that read back
// the same, in positional notation for exponents from -4 to 15 (with ".0" when whole),
// scientific otherwise ("1e+16", "1.5e-05").
func pyFloatRepr(f float64) string {
	sci := strconv.FormatFloat(f, 'e', -1, 64) // "-d.ddde±XX"
	mantissa, expText, _ := strings.Cut(sci, "e")
	exp, _ := strconv.Atoi(expText)
	sign := ""
	if strings.HasPrefix(mantissa, "-") {
		sign, mantissa = "-", mantissa[1:]
	}
	digits := strings.Replace(mantissa, ".", "", 1)
	if exp < -4 || exp >= 16 {
		m := digits[:1]
		if len(digits) > 1 {
			m += "." + digits[1:]
		}
		es := "+"
		if exp < 0 {
			es, exp = "-", -exp
		}
		return fmt.Sprintf("%s%se%s%02d", sign, m, es, exp)
	}
	if exp < 0 {
		return sign + "0." + strings.Repeat("0", -exp-1) + digits
	}
	if len(digits) <= exp+1 {
		return sign + digits + strings.Repeat("0", exp+1-len(digits)) + ".0"
	}
	return sign + digits[:exp+1] + "." + digits[exp+1:]
}
