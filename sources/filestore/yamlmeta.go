package filestore

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"

	"github.com/mlflow-bulk/mlflow-bulk/sources"
	"github.com/mlflow-bulk/mlflow-bulk/sources/pyvalue"

	"gopkg.in/yaml.v3"
)

// meta is a parsed meta.yaml: the top-level mapping with each value's node, so that
// errors can point at the line of the offending key.
type meta struct {
	file   string
	fields map[string]*yaml.Node
}

// errEmptyMeta marks a meta.yaml that is missing or empty; MLflow treats such a folder
// as "not an experiment/run" rather than as corrupt.
var errEmptyMeta = errors.New("meta.yaml is missing or empty")

func readMeta(files storeFiles, path string) (*meta, error) {
	if err := files.check(path); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, errEmptyMeta
		}
		return nil, &sources.InputError{File: path, Err: err}
	}
	data, err := readWhole(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, errEmptyMeta
	}
	if err != nil {
		return nil, &sources.InputError{File: path, Err: err}
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, errEmptyMeta
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, &sources.InputError{File: path, Line: yamlErrorLine(err), Err: fmt.Errorf("malformed YAML: %w", err)}
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, &sources.InputError{File: path, Line: 1, Err: errors.New("malformed meta.yaml: expected a mapping of keys to values")}
	}
	m := &meta{file: path, fields: map[string]*yaml.Node{}}
	content := doc.Content[0].Content
	for i := 0; i+1 < len(content); i += 2 {
		m.fields[content[i].Value] = deref(content[i+1])
	}
	return m, nil
}

// deref follows a YAML alias (*name) to the node it names, as PyYAML's loader does; a
// node that is not an alias is itself.
func deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

// yamlErrorLine pulls the line number out of a yaml.v3 error ("yaml: line 3: ...").
func yamlErrorLine(err error) int {
	var line int
	if _, scanErr := fmt.Sscanf(err.Error(), "yaml: line %d:", &line); scanErr == nil {
		return line
	}
	return 0
}

func (m *meta) errorf(node *yaml.Node, format string, args ...any) *sources.InputError {
	line := 0
	if node != nil {
		line = node.Line
	}
	return &sources.InputError{File: m.file, Line: line, Err: fmt.Errorf(format, args...)}
}

func isNull(n *yaml.Node) bool {
	return n == nil || (n.Kind == yaml.ScalarNode && n.Tag == "!!null")
}

// str returns a scalar as text: strings as they are, ints as their digits (experiment ids
// were ints before MLflow 1.0), null or missing as "".
func (m *meta) str(key string) (string, error) {
	n := m.fields[key]
	if isNull(n) {
		return "", nil
	}
	if n.Kind != yaml.ScalarNode {
		return "", m.errorf(n, "%s: expected a text value", key)
	}
	// MLflow reads these files with PyYAML, which takes an unquoted yes or Off for a
	// boolean and ~ for null, and then uses str() of what it read. (PyYAML also reads
	// 0o17-style octal and 0x1f; no MLflow writes ids that way, and the text is kept, so
	// a store written by a YAML 1.2 tool keeps its ids.)
	if n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) == 0 {
		if v, err := pyvalue.Scalar(n); err == nil {
			switch x := v.(type) {
			case nil:
				return "", nil
			case bool:
				if x {
					return "True", nil
				}
				return "False", nil
			}
		}
	}
	return n.Value, nil
}

// optStr returns a text field, nil when missing or null (a column MLflow leaves NULL).
func (m *meta) optStr(key string) (*string, error) {
	if isNull(m.fields[key]) {
		return nil, nil
	}
	v, err := m.str(key)
	if err != nil {
		return nil, err
	}
	return &v, nil
}

// optInt returns an integer field, nil when missing or null.
func (m *meta) optInt(key string) (*int64, error) {
	n := m.fields[key]
	if isNull(n) {
		return nil, nil
	}
	v, err := m.int(key)
	if err != nil {
		return nil, err
	}
	return &v, nil
}

func (m *meta) int(key string) (int64, error) {
	n := m.fields[key]
	if isNull(n) {
		return 0, m.errorf(n, "%s: missing", key)
	}
	if n.Kind != yaml.ScalarNode {
		return 0, m.errorf(n, "%s: expected an integer", key)
	}
	v, err := strconv.ParseInt(n.Value, 10, 64)
	if err != nil {
		// Some writers emitted floats for times (e.g. 1.6e12); accept exact integers.
		f, ferr := strconv.ParseFloat(n.Value, 64)
		if ferr != nil || f != float64(int64(f)) {
			return 0, m.errorf(n, "%s: expected an integer, found %q", key, n.Value)
		}
		v = int64(f)
	}
	return v, nil
}

// stringMap returns a mapping field (input tags) with its keys in file order.
func (m *meta) stringMap(key string) ([]sources.Tag, error) {
	n := m.fields[key]
	if isNull(n) {
		return nil, nil
	}
	if n.Kind != yaml.MappingNode {
		return nil, m.errorf(n, "%s: expected a mapping", key)
	}
	var tags []sources.Tag
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), deref(n.Content[i+1])
		value := v.Value
		if isNull(v) {
			value = ""
		}
		tags = append(tags, sources.Tag{Key: k.Value, Value: value})
	}
	return tags, nil
}
