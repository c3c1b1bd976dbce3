package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/mlflow-bulk/mlflow-bulk/internal/synth"
	"github.com/mlflow-bulk/mlflow-bulk/internal/testenv"
)

// TestImportJSONMatchesItsSchema: what import --json prints, on success, on a re-import
// with nothing new and on a failure, is what docs/import-report.schema.json says, and
// every property the schema names can occur.
func TestImportJSONMatchesItsSchema(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "docs", "import-report.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	var schemaDoc map[string]any
	if err := json.Unmarshal(data, &schemaDoc); err != nil {
		t.Fatal(err)
	}
	root := store(t, synth.Options{Experiments: 1, Runs: 2, MetricKeys: 1, Steps: 3, Seed: 21})
	target := testenv.SQLite(t)
	run := func(args ...string) map[string]any {
		io, out, _ := TestStreams()
		Main(args, io)
		var got map[string]any
		if err := json.Unmarshal(out.Bytes(), &got); err != nil {
			t.Fatalf("%v: not one JSON object: %v\n%s", args, err, out)
		}
		return got
	}
	first := run("import", root, "--to", target, "--json")
	again := run("import", root, "--to", target, "--json")
	failed := run("import", filepath.Join(t.TempDir(), "missing"), "--to", target, "--json")
	copied := run("import", root, "--to", testenv.SQLite(t), "--copy-artifacts", filepath.Join(t.TempDir(), "artifacts"), "--json")
	if _, ok := copied["artifacts"].(map[string]any); !ok {
		t.Errorf("an import with --copy-artifacts has no artifacts object: %v", copied)
	}
	for name, got := range map[string]map[string]any{"first": first, "again": again, "failed": failed, "copied": copied} {
		for _, problem := range validate(schemaDoc, schemaDoc, got, "$") {
			t.Errorf("%s: %s", name, problem)
		}
	}
	if ids, _ := first["created_run_ids"].([]any); len(ids) != 2 || first["nothing_new"] != false {
		t.Errorf("first import: created %v, nothing_new %v", first["created_run_ids"], first["nothing_new"])
	}
	if again["nothing_new"] != true {
		t.Errorf("a re-import of the same store is not nothing_new: %v", again["nothing_new"])
	}
	if failed["exit_code"] != float64(ExitUsage) || failed["error"] == nil || len(failed["sources"].([]any)) != 1 {
		t.Errorf("a failure: exit_code %v, error %v, sources %v", failed["exit_code"], failed["error"], failed["sources"])
	}
}

// validate checks value against the subset of JSON Schema the project's schema uses:
// type, required, properties, additionalProperties false, items, enum, $ref to $defs.
func validate(root, schema map[string]any, value any, at string) []string {
	if ref, ok := schema["$ref"].(string); ok {
		name := strings.TrimPrefix(ref, "#/$defs/")
		return validate(root, root["$defs"].(map[string]any)[name].(map[string]any), value, at)
	}
	var problems []string
	if typ, ok := schema["type"].(string); ok && !hasType(value, typ) {
		return []string{fmt.Sprintf("%s: %T is not %s", at, value, typ)}
	}
	if enum, ok := schema["enum"].([]any); ok {
		found := false
		for _, e := range enum {
			found = found || fmt.Sprint(e) == fmt.Sprint(value)
		}
		if !found {
			problems = append(problems, fmt.Sprintf("%s: %v is not one of %v", at, value, enum))
		}
	}
	switch v := value.(type) {
	case map[string]any:
		props, _ := schema["properties"].(map[string]any)
		for _, r := range asStrings(schema["required"]) {
			if _, ok := v[r]; !ok {
				problems = append(problems, fmt.Sprintf("%s: required %q missing", at, r))
			}
		}
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			sub, ok := props[k].(map[string]any)
			switch {
			case ok:
				problems = append(problems, validate(root, sub, v[k], at+"."+k)...)
			case schema["additionalProperties"] == false:
				problems = append(problems, fmt.Sprintf("%s: %q is not in the schema", at, k))
			}
		}
	case []any:
		if items, ok := schema["items"].(map[string]any); ok {
			for i, e := range v {
				problems = append(problems, validate(root, items, e, fmt.Sprintf("%s[%d]", at, i))...)
			}
		}
	}
	return problems
}

func hasType(v any, typ string) bool {
	switch typ {
	case "object":
		_, ok := v.(map[string]any)
		return ok
	case "array":
		_, ok := v.([]any)
		return ok
	case "string":
		_, ok := v.(string)
		return ok
	case "boolean":
		_, ok := v.(bool)
		return ok
	case "number":
		_, ok := v.(float64)
		return ok
	case "integer":
		f, ok := v.(float64)
		return ok && f == float64(int64(f))
	}
	return false
}

func asStrings(v any) []string {
	list, _ := v.([]any)
	out := make([]string, 0, len(list))
	for _, e := range list {
		out = append(out, fmt.Sprint(e))
	}
	return out
}

// TestValidateCatchesProblems: the validator above refuses what the schema does not allow.
func TestValidateCatchesProblems(t *testing.T) {
	schemaDoc := map[string]any{"type": "object", "additionalProperties": false, "required": []any{"a"},
		"properties": map[string]any{"a": map[string]any{"type": "integer"}, "b": map[string]any{"type": "array", "items": map[string]any{"type": "string"}}}}
	for _, bad := range []map[string]any{{}, {"a": 1.5}, {"a": 1.0, "c": true}, {"a": 1.0, "b": []any{1.0}}} {
		if len(validate(schemaDoc, schemaDoc, bad, "$")) == 0 {
			t.Errorf("%v passed", bad)
		}
	}
	if problems := validate(schemaDoc, schemaDoc, map[string]any{"a": 2.0, "b": []any{"x"}}, "$"); len(problems) != 0 {
		t.Errorf("a valid object: %v", problems)
	}
}
