package filestore

import (
	"context"
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
	base := runStampOf(t, dir, "1")
	if base == 0 {
		t.Fatal("no stamp for a run of old files")
	}
	if again := runStampOf(t, dir, "1"); again != base {
		t.Fatal("the stamp of an unchanged run moved")
	}
	if moved := runStampOf(t, dir, "2"); moved == base {
		t.Error("a run moved to another experiment kept its stamp")
	}
	write("artifacts/model.pkl", "other bytes")
	if got := runStampOf(t, dir, "1"); got != base {
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
		got := runStampOf(t, dir, "1")
		if prev, ok := seen[got]; ok {
			t.Errorf("after %s the stamp is that of %s", s.what, prev)
		}
		seen[got] = s.what
	}
	if err := os.WriteFile(filepath.Join(dir, "tags", "new"), []byte("now"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := runStampOf(t, dir, "1"); got != 0 {
		t.Error("a run with a file written a moment ago has a stamp")
	}
}

// runStampOf is runStamp under a live context.
func runStampOf(t *testing.T, dir, expID string) uint64 {
	t.Helper()
	stamp, err := runStamp(context.Background(), dir, expID)
	if err != nil {
		t.Fatal(err)
	}
	return stamp
}

// TestRunStampSeesTimesPutBack: a param rewritten to the same size with its old
// modification time put back (touch -r, a copy that keeps times) moves the stamp.
func TestRunStampSeesTimesPutBack(t *testing.T) {
	dir := t.TempDir()
	old := time.Now().Add(-time.Hour)
	path := filepath.Join(dir, "params", "lr")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{path, filepath.Join(dir, "meta.yaml")} {
		if err := os.WriteFile(f, []byte("0.1"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(f, old, old); err != nil {
			t.Fatal(err)
		}
	}
	before := runStampOf(t, dir, "1")
	time.Sleep(20 * time.Millisecond) // the change time must move past the file system's tick
	if err := os.WriteFile(path, []byte("0.2"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, old, old); err != nil {
		t.Fatal(err)
	}
	if after := runStampOf(t, dir, "1"); after == before || after == 0 {
		t.Errorf("a same-size rewrite with its time put back kept the stamp (%x → %x)", before, after)
	}
}

// TestRunStampWalksOnlyWhatMLflowReads: links to the run folder itself and to a large
// folder outside the store, beside and inside the folders MLflow reads, neither hang
// nor move the stamp, and a cancelled context stops the walk at once.
func TestRunStampWalksOnlyWhatMLflowReads(t *testing.T) {
	dir := t.TempDir()
	old := time.Now().Add(-time.Hour)
	for _, f := range []string{"meta.yaml", "params/lr", "metrics/loss"} {
		path := filepath.Join(dir, filepath.FromSlash(f))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte("1"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(path, old, old); err != nil {
			t.Fatal(err)
		}
	}
	before := runStampOf(t, dir, "1")
	for link, target := range map[string]string{"a": ".", "b": ".", "junk": "/usr", "params/self": "..", "metrics/up": "/usr"} {
		if err := os.Symlink(target, filepath.Join(dir, filepath.FromSlash(link))); err != nil {
			t.Fatal(err)
		}
	}
	done := make(chan uint64, 1)
	go func() {
		stamp, _ := runStamp(context.Background(), dir, "1")
		done <- stamp
	}()
	select {
	case after := <-done:
		if after == 0 {
			t.Error("no stamp for a run with links in it")
		}
		if after == before {
			t.Error("links added inside params/ and metrics/ did not move the stamp")
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the stamp walks the links: still running after 30 s")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := runStamp(ctx, dir, "1"); err == nil {
		t.Error("a cancelled context did not stop the walk")
	}
}

// TestRunStampSameByPathsAndDescriptors: the stamp read through folder descriptors is
// the one read by paths, for links to files and folders, dangling links, nested key
// folders and entries outside the folders MLflow reads, so the stamps an import kept
// still match after the reader changed.
func TestRunStampSameByPathsAndDescriptors(t *testing.T) {
	dir := t.TempDir()
	outside := t.TempDir()
	old := time.Now().Add(-time.Hour)
	files := map[string]string{
		"meta.yaml": "run_id: x\n", "params/lr": "0.1", "tags/a/b/c": "v", "tags/mlflow.runName": "r",
		"metrics/loss": "1 0.5 0\n", "metrics/nested/acc": "1 0.9 0\n", "artifacts/model.pkl": "bytes",
		"inputs/d1/meta.yaml": "x: 1\n", "notes.txt": "left alone",
	}
	for rel, content := range files {
		path := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(outside, "value"), []byte("0.2"), 0o644); err != nil {
		t.Fatal(err)
	}
	links := map[string]string{
		"params/linked":   filepath.Join(outside, "value"),
		"params/folder":   outside,
		"params/dangling": filepath.Join(outside, "missing"),
		"tags/a/self":     "..",
	}
	for rel, target := range links {
		if err := os.Symlink(target, filepath.Join(dir, filepath.FromSlash(rel))); err != nil {
			t.Fatal(err)
		}
	}
	for _, root := range []string{dir, outside} {
		err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
			if err != nil || d.Type()&os.ModeSymlink != 0 {
				return err
			}
			return os.Chtimes(path, old, old)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, expID := range []string{"1", "2"} {
		byDescriptors := runStampOf(t, dir, expID)
		byPaths, err := stampOf(context.Background(), pathFolder(dir), expID)
		if err != nil {
			t.Fatal(err)
		}
		if byDescriptors == 0 || byDescriptors != byPaths {
			t.Errorf("experiment %s: stamp %x by the folder's own reader, %x by paths", expID, byDescriptors, byPaths)
		}
	}
}
