package trackingserver_test

import (
	"context"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/mlflow-bulk/mlflow-bulk/drivers/all"
	"github.com/mlflow-bulk/mlflow-bulk/importer"
	"github.com/mlflow-bulk/mlflow-bulk/internal/importtest"
	"github.com/mlflow-bulk/mlflow-bulk/internal/synth"
	"github.com/mlflow-bulk/mlflow-bulk/internal/testenv"
	"github.com/mlflow-bulk/mlflow-bulk/schema"
	"github.com/mlflow-bulk/mlflow-bulk/sinks"
	"github.com/mlflow-bulk/mlflow-bulk/verify"
)

// TestKillAndRerun: an import from a tracking server killed (SIGKILL) once it has
// committed a batch, then run again, ends equal to a direct import of the server's
// database, and verify against the server finds nothing. Where the kill lands varies
// with the machine; what is checked holds wherever it lands.
func TestKillAndRerun(t *testing.T) {
	t.Parallel() // each waits on its own MLflow server starting
	dir := t.TempDir()
	store := filepath.Join(dir, "mlruns")
	if _, err := synth.Write(context.Background(), store, synth.Options{Experiments: 2, Runs: 60, MetricKeys: 4, Steps: 300, Params: 3, Tags: 2, Seed: 43}); err != nil {
		t.Fatal(err)
	}
	rev311, err := schema.ForRelease("3.11")
	if err != nil {
		t.Fatal(err)
	}
	served := "sqlite:///" + filepath.Join(dir, "served.db")
	if _, err := importtest.Import(t, served, importer.Options{SchemaRevision: rev311}, store); err != nil {
		t.Fatal(err)
	}
	server := testenv.MLflowServer(t, served)
	bin := filepath.Join(dir, "mlflow-bulk")
	if out, err := exec.Command("go", "build", "-o", bin, filepath.Join(testenv.ModuleRoot(t), "cmd", "mlflow-bulk")).CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	target := testenv.SQLite(t)
	cmd := exec.Command(bin, "import", server, "--to", target, "--batch-size", "2000", "--json")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	killed := false
	for !killed {
		select {
		case err := <-done:
			t.Logf("the import ended (%v) before a batch was seen committed: the re-run is checked all the same", err)
			killed = true
		case <-time.After(20 * time.Millisecond):
			if committedRuns(t, target) > 0 {
				_ = cmd.Process.Signal(syscall.SIGKILL)
				if err := <-done; err == nil {
					t.Log("the import finished as it was killed")
				}
				killed = true
			}
		}
	}
	if out, err := exec.Command(bin, "import", server, "--to", target, "--json").CombinedOutput(); err != nil {
		t.Fatalf("the re-run: %v\n%s", err, out)
	}
	direct := testenv.SQLite(t)
	if _, err := importtest.Import(t, direct, importer.Options{}, served); err != nil {
		t.Fatal(err)
	}
	compareTargets(t, direct, target)
	if vr := importtest.Verify(t, target, verify.Options{}, server); len(vr.Differences) > 0 {
		t.Errorf("verify against the server after the re-run: %+v", vr.Differences)
	}
}

// committedRuns counts the runs a target holds, 0 while it has no schema yet.
func committedRuns(t *testing.T, uri string) int64 {
	t.Helper()
	ctx := context.Background()
	sink, err := all.Registry().Open(ctx, uri, sinks.Options{ReadOnly: true})
	if err != nil {
		return 0
	}
	defer sink.Close()
	tx, err := sink.Begin(ctx)
	if err != nil {
		return 0
	}
	defer func() { _ = tx.Rollback(ctx) }()
	var n int64
	rows, err := tx.Query(ctx, "SELECT COUNT(*) FROM runs")
	if err != nil {
		return 0
	}
	defer rows.Close()
	if rows.Next() {
		_ = rows.Scan(&n)
	}
	return n
}
