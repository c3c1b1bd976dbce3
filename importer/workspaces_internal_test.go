package importer

import "testing"

// TestMergeSources: a name's first source workspace is kept per scope, and told when
// the name comes again.
func TestMergeSources(t *testing.T) {
	var ms mergeSources
	exps, models := mergeScope{"experiment", "team"}, mergeScope{"registered model", "team"}
	if _, seen := ms.note(exps, "a", "default"); seen {
		t.Fatal("a first name was seen before")
	}
	if _, seen := ms.note(models, "a", "ml"); seen {
		t.Fatal("a model's name was taken for an experiment's")
	}
	if first, seen := ms.note(exps, "a", "ml"); !seen || first != "default" {
		t.Errorf("a again: first %q, seen %v; want default", first, seen)
	}
	if first, seen := ms.note(models, "a", "default"); !seen || first != "ml" {
		t.Errorf("model a again: first %q, seen %v; want ml", first, seen)
	}
	if len(ms.labels) != 2 {
		t.Errorf("%d workspace names kept, want 2: %v", len(ms.labels), ms.labels)
	}
}
