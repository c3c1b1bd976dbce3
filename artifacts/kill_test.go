package artifacts_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/mlflow-bulk/mlflow-bulk/artifacts"
	"github.com/mlflow-bulk/mlflow-bulk/internal/importtest"
	"github.com/mlflow-bulk/mlflow-bulk/internal/synth"
	"github.com/mlflow-bulk/mlflow-bulk/internal/testenv"
	"github.com/mlflow-bulk/mlflow-bulk/verify"
)

// storeWithFiles writes a file store of runs that each hold files in their artifacts
// folder, and returns the store and each file's path below its run's artifacts folder,
// by run id.
func storeWithFiles(t *testing.T, runs, filesPerRun, size int) (string, map[string][]string) {
	t.Helper()
	store := filepath.Join(t.TempDir(), "mlruns")
	if _, err := synth.Write(context.Background(), store, synth.Options{Experiments: 2, Runs: runs, MetricKeys: 1, Steps: 2, Params: 1, Seed: 7}); err != nil {
		t.Fatal(err)
	}
	metas, err := filepath.Glob(filepath.Join(store, "*", "*", "meta.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]string{}
	content := make([]byte, size)
	for _, meta := range metas {
		runDir := filepath.Dir(meta)
		runID := filepath.Base(runDir)
		for i := range filesPerRun {
			rel := fmt.Sprintf("part-%d/file-%d.bin", i%3, i)
			if _, err := rand.Read(content); err != nil {
				t.Fatal(err)
			}
			p := filepath.Join(runDir, "artifacts", filepath.FromSlash(rel))
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, content, 0o644); err != nil {
				t.Fatal(err)
			}
			files[runID] = append(files[runID], rel)
		}
	}
	if len(files) != runs {
		t.Fatalf("wrote files for %d runs, want %d", len(files), runs)
	}
	return store, files
}

// filesUnder lists the files below dir (its partial folder aside), as slash paths.
func filesUnder(t *testing.T, dir string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if os.IsNotExist(err) {
			return nil
		}
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == ".mlflow-bulk-partial" {
			return filepath.SkipDir
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			out[filepath.ToSlash(rel)] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestKillMidCopyAndRerun: an import copying artifacts killed (SIGKILL) while files are
// being copied, then run again, leaves exactly the source's files at the destination
// (none half-written under its name, none of a killed write left behind) and a target
// verify finds equal to the sources.
func TestKillMidCopyAndRerun(t *testing.T) {
	store, files := storeWithFiles(t, 24, 12, 256<<10)
	dest := filepath.Join(t.TempDir(), "artifacts")
	target := testenv.SQLite(t)
	bin := binary(t)
	cmd := exec.Command(bin, "import", store, "--to", target, "--copy-artifacts", dest, "--batch-size", "10", "--artifact-workers", "2", "--json")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	for killed := false; !killed; {
		select {
		case err := <-done:
			t.Logf("the import ended (%v) before files were seen arriving: the re-run is checked all the same", err)
			killed = true
		case <-time.After(5 * time.Millisecond):
			if len(filesUnder(t, dest)) > 0 {
				_ = cmd.Process.Signal(syscall.SIGKILL)
				if err := <-done; err == nil {
					t.Log("the import finished as it was killed")
				}
				killed = true
			}
		}
	}
	left, _ := os.ReadDir(filepath.Join(dest, ".mlflow-bulk-partial"))
	t.Logf("killed with %d files at the destination and %d partial ones", len(filesUnder(t, dest)), len(left))
	if out, err := exec.Command(bin, "import", store, "--to", target, "--copy-artifacts", dest, "--json").CombinedOutput(); err != nil {
		t.Fatalf("the re-run: %v\n%s", err, out)
	}
	layout, err := artifacts.NewLayout(dest, "")
	if err != nil {
		t.Fatal(err)
	}
	vr := importtest.Verify(t, target, verify.Options{CopyArtifacts: &layout}, store)
	if len(vr.Differences) != 0 {
		t.Fatalf("verify after the re-run: %+v", vr.Differences)
	}
	want := map[string]bool{}
	for runID, rels := range files {
		exp := experimentOf(t, store, runID)
		for _, rel := range rels {
			want[exp+"/"+runID+"/artifacts/"+rel] = true
		}
	}
	got := filesUnder(t, dest)
	for f := range got {
		if !want[f] {
			t.Errorf("%s is at the destination but not in the source", f)
		}
	}
	for f := range want {
		if !got[f] {
			t.Errorf("%s of the source is not at the destination", f)
		}
	}
	partials, err := os.ReadDir(filepath.Join(dest, ".mlflow-bulk-partial"))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	if len(partials) != 0 {
		t.Errorf("%d partial files of the killed import are left", len(partials))
	}
}

func experimentOf(t *testing.T, store, runID string) string {
	t.Helper()
	matches, err := filepath.Glob(filepath.Join(store, "*", runID))
	if err != nil || len(matches) != 1 {
		t.Fatalf("run %s: %v %v", runID, matches, err)
	}
	return filepath.Base(filepath.Dir(matches[0]))
}

var binaryPath string

// binary builds mlflow-bulk once for the package's tests that run it as a process.
func binary(t *testing.T) string {
	t.Helper()
	if binaryPath != "" {
		return binaryPath
	}
	dir, err := os.MkdirTemp("", "mlflow-bulk-test-bin")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "mlflow-bulk")
	if out, err := exec.Command("go", "build", "-o", path, filepath.Join(testenv.ModuleRoot(t), "cmd", "mlflow-bulk")).CombinedOutput(); err != nil {
		t.Fatalf("build mlflow-bulk: %v\n%s", err, out)
	}
	binaryPath = path
	return path
}
