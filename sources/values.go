package sources

import (
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/mlflow-bulk/mlflow-bulk/schema"
)

// Rows copied as they are (TableChunk) are compared by the text of their values: the
// same value as different Go types (an int64 and a float64 of it, a bool and 1) is the
// same text.

// comparableText renders a value so that what one database wrote and another read back
// compare equal: booleans and integers as digits, floats exactly, bytes as text.
func ComparableText(v any) string {
	switch x := v.(type) {
	case nil:
		return "\x00null"
	case bool:
		if x {
			return "1"
		}
		return "0"
	case int64:
		return strconv.FormatInt(x, 10)
	case int32:
		return strconv.FormatInt(int64(x), 10)
	case int:
		return strconv.Itoa(x)
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
			return strconv.FormatInt(int64(x), 10)
		}
		return strconv.FormatFloat(x, 'g', -1, 64)
	case float32:
		return strconv.FormatFloat(float64(x), 'g', -1, 32)
	case []byte:
		return string(x)
	case string:
		return x
	}
	return fmt.Sprint(v)
}

// UnsupportedIn says what of the chunk the target table cannot hold: the whole table
// where the target has none, or the first column it lacks that holds values other than
// its default (generated columns aside); rows is how many rows hold such values, 0
// when the target holds it all.
func (c *TableChunk) UnsupportedIn(target *schema.TableInfo) (what string, rows int) {
	if target == nil {
		return "table " + c.Table.Name, len(c.Rows)
	}
	for i, col := range c.Columns {
		info := c.Table.Column(col)
		if target.Column(col) != nil || (info != nil && info.Generated) {
			continue
		}
		def, hasDefault := "", false
		if info != nil {
			def, hasDefault = info.LiteralDefault()
		}
		n := 0
		for _, row := range c.Rows {
			if i < len(row) && row[i] != nil && (!hasDefault || ComparableText(row[i]) != def) {
				n++
			}
		}
		if n > 0 {
			return "column " + c.Table.Name + "." + col, n
		}
	}
	return "", 0
}

// EachText calls fn with every text of a record and the path that names it
// ("runs.Params[0].Value"), stopping at the first error fn returns. Origin says where a
// record was read (a file name, not data), and a field tagged check:"-" links records
// without being data: both are passed over. Bytes are not text.
func EachText(path string, record any, fn func(path, text string) error) error {
	return eachText(path, reflect.ValueOf(record), fn)
}

func eachText(path string, v reflect.Value, fn func(path, text string) error) error {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return eachText(path, v.Elem(), fn)
	case reflect.String:
		return fn(path, v.String())
	case reflect.Slice, reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return nil
		}
		for i := 0; i < v.Len(); i++ {
			if err := eachText(fmt.Sprintf("%s[%d]", path, i), v.Index(i), fn); err != nil {
				return err
			}
		}
	case reflect.Map:
		iter := v.MapRange()
		for iter.Next() {
			if err := eachText(path+" key", iter.Key(), fn); err != nil {
				return err
			}
			if err := eachText(fmt.Sprintf("%s[%v]", path, iter.Key()), iter.Value(), fn); err != nil {
				return err
			}
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if f := v.Type().Field(i); f.IsExported() && f.Type != reflect.TypeOf(Origin{}) && f.Tag.Get("check") != "-" {
				if err := eachText(path+"."+f.Name, v.Field(i), fn); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// WorkspacesReason says, for the rows of a source in workspaces other than the default
// one (counts by workspace), why a target without workspaces cannot take them as they
// are.
func WorkspacesReason(counts map[string]int64) string {
	names := make([]string, 0, len(counts))
	for name := range counts {
		names = append(names, name)
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, name := range names {
		parts[i] = fmt.Sprintf("%q (%d)", name, counts[name])
	}
	return "rows in workspaces " + strings.Join(parts, ", ") + ", which a target without workspaces cannot keep apart"
}
