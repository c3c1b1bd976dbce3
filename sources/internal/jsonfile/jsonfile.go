package jsonfile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/mlflow-bulk/mlflow-bulk/sources"
)

// PythonJSON makes JSON written by Python's json module decodable: Python writes NaN,
// Infinity and -Infinity as bare tokens, which are quoted here (outside strings) so
// that Float reads them back.
func PythonJSON(data []byte) []byte {
	if !bytes.Contains(data, []byte("NaN")) && !bytes.Contains(data, []byte("Infinity")) {
		return data
	}
	var out bytes.Buffer
	inString, escaped := false, false
	for i := 0; i < len(data); i++ {
		c := data[i]
		if inString {
			out.WriteByte(c)
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			continue
		}
		matched := false
		for _, tok := range []string{"-Infinity", "Infinity", "NaN"} {
			if bytes.HasPrefix(data[i:], []byte(tok)) {
				out.WriteString(`"` + tok + `"`)
				i += len(tok) - 1
				matched = true
				break
			}
		}
		if matched {
			continue
		}
		if c == '"' {
			inString = true
		}
		out.WriteByte(c)
	}
	return out.Bytes()
}

// Float is a number that may also be written as "NaN", "Infinity" or "-Infinity".
type Float float64

func (f *Float) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return fmt.Errorf("%q is not a number", s)
		}
		*f = Float(v)
		return nil
	}
	var v float64
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*f = Float(v)
	return nil
}

// MarshalJSON writes NaN and infinities as strings, which JSON cannot hold as numbers.
func (f Float) MarshalJSON() ([]byte, error) {
	v := float64(f)
	switch {
	case math.IsNaN(v):
		return []byte(`"NaN"`), nil
	case math.IsInf(v, 1):
		return []byte(`"Infinity"`), nil
	case math.IsInf(v, -1):
		return []byte(`"-Infinity"`), nil
	}
	return strconv.AppendFloat(nil, v, 'g', -1, 64), nil
}

// Decode decodes a JSON file, turning syntax errors into InputErrors that name
// the file, line and column.
func Decode(path string, data []byte, into any) error {
	if text := CheckText(data); text != nil {
		return &sources.InputError{File: path, Line: text.Line, Err: text}
	}
	err := json.Unmarshal(PythonJSON(data), into)
	if err == nil {
		return nil
	}
	var syntax *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	offset := int64(-1)
	switch {
	case errors.As(err, &syntax):
		offset = syntax.Offset
	case errors.As(err, &typeErr):
		offset = typeErr.Offset
	}
	if offset < 0 {
		return &sources.InputError{File: path, Err: fmt.Errorf("invalid JSON: %w", err)}
	}
	line, col := lineCol(data, offset)
	if typeErr != nil {
		// Say what the file holds and what was expected, not Go's type names.
		return &sources.InputError{File: path, Line: line, Err: fmt.Errorf("unexpected JSON at line %d, column %d: %s holds %s where %s is expected",
			line, col, fieldName(typeErr.Field), jsonKind(typeErr.Value), jsonKind(typeErr.Type.Kind().String()))}
	}
	return &sources.InputError{File: path, Line: line, Err: fmt.Errorf("invalid JSON at line %d, column %d: %w", line, col, err)}
}

// embeddedJSONTypes are the structs embedded in decoded types, by type name.
var embeddedJSONTypes = map[string]bool{"eiRun": true}

// fieldName is the JSON path of a field in a decode error ("mlflow.info.tags").
func fieldName(f string) string {
	var parts []string
	for _, p := range strings.Split(f, ".") {
		// Embedded Go structs appear in the path by their type name; the file has no
		// such level.
		if p != "" && !embeddedJSONTypes[p] {
			parts = append(parts, p)
		}
	}
	if len(parts) == 0 {
		return "the document"
	}
	return `"` + strings.Join(parts, ".") + `"`
}

// jsonKind names a JSON or Go kind the way a reader of the file thinks of it.
func jsonKind(k string) string {
	switch k {
	case "array", "slice":
		return "a list"
	case "object", "map", "struct":
		return "an object"
	case "string":
		return "a string"
	case "number", "int", "int64", "float64", "int32", "float32", "uint", "uint64":
		return "a number"
	case "bool":
		return "true or false"
	}
	if strings.HasPrefix(k, "number ") {
		return "a number"
	}
	return k
}

// TagMap is tags as mlflow-export-import writes them: an object of key to value, or a
// list of {"key": …, "value": …} objects (model-version exports write experiment tags
// that way). Both read as the same map.
type TagMap map[string]string

func (m *TagMap) UnmarshalJSON(b []byte) error {
	trimmed := bytes.TrimSpace(b)
	if len(trimmed) > 0 && trimmed[0] == '[' {
		var list []struct {
			Key   string  `json:"key"`
			Value *string `json:"value"`
		}
		if err := json.Unmarshal(trimmed, &list); err != nil {
			return err
		}
		out := make(TagMap, len(list))
		for _, t := range list {
			if t.Value != nil {
				out[t.Key] = *t.Value
			} else {
				out[t.Key] = ""
			}
		}
		*m = out
		return nil
	}
	var obj map[string]string
	if err := json.Unmarshal(trimmed, &obj); err != nil {
		return err
	}
	*m = obj
	return nil
}

// lineCol turns a byte offset into a 1-based line and column. The offset is in the
// possibly requoted text, which only grows on lines with NaN or Infinity tokens.
func lineCol(data []byte, offset int64) (int, int) {
	if offset > int64(len(data)) {
		offset = int64(len(data))
	}
	line, col := 1, 1
	for _, c := range data[:offset] {
		if c == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return line, col
}

func BytesReader(b []byte) io.Reader { return bytes.NewReader(b) }
