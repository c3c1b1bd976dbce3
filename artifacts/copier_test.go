package artifacts

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeTree writes files (path → content) under dir.
func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func readTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out[filepath.ToSlash(rel)] = string(b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func place(t *testing.T, loc string) Place {
	t.Helper()
	p, err := Parse(loc)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func copyOnce(t *testing.T, dest string, dryRun bool, jobs ...Job) Stats {
	t.Helper()
	stores := NewStores(dest)
	defer func() { _ = stores.Close() }()
	c := NewCopier(stores, 3, dryRun)
	for _, j := range jobs {
		c.Submit(context.Background(), j)
	}
	if err := c.Wait(); err != nil {
		t.Fatal(err)
	}
	return c.Stats()
}

func TestCopyLocalIsIdempotentAndComparable(t *testing.T) {
	src, dest := t.TempDir(), t.TempDir()
	files := map[string]string{"model/MLmodel": "flavors: {}\n", "model/model.pkl": strings.Repeat("x", 100_000), "plot.png": "png", "deep/a/b/c.txt": ""}
	writeTree(t, filepath.Join(src, "run1", "artifacts"), files)
	job := Job{From: place(t, filepath.Join(src, "run1", "artifacts")), To: place(t, "file://"+filepath.Join(dest, "1", "run1", "artifacts")), Owner: "run run1"}

	dry := copyOnce(t, dest, true, job)
	if dry.Files != 4 || dry.Bytes != int64(100_000+len("flavors: {}\n")+3) {
		t.Fatalf("dry run counts %+v", dry)
	}
	if got := readTree(t, dest); len(got) != 0 {
		t.Fatalf("a dry run wrote %v", got)
	}
	first := copyOnce(t, dest, false, job)
	if first.Files != 4 || first.SameFiles != 0 {
		t.Fatalf("first copy %+v", first)
	}
	got := readTree(t, filepath.Join(dest, "1", "run1", "artifacts"))
	if len(got) != len(files) {
		t.Fatalf("copied %v, want %v", got, files)
	}
	for k, v := range files {
		if got[k] != v {
			t.Fatalf("%s: got %d bytes, want %d", k, len(got[k]), len(v))
		}
	}
	second := copyOnce(t, dest, false, job)
	if second.Files != 0 || second.SameFiles != 4 {
		t.Fatalf("second copy copied again: %+v", second)
	}

	stores := NewStores("")
	diffs, _, err := Compare(context.Background(), stores, job.From, job.To)
	if err != nil || len(diffs) != 0 {
		t.Fatalf("after a copy: %v, %v", diffs, err)
	}
	// A file removed, one added and one changed (same size) at the destination.
	to := filepath.Join(dest, "1", "run1", "artifacts")
	if err := os.Remove(filepath.Join(to, "plot.png")); err != nil {
		t.Fatal(err)
	}
	writeTree(t, to, map[string]string{"extra.txt": "new", "model/MLmodel": "flavors: {x}\n"[:len("flavors: {}\n")]})
	diffs, _, err = Compare(context.Background(), stores, job.From, job.To)
	if err != nil {
		t.Fatal(err)
	}
	want := []Difference{{"extra.txt", "extra"}, {"model/MLmodel", "changed"}, {"plot.png", "missing"}}
	if len(diffs) != len(want) {
		t.Fatalf("differences %v, want %v", diffs, want)
	}
	for i := range want {
		if diffs[i] != want[i] {
			t.Fatalf("differences %v, want %v", diffs, want)
		}
	}
	// A copy again puts back what differs, and only that.
	third := copyOnce(t, dest, false, job)
	if third.Files != 2 || third.SameFiles != 2 {
		t.Fatalf("repair copy %+v", third)
	}
}

func TestSourceIsNeverWritten(t *testing.T) {
	src := t.TempDir()
	stores := NewStores(filepath.Join(t.TempDir(), "dest"))
	st, key, err := stores.Of(context.Background(), place(t, src))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Create(context.Background(), key+"/x"); err == nil {
		t.Fatal("a source folder took a write")
	}
	// Listing a folder that does not exist is empty and creates nothing.
	missing := filepath.Join(src, "no", "such")
	n := 0
	if err := st.List(context.Background(), place(t, missing).Prefix, func(Object) error { n++; return nil }); !errors.Is(err, ErrNoFolder) || n != 0 {
		t.Fatalf("listing a missing folder: %d files, %v", n, err)
	}
	if _, err := os.Stat(missing); !os.IsNotExist(err) {
		t.Fatalf("listing made %s", missing)
	}
}

func TestStalePartialsOfDeadProcessesAreRemoved(t *testing.T) {
	dest := t.TempDir()
	partials := filepath.Join(dest, partialDir)
	writeTree(t, partials, map[string]string{"999999999-123": "half", "notapid": "keep"})
	mine := "1-" // pid 1 runs
	writeTree(t, partials, map[string]string{mine + "9": "live"})
	src := t.TempDir()
	writeTree(t, src, map[string]string{"f": "data"})
	copyOnce(t, dest, false, Job{From: place(t, src), To: place(t, filepath.Join(dest, "x")), Owner: "test"})
	left := readTree(t, partials)
	if _, ok := left["999999999-123"]; ok {
		t.Fatal("a dead process's partial file was kept")
	}
	if _, ok := left["notapid"]; !ok {
		t.Fatal("a file not named by a process id was removed")
	}
	if _, ok := left[mine+"9"]; !ok {
		t.Fatal("a live process's partial file was removed")
	}
	if got := readTree(t, filepath.Join(dest, "x")); got["f"] != "data" || len(got) != 1 {
		t.Fatalf("copied %v", got)
	}
}

func TestParse(t *testing.T) {
	cases := map[string]string{
		"s3://bucket/a/b/":                       "s3://bucket/a/b",
		"s3a://bucket/a":                         "s3://bucket/a",
		"gs://b/x":                               "gs://b/x",
		"azure://c/p/q":                          "azure://c/p/q",
		"wasbs://c@acct.blob.core.windows.net/p": "wasbs://c@acct.blob.core.windows.net/p",
		"file:///tmp/mlruns/0":                   "file:///tmp/mlruns/0",
		"/tmp/mlruns/../mlruns/0":                "file:///tmp/mlruns/0",
		"file:/tmp/x":                            "file:///tmp/x",
	}
	for in, want := range cases {
		p, err := Parse(in)
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		if p.String() != want {
			t.Errorf("%s: %s, want %s", in, p, want)
		}
	}
	for _, bad := range []string{"", "hdfs://nn/x", "dbfs:/databricks/mlflow", "wasbs://nocontainer/x", "s3:///x", "file://otherhost/x"} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func TestLayout(t *testing.T) {
	l, err := NewLayout("s3://bucket/root/", "mlflow-artifacts:/")
	if err != nil {
		t.Fatal(err)
	}
	exp := l.ExperimentLocation(7)
	if exp != "mlflow-artifacts:/7" {
		t.Fatalf("experiment location %s", exp)
	}
	run := Below("mlflow-artifacts:/workspaces/team-a/7", "abc", "artifacts")
	p, ok := l.Physical(run)
	if !ok || p.String() != "s3://bucket/root/workspaces/team-a/7/abc/artifacts" {
		t.Fatalf("physical %s %v", p, ok)
	}
	for _, outside := range []string{"s3://bucket/root/1", "mlflow-artifacts:/../x", "mlflow-artifactsX/1"} {
		if _, ok := l.Physical(outside); ok {
			t.Errorf("%s is said to be in the layout", outside)
		}
	}
	plain, err := NewLayout("/data/artifacts", "")
	if err != nil || plain.ExperimentLocation(3) != "file:///data/artifacts/3" {
		t.Fatalf("%+v %v", plain, err)
	}
}

func TestRelocate(t *testing.T) {
	run := "0a1b2c"
	cases := []struct{ in, marker, copied, want string }{
		{"file:///old/mlruns/1/0a1b2c/artifacts/model", RunMarker(run), "s3://b/r/1/0a1b2c/artifacts", "s3://b/r/1/0a1b2c/artifacts/model"},
		{"/old/mlruns/1/0a1b2c/artifacts", RunMarker(run), "mlflow-artifacts:/1/0a1b2c/artifacts/", "mlflow-artifacts:/1/0a1b2c/artifacts"},
		{"file:///x/1/models/m-9f/artifacts", ModelMarker("m-9f"), "gs://b/1/models/m-9f/artifacts", "gs://b/1/models/m-9f/artifacts"},
	}
	for _, c := range cases {
		got, ok := Relocate(c.in, c.marker, c.copied)
		if !ok || got != c.want {
			t.Errorf("Relocate(%q): %q %v, want %q", c.in, got, ok, c.want)
		}
	}
	for _, in := range []string{"models:/m-9f", "runs:/0a1b2c/model", "/old/0a1b2c/artifactsX/model"} {
		if got, ok := Relocate(in, RunMarker(run), "s3://b/x"); ok {
			t.Errorf("Relocate(%q) moved it to %q", in, got)
		}
	}
	if id := ModelIDIn("file:///x/1/models/m-9f/artifacts/MLmodel"); id != "m-9f" {
		t.Errorf("ModelIDIn: %q", id)
	}
	if id := ModelIDIn("s3://b/models/other/artifacts"); id != "" {
		t.Errorf("ModelIDIn of no model: %q", id)
	}
}
