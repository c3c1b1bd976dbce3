package filestore_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mlflow-bulk/mlflow-bulk/internal/synth"
	"github.com/mlflow-bulk/mlflow-bulk/sources"
	"github.com/mlflow-bulk/mlflow-bulk/sources/filestore"
	"github.com/mlflow-bulk/mlflow-bulk/sources/formats"
)

// readStore reads a source through, with the invalid records' messages and the runs' params.
func readStore(t *testing.T, root string, opts formats.Options) (invalid []string, params map[string]string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	src, err := formats.Open(ctx, root, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	params = map[string]string{}
	for src.Next() {
		switch r := src.Record().(type) {
		case *sources.Invalid:
			invalid = append(invalid, r.Err.Error())
		case *sources.Run:
			for _, p := range r.Params {
				params[p.Key] = p.Value
			}
		}
	}
	if err := src.Err(); err != nil {
		t.Fatal(err)
	}
	return invalid, params
}

// TestStoreFilesStayInTheStore: a param file that links outside the store is invalid
// input (not this machine's file imported as a value) unless FollowSymlinks; a link
// inside the store is read; a FIFO among the metrics is refused instead of blocking.
func TestStoreFilesStayInTheStore(t *testing.T) {
	root := filepath.Join(t.TempDir(), "mlruns")
	if _, err := synth.Write(context.Background(), root, synth.Options{Runs: 2, MetricKeys: 1, Steps: 2, Params: 1, Seed: 7}); err != nil {
		t.Fatal(err)
	}
	runs, _ := filepath.Glob(filepath.Join(root, "0", strings.Repeat("[0-9a-f]", 32)))
	outside := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(outside, []byte("root:x:0:0"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(runs[0], "params", "stolen")); err != nil {
		t.Fatal(err)
	}
	inside := filepath.Join(runs[1], "params", "inside")
	params, _ := filepath.Glob(filepath.Join(runs[1], "params", "*"))
	if err := os.Symlink(params[0], inside); err != nil {
		t.Fatal(err)
	}
	invalid, got := readStore(t, root, formats.Options{})
	if len(invalid) != 1 || !strings.Contains(invalid[0], "outside the store") || !strings.Contains(invalid[0], "stolen") {
		t.Errorf("invalid: %v", invalid)
	}
	if _, ok := got["stolen"]; ok {
		t.Error("a file outside the store was read as a param")
	}
	if _, ok := got["inside"]; !ok {
		t.Error("a link inside the store was not read")
	}
	if _, got := readStore(t, root, formats.Options{FileStore: filestore.Options{FollowSymlinks: true}}); got["stolen"] != "root:x:0:0" {
		t.Errorf("FollowSymlinks: %q", got["stolen"])
	}
	if err := syscall.Mkfifo(filepath.Join(runs[1], "metrics", "fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	invalid, _ = readStore(t, root, formats.Options{FileStore: filestore.Options{FollowSymlinks: true}})
	if len(invalid) != 1 || !strings.Contains(invalid[0], "not a regular file") {
		t.Errorf("a FIFO: %v", invalid)
	}
}
