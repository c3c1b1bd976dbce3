package filestore_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlflow-bulk/mlflow-bulk/sources"
	"github.com/mlflow-bulk/mlflow-bulk/sources/filestore"
)

// TestMetricLineTooLong: a metric file with a line over 1 MiB is invalid input naming
// the file, the line and what is wrong, not bufio's "token too long".
func TestMetricLineTooLong(t *testing.T) {
	root := filepath.Join(t.TempDir(), "mlruns")
	run := filepath.Join(root, "0", strings.Repeat("a", 32))
	for path, content := range map[string]string{
		filepath.Join(root, "0", "meta.yaml"): "experiment_id: '0'\nname: Default\nartifact_location: /a\nlifecycle_stage: active\n",
		filepath.Join(run, "meta.yaml"):       "run_id: " + strings.Repeat("a", 32) + "\nrun_uuid: " + strings.Repeat("a", 32) + "\nexperiment_id: '0'\nstatus: 3\nlifecycle_stage: active\nstart_time: 1\n",
		filepath.Join(run, "metrics", "loss"): "1 0.5 0\n" + strings.Repeat("9", 2<<20) + " 1 1\n",
	} {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	src, err := filestore.Open(context.Background(), root, filestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var found *sources.InputError
	for src.Next() {
		if inv, ok := src.Record().(*sources.Invalid); ok {
			found = inv.Err
		}
	}
	if found == nil || found.Line != 2 || !strings.Contains(found.Error(), "a line over 1 MiB") || strings.Contains(found.Error(), "token too long") {
		t.Errorf("a 2 MiB metric line: %v", found)
	}
}
