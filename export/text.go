package export

import (
	"fmt"
	"reflect"
	"unicode/utf8"
)

// JSON carries text as UTF-8 only: Go's encoder would write U+FFFD for bytes that are
// not, and the dump would then hold another value than the source without a word. A
// record with such text is refused, naming the field, before anything of it is written.

// invalidText names the first field of v whose text is not UTF-8, "" when none is.
func invalidText(v reflect.Value, path string) string {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return ""
		}
		return invalidText(v.Elem(), path)
	case reflect.String:
		if s := v.String(); !utf8.ValidString(s) {
			return fmt.Sprintf("%s (%q)", path, s)
		}
	case reflect.Slice, reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return "" // bytes are written as base64, whatever they hold
		}
		for i := 0; i < v.Len(); i++ {
			if bad := invalidText(v.Index(i), fmt.Sprintf("%s[%d]", path, i)); bad != "" {
				return bad
			}
		}
	case reflect.Map:
		iter := v.MapRange()
		for iter.Next() {
			if bad := invalidText(iter.Key(), path+" key"); bad != "" {
				return bad
			}
			if bad := invalidText(iter.Value(), fmt.Sprintf("%s[%v]", path, iter.Key())); bad != "" {
				return bad
			}
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if f := v.Type().Field(i); f.IsExported() {
				if bad := invalidText(v.Field(i), path+"."+f.Name); bad != "" {
					return bad
				}
			}
		}
	}
	return ""
}
