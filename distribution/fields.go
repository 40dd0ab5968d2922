package distribution

import (
	"fmt"
	"reflect"
	"sort"
	"strings"

	"sigs.k8s.io/yaml"
)

// checkFields walks the generic form of a file against the json tags of
// file, so that an unknown field is reported with its path and, unlike
// encoding/json, field names are matched case-sensitively.
func checkFields(data []byte) error {
	var v any
	if err := yaml.Unmarshal(data, &v); err != nil {
		return nil // the strict decode reports syntax errors
	}
	return walkFields(v, reflect.TypeOf(file{}), "")
}

func walkFields(v any, t reflect.Type, path string) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		fields := map[string]reflect.Type{}
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			fields[name] = f.Type
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			ft, ok := fields[k]
			p := joinPath(path, k)
			if !ok {
				for name := range fields {
					if strings.EqualFold(name, k) {
						return fmt.Errorf("%s: unknown field %q (did you mean %q?)", p, k, name)
					}
				}
				return fmt.Errorf("%s: unknown field %q", p, k)
			}
			if err := walkFields(m[k], ft, p); err != nil {
				return err
			}
		}
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 { // json.RawMessage
			return nil
		}
		s, ok := v.([]any)
		if !ok {
			return nil
		}
		for i, e := range s {
			if err := walkFields(e, t.Elem(), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	case reflect.Map:
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		for k, e := range m {
			if err := walkFields(e, t.Elem(), joinPath(path, k)); err != nil {
				return err
			}
		}
	}
	return nil
}

func joinPath(path, k string) string {
	if path == "" {
		return k
	}
	return path + "." + k
}
