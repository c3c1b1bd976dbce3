package artifacts_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"testing"

	"github.com/mlflow-bulk/mlflow-bulk/artifacts"
	"github.com/mlflow-bulk/mlflow-bulk/internal/testenv"
)

// TestObjectStores copies a folder into each object store, again (nothing copied), back
// out to a local folder, and compares every side: names, sizes and MD5s, including a
// file large enough to go up in parts and an empty one.
func TestObjectStores(t *testing.T) {
	big := make([]byte, 9<<20)
	if _, err := rand.Read(big); err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{"model/MLmodel": []byte("flavors: {}\n"), "model/model.bin": big, "empty.txt": nil, "a b/ünïcode+plus.json": []byte(`{"x": 1}`)}
	for _, kind := range testenv.ObjectStores {
		t.Run(kind, func(t *testing.T) {
			ctx := context.Background()
			src := t.TempDir()
			for name, content := range files {
				p := filepath.Join(src, filepath.FromSlash(name))
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, content, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			bucket := testenv.Bucket(t, kind)
			from, err := artifacts.Parse(src)
			if err != nil {
				t.Fatal(err)
			}
			to, err := artifacts.Parse(bucket + "/1/run/artifacts")
			if err != nil {
				t.Fatal(err)
			}
			copyAll := func(dest string, job artifacts.Job) artifacts.Stats {
				stores := artifacts.NewStores(dest)
				defer func() { _ = stores.Close() }()
				c := artifacts.NewCopier(stores, 4, false)
				c.Submit(ctx, job)
				if err := c.Wait(); err != nil {
					t.Fatal(err)
				}
				return c.Stats()
			}
			first := copyAll("", artifacts.Job{From: from, To: to, Owner: "test"})
			if first.Files != int64(len(files)) || first.Bytes != int64(len(big)+12+8) {
				t.Fatalf("first copy into %s: %+v", kind, first)
			}
			if again := copyAll("", artifacts.Job{From: from, To: to, Owner: "test"}); again.Files != 0 || again.SameFiles != int64(len(files)) {
				t.Fatalf("second copy into %s copied again: %+v", kind, again)
			}
			stores := artifacts.NewStores("")
			defer func() { _ = stores.Close() }()
			diffs, same, err := artifacts.Compare(ctx, stores, from, to)
			if err != nil || len(diffs) != 0 || same != len(files) {
				t.Fatalf("compare after the copy into %s: %d same, %v, %v", kind, same, diffs, err)
			}
			back := t.TempDir()
			backPlace, _ := artifacts.Parse(back)
			if out := copyAll(back, artifacts.Job{From: to, To: backPlace, Owner: "test"}); out.Files != int64(len(files)) {
				t.Fatalf("copy out of %s: %+v", kind, out)
			}
			for name, content := range files {
				got, err := os.ReadFile(filepath.Join(back, filepath.FromSlash(name)))
				if err != nil || !bytes.Equal(got, content) {
					t.Fatalf("%s read back from %s: %d bytes, %v", name, kind, len(got), err)
				}
			}
		})
	}
}
