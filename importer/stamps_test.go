package importer_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mlflow-bulk/mlflow-bulk/importer"
	"github.com/mlflow-bulk/mlflow-bulk/internal/synth"
	"github.com/mlflow-bulk/mlflow-bulk/internal/testenv"
	"github.com/mlflow-bulk/mlflow-bulk/schema"
)

// age sets every file and folder of a store an hour back, as a store written the day
// before is: files this recent are never taken as unchanged.
func age(t *testing.T, root string, ago time.Duration) {
	t.Helper()
	when := time.Now().Add(-ago)
	err := filepath.Walk(root, func(path string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Chtimes(path, when, when)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestUnchangedRunsAreNotReadAgain: a re-import skips, unread, the runs whose files are
// as they were when the target took them, and reads every run that changed since: a
// metric line appended, a file written a moment ago, a run deleted from the target.
// --reread reads all; nothing differs from what a full comparison gives.
func TestUnchangedRunsAreNotReadAgain(t *testing.T) {
	for _, target := range targets {
		t.Run(target.name, func(t *testing.T) {
			root, st := synthStore(t, synth.Options{Runs: 6, MetricKeys: 2, Steps: 4, Params: 2, Tags: 2, Seed: 31})
			age(t, root, time.Hour)
			uri := target.uri(t)
			first, err := importPaths(t, uri, importer.Options{}, root)
			if err != nil {
				t.Fatal(err)
			}
			if first.UnchangedRuns != 0 || int(first.Count("runs").Created) != st.Runs {
				t.Fatalf("first import: %d unchanged, runs %+v", first.UnchangedRuns, first.Count("runs"))
			}
			if n := count(t, uri, schema.RunStampsTable); n != st.Runs {
				t.Fatalf("%d run stamps kept, want %d", n, st.Runs)
			}
			before := targetContent(t, uri)

			again, err := importPaths(t, uri, importer.Options{}, root)
			if err != nil {
				t.Fatal(err)
			}
			if int(again.UnchangedRuns) != st.Runs || !again.NothingNew() || again.Count("metrics").Read != 0 {
				t.Errorf("unchanged store: %d unchanged of %d, counts %+v", again.UnchangedRuns, st.Runs, again.Counts)
			}
			if runs := again.Count("runs"); int(runs.Read) != st.Runs || int(runs.Skipped) != st.Runs {
				t.Errorf("runs %+v: every run read counts as skipped", runs)
			}
			if !equalContent(targetContent(t, uri), before) {
				t.Error("a re-import of an unchanged store changed the target")
			}

			// A metric line appended: that run is read and merged, the others are not.
			dirs := runDirs(t, root)
			metricFile := firstFile(t, filepath.Join(dirs[0], "metrics"))
			appendLine(t, metricFile, "1800000000000 42.5 99\n")
			age(t, metricFile, 30*time.Minute)
			// A file changed a moment ago (here: its time ahead of the clock, so that it
			// stays recent however slow the machine) is read now and at every import
			// until it is older: the file system's clock may not move for a change.
			tagFile := firstFile(t, filepath.Join(dirs[1], "tags"))
			if err := os.Chtimes(tagFile, time.Now(), time.Now().Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
			changed, err := importPaths(t, uri, importer.Options{}, root)
			if err != nil {
				t.Fatal(err)
			}
			if int(changed.UnchangedRuns) != st.Runs-2 || changed.Count("metrics").Created != 1 || changed.Count("runs").Merged != 1 {
				t.Errorf("two runs changed: %d unchanged, counts %+v", changed.UnchangedRuns, changed.Counts)
			}

			// A run deleted from the target is imported again, its stamp kept or not.
			gone := filepath.Base(dirs[2])
			var deletes []string
			for _, table := range []string{"latest_metrics", "metrics", "params", "tags", "runs"} {
				deletes = append(deletes, "DELETE FROM "+table+" WHERE run_uuid = '"+gone+"'")
			}
			setUp(t, uri, deletes...)
			back, err := importPaths(t, uri, importer.Options{}, root)
			if err != nil {
				t.Fatal(err)
			}
			if back.Count("runs").Created != 1 || int(back.UnchangedRuns) != st.Runs-2 {
				t.Errorf("a run deleted from the target: %d unchanged, runs %+v", back.UnchangedRuns, back.Count("runs"))
			}

			full, err := importPaths(t, uri, importer.Options{Reread: true}, root)
			if err != nil {
				t.Fatal(err)
			}
			if full.UnchangedRuns != 0 || !full.NothingNew() || int(full.Count("runs").Skipped) != st.Runs {
				t.Errorf("--reread: %d unchanged, counts %+v", full.UnchangedRuns, full.Counts)
			}
			if r := verifyPaths(t, uri, root); len(r.Differences) != 0 || r.Runs != int64(st.Runs) {
				t.Errorf("verify after the re-imports: %d runs, differences %+v", r.Runs, r.Differences)
			}

			if target.name != "sqlite" {
				return
			}
			// The target read as a source: mlflow-bulk's own table is no data of MLflow's.
			copyURI := testenv.SQLite(t)
			copied, err := importPaths(t, copyURI, importer.Options{}, uri)
			if err != nil {
				t.Fatal(err)
			}
			if len(copied.Unsupported) != 0 || int(copied.Count("runs").Created) != st.Runs {
				t.Errorf("the target as a source: unsupported %+v, runs %+v", copied.Unsupported, copied.Count("runs"))
			}
		})
	}
}

func firstFile(t *testing.T, dir string) string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) == 0 {
		t.Fatalf("no file in %s: %v", dir, err)
	}
	return filepath.Join(dir, entries[0].Name())
}

func appendLine(t *testing.T, path, line string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(line); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestRowsDeletedBehindAStamp: metric rows deleted from the target while the run's files
// stay as they were (stamp and all) are put back by the next import, which reads that
// run again and says why; the run then stays a no-op; an upgraded stamps table from an
// earlier version (no rows column) gets it.
func TestRowsDeletedBehindAStamp(t *testing.T) {
	for _, target := range targets {
		t.Run(target.name, func(t *testing.T) {
			root, st := synthStore(t, synth.Options{Runs: 3, MetricKeys: 2, Steps: 5, Params: 2, Tags: 1, Seed: 7})
			age(t, root, time.Hour)
			uri := target.uri(t)
			if _, err := importPaths(t, uri, importer.Options{}, root); err != nil {
				t.Fatal(err)
			}
			before := count(t, uri, "metrics")
			d := openDB(t, uri)
			run := d.rows("SELECT MIN(run_uuid) FROM runs")[0]
			d.close()
			setUp(t, uri, "DELETE FROM metrics WHERE run_uuid = '"+run+"' AND step > 0")
			// verify sees the loss, and that a re-read can explain it: the run is stamped.
			if r := verifyPaths(t, uri, root); len(r.Differences) == 0 || !r.RereadCanHelp {
				t.Errorf("verify after rows were deleted behind a stamp: %d differences, reread can help: %t", len(r.Differences), r.RereadCanHelp)
			}
			again, err := importPaths(t, uri, importer.Options{}, root)
			if err != nil {
				t.Fatal(err)
			}
			if n := count(t, uri, "metrics"); n != before {
				t.Errorf("%d metric rows after the re-import, %d before the deletion", n, before)
			}
			if int(again.UnchangedRuns) != st.Runs-1 || !strings.Contains(strings.Join(again.Notices, "\n"), "1 runs were read again") {
				t.Errorf("re-import: %d unchanged, notes %v", again.UnchangedRuns, again.Notices)
			}
			if r := verifyPaths(t, uri, root); len(r.Differences) != 0 {
				t.Errorf("verify: %v", r.Differences)
			}
			third, err := importPaths(t, uri, importer.Options{}, root)
			if err != nil || int(third.UnchangedRuns) != st.Runs {
				t.Errorf("third import: %d unchanged of %d, %v", third.UnchangedRuns, st.Runs, err)
			}
			// A stamps table of an earlier version: its stamps still count, the column comes.
			setUp(t, uri, "DROP TABLE "+schema.RunStampsTable,
				"CREATE TABLE "+schema.RunStampsTable+" (run_uuid VARCHAR(32) NOT NULL, stamp BIGINT NOT NULL, PRIMARY KEY (run_uuid))")
			if _, err := importPaths(t, uri, importer.Options{}, root); err != nil {
				t.Fatal(err)
			}
			if n := count(t, uri, schema.RunStampsTable); n != st.Runs {
				t.Errorf("%d stamps after the upgrade, want %d", n, st.Runs)
			}
		})
	}
}
