package importer_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/mlflow-bulk/mlflow-bulk/importer"
	"github.com/mlflow-bulk/mlflow-bulk/internal/synth"
	"github.com/mlflow-bulk/mlflow-bulk/internal/testenv"
)

// TestVerifyExtraRunsOfManyExperiments: with more experiments of the source's own than
// verify looks at one by one, the runs a target holds beyond the source are still found,
// in a run added to an experiment and a run deleted from the source.
func TestVerifyExtraRunsOfManyExperiments(t *testing.T) {
	root, _ := synthStore(t, synth.Options{Experiments: 70, Runs: 140, MetricKeys: 1, Steps: 2, Params: 1, Tags: 1, Seed: 23})
	uri := testenv.SQLite(t)
	if _, err := importPaths(t, uri, importer.Options{}, root); err != nil {
		t.Fatal(err)
	}
	if r := verifyPaths(t, uri, root); len(r.Differences) != 0 {
		t.Fatalf("a faithful import: %+v", r.Differences)
	}
	runs := runDirs(t, root)
	deleted := filepath.Base(runs[len(runs)-1])
	if err := os.RemoveAll(runs[len(runs)-1]); err != nil {
		t.Fatal(err)
	}
	const added = "added00000000000000000000000000b"
	setUp(t, uri, fmt.Sprintf(`INSERT INTO runs (run_uuid, name, source_type, source_name, entry_point_name, user_id, status, start_time, source_version, lifecycle_stage, artifact_uri, experiment_id)
		VALUES ('%s', 'added', 'LOCAL', '', '', 'u', 'FINISHED', 1, '', 'active', '', 37)`, added))
	r := verifyPaths(t, uri, root)
	found := map[string]bool{}
	for _, d := range r.Differences {
		if d.Kind != "run extra" {
			t.Errorf("unexpected difference: %+v", d)
		}
		found[d.RunID] = true
	}
	if !found[added] || !found[deleted] || len(found) != 2 {
		t.Errorf("extra runs found: %v, want %s and %s", found, added, deleted)
	}
}
