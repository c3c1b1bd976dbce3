package database_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/mlflow-bulk/mlflow-bulk/drivers/all"
	"github.com/mlflow-bulk/mlflow-bulk/internal/testenv"
	"github.com/mlflow-bulk/mlflow-bulk/sources"
	"github.com/mlflow-bulk/mlflow-bulk/sources/database"
	_ "modernc.org/sqlite"
)

// copySample copies a real MLflow SQLite database into a folder of its own.
func copySample(t *testing.T) string {
	data, err := os.ReadFile(testenv.Sample(t, "sqlite-peco602-zoomcamp-mlflow1.26/02-experiment-tracking/mlflow.db"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "mlflow.db")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// folderState is every file of a folder with its bytes.
func folderState(t *testing.T, dir string) string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, e.Name()+"="+string(data))
	}
	sort.Strings(out)
	return strings.Join(out, "\x00")
}

// sourceContent reads a database source whole: its experiment tags and run count, and
// its notices.
func sourceContent(t *testing.T, path string) (tags map[string]string, runs int, notices []string) {
	src, err := database.Open(context.Background(), "sqlite:///"+filepath.ToSlash(path), database.Options{Drivers: all.Registry()})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	tags = map[string]string{}
	for src.Next() {
		switch r := src.Record().(type) {
		case *sources.Experiment:
			for _, tag := range r.Tags {
				tags[tag.Key] = tag.Value
			}
		case *sources.Run:
			runs++
		case *sources.Notice:
			notices = append(notices, r.Message)
		}
	}
	if err := src.Err(); err != nil {
		t.Fatal(err)
	}
	return tags, runs, notices
}

func exec(t *testing.T, db *sql.DB, statements ...string) {
	t.Helper()
	for _, q := range statements {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// TestSQLiteWALSourceLeavesNoTrace: a live WAL-mode source whose -wal holds a transaction
// not yet written back is read whole (the transaction included), and nothing beside it
// is created or changed, its -shm included; a WAL database without pending transactions
// is read without creating -wal or -shm.
func TestSQLiteWALSourceLeavesNoTrace(t *testing.T) {
	path := copySample(t)
	writer, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=wal_autocheckpoint(0)")
	if err != nil {
		t.Fatal(err)
	}
	defer writer.Close()
	writer.SetMaxOpenConns(1)
	exec(t, writer, "PRAGMA journal_mode=WAL", "INSERT INTO experiment_tags (\"key\", value, experiment_id) VALUES ('in-wal', 'yes', 1)")
	before := folderState(t, filepath.Dir(path))
	if !strings.Contains(before, "mlflow.db-wal=") || !strings.Contains(before, "mlflow.db-shm=") {
		t.Fatalf("the writer left no -wal and -shm: %q", before[:40])
	}
	tags, runs, notices := sourceContent(t, path)
	if tags["in-wal"] != "yes" || runs != 125 {
		t.Errorf("the transaction in the -wal was not read: tags %v, %d runs", tags, runs)
	}
	if !strings.Contains(strings.Join(notices, "\n"), "private copy") {
		t.Errorf("the report does not say how the source was read: %v", notices)
	}
	if after := folderState(t, filepath.Dir(path)); after != before {
		t.Error("reading the source created or changed a file beside it")
	}
	// Written back and closed, the database stays in WAL mode with nothing beside it.
	exec(t, writer, "PRAGMA wal_checkpoint(TRUNCATE)")
	writer.Close()
	for _, side := range []string{"-wal", "-shm"} {
		_ = os.Remove(path + side)
	}
	before = folderState(t, filepath.Dir(path))
	if tags, _, _ := sourceContent(t, path); tags["in-wal"] != "yes" {
		t.Errorf("tags %v", tags)
	}
	if after := folderState(t, filepath.Dir(path)); after != before {
		t.Error("reading a WAL database created -wal or -shm beside it")
	}
}

// TestSQLiteHotJournalSource: a database whose writer stopped in the middle of a
// transaction (a hot journal beside it) is read as MLflow would see it, with that
// transaction rolled back, and the source is left as it was.
func TestSQLiteHotJournalSource(t *testing.T) {
	path := copySample(t)
	_, wantRuns, _ := sourceContent(t, path)
	writer, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(DELETE)&_pragma=cache_size(1)")
	if err != nil {
		t.Fatal(err)
	}
	defer writer.Close()
	writer.SetMaxOpenConns(1)
	exec(t, writer, "BEGIN", "DELETE FROM latest_metrics", "DELETE FROM metrics", "DELETE FROM params", "DELETE FROM tags", "DELETE FROM runs")
	// A crash now: the database and its journal as they are on disk.
	crashed := filepath.Join(t.TempDir(), "mlflow.db")
	for _, suffix := range []string{"", "-journal"} {
		data, err := os.ReadFile(path + suffix)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(crashed+suffix, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	exec(t, writer, "ROLLBACK")
	before := folderState(t, filepath.Dir(crashed))
	_, runs, notices := sourceContent(t, crashed)
	if runs != wantRuns {
		t.Errorf("%d runs read, want %d: the unfinished transaction was not rolled back", runs, wantRuns)
	}
	if !strings.Contains(strings.Join(notices, "\n"), "hot journal") {
		t.Errorf("the report does not explain the hot journal: %v", notices)
	}
	if after := folderState(t, filepath.Dir(crashed)); after != before {
		t.Error("reading the source changed it or its journal")
	}
}
