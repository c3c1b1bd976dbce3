package sources

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestRunStamp: a run's stamp moves with any file of its folder (content, time, a file
// added or removed, in nested key folders too) but not with its artifacts, and there
// is none while a file is recent.
func TestRunStamp(t *testing.T) {
	dir := t.TempDir()
	old := time.Now().Add(-time.Hour)
	writes := 0
	// Each write a second after the one before, as a clock would have it.
	write := func(rel, content string) {
		t.Helper()
		path := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		writes++
		when := old.Add(time.Duration(writes) * time.Second)
		if err := os.Chtimes(path, when, when); err != nil {
			t.Fatal(err)
		}
	}
	write("meta.yaml", "run_id: x\n")
	write("params/lr", "0.1")
	write("tags/a/b", "v")
	write("metrics/loss", "1 0.5 0\n")
	write("artifacts/model.pkl", "bytes")
	base := runStamp(dir, "1")
	if base == 0 {
		t.Fatal("no stamp for a run of old files")
	}
	if again := runStamp(dir, "1"); again != base {
		t.Fatal("the stamp of an unchanged run moved")
	}
	if moved := runStamp(dir, "2"); moved == base {
		t.Error("a run moved to another experiment kept its stamp")
	}
	write("artifacts/model.pkl", "other bytes")
	if got := runStamp(dir, "1"); got != base {
		t.Error("an artifact moved the stamp")
	}
	steps := []struct {
		what string
		do   func()
	}{
		{"a nested tag's value", func() { write("tags/a/b", "w") }},
		{"a metric line appended", func() { write("metrics/loss", "1 0.5 0\n2 0.4 1\n") }},
		{"a param added", func() { write("params/momentum", "0.9") }},
		{"a file's time", func() {
			t2 := old.Add(time.Minute)
			if err := os.Chtimes(filepath.Join(dir, "meta.yaml"), t2, t2); err != nil {
				t.Fatal(err)
			}
		}},
		{"a file removed", func() {
			if err := os.Remove(filepath.Join(dir, "params", "momentum")); err != nil {
				t.Fatal(err)
			}
		}},
	}
	seen := map[uint64]string{base: "the start"}
	for _, s := range steps {
		s.do()
		got := runStamp(dir, "1")
		if prev, ok := seen[got]; ok {
			t.Errorf("after %s the stamp is that of %s", s.what, prev)
		}
		seen[got] = s.what
	}
	if err := os.WriteFile(filepath.Join(dir, "tags", "new"), []byte("now"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := runStamp(dir, "1"); got != 0 {
		t.Error("a run with a file written a moment ago has a stamp")
	}
}
