package formats_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlflow-bulk/mlflow-bulk/drivers/all"
	"github.com/mlflow-bulk/mlflow-bulk/internal/synth"
	"github.com/mlflow-bulk/mlflow-bulk/sources"
	"github.com/mlflow-bulk/mlflow-bulk/sources/database"
	"github.com/mlflow-bulk/mlflow-bulk/sources/formats"
)

// TestWrongFolderSaysWhatToGive: a part of a file store, or a folder that holds sources
// one level down, is not taken for a source (nothing imported, exit 0), and the error
// says what it is and what to give instead; a database URI naming no file says so.
func TestWrongFolderSaysWhatToGive(t *testing.T) {
	project := t.TempDir()
	store := filepath.Join(project, "mlruns")
	if _, err := synth.Write(context.Background(), store, synth.Options{Experiments: 1, Runs: 2, MetricKeys: 1, Steps: 1, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	runs, _ := filepath.Glob(filepath.Join(store, "1", strings.Repeat("[0-9a-f]", 32)))
	if len(runs) == 0 {
		t.Fatal("the synthetic store has no run in experiment 1")
	}
	dbOnly := filepath.Join(t.TempDir(), "mlruns")
	if err := os.MkdirAll(filepath.Join(dbOnly, "artifacts"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dbOnly, "mlflow.db"), []byte("SQLite format 3\x00"+strings.Repeat("\x00", 100)), 0o644); err != nil {
		t.Fatal(err)
	}
	for location, want := range map[string]string{
		filepath.Join(store, "1"): "an experiment's folder of the file store " + store,
		runs[0]:                   "a run's folder of the file store " + store,
		project:                   "holds " + store + " (MLflow file store",
		dbOnly:                    "holds " + filepath.Join(dbOnly, "mlflow.db") + " (MLflow database",
		"sqlite:///" + filepath.ToSlash(filepath.Join(project, "nope.db")): "does not exist",
		"file://" + filepath.ToSlash(filepath.Join(project, "no-mlruns")):  "does not exist",
	} {
		src, err := formats.Open(context.Background(), location, formats.Options{Database: database.Options{Drivers: all.Registry()}})
		if src != nil {
			src.Close()
		}
		if !errors.Is(err, sources.ErrNotRecognised) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want an error saying %q", location, err, want)
		}
	}
	if _, err := os.Stat(filepath.Join(project, "nope.db")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("opening a missing database as a source created it: %v", err)
	}
}

// TestUnfinishedDumpSaysSo: a folder of a dump's files without its manifest (an export
// that did not finish) is named as such.
func TestUnfinishedDumpSaysSo(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "runs.jsonl"), []byte("{}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := formats.Open(context.Background(), dir, formats.Options{})
	if !errors.Is(err, sources.ErrNotRecognised) || !strings.Contains(err.Error(), "without its manifest.json") {
		t.Errorf("an unfinished dump: %v", err)
	}
}

// TestPgDumpArchiveWhateverItsName: a pg_dump archive in custom format is named as one,
// with how to make a plain dump of it, whatever the file is called.
func TestPgDumpArchiveWhateverItsName(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mlflow-backup.dump")
	if err := os.WriteFile(path, append([]byte("PGDMP\x01\x0e\x00\x04\x08\x01\x01"), make([]byte, 600)...), 0o600); err != nil {
		t.Fatal(err)
	}
	src, err := formats.Open(context.Background(), path, formats.Options{Database: database.Options{Drivers: all.Registry()}})
	if src != nil {
		src.Close()
	}
	if err == nil || !strings.Contains(err.Error(), "a pg_dump archive in custom format") || !strings.Contains(err.Error(), "pg_restore -f dump.sql") {
		t.Errorf("a pg_dump -Fc archive named .dump: %v", err)
	}
}
