package importer_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlflow-bulk/mlflow-bulk/importer"
	"github.com/mlflow-bulk/mlflow-bulk/internal/testenv"
)

// exportCounts counts what the valid run.json files under root hold, one run per run
// folder, read with Go's own JSON decoder.
func exportCounts(t *testing.T, root string) (runs, params, metrics int, invalid []string) {
	seen := map[string]bool{}
	_ = filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error { // errors skip the entry
		if err != nil || d.IsDir() || (d.Name() != "run.json" && d.Name() != "experiment.json") {
			return nil
		}
		data, _ := os.ReadFile(path)
		var f struct {
			Mlflow struct {
				Params  map[string]string            `json:"params"`
				Metrics map[string][]json.RawMessage `json:"metrics"`
			} `json:"mlflow"`
		}
		if json.Unmarshal(data, &f) != nil {
			invalid = append(invalid, path)
			return nil
		}
		if d.Name() == "experiment.json" {
			return nil
		}
		id := filepath.Base(filepath.Dir(path))
		if seen[id] {
			return nil // the same run exported twice (bulk/models repeats experiments)
		}
		seen[id] = true
		runs++
		params += len(f.Mlflow.Params)
		for _, points := range f.Mlflow.Metrics {
			metrics += len(points)
		}
		return nil
	})
	return
}

func TestImportExportImportSamples(t *testing.T) {
	for _, rel := range []string{"single/experiments/basic", "single/experiments/src_tags", "bulk/experiments", "bulk/models/experiments"} {
		root := filepath.Join(testenv.Sample(t, "export-mlflow-export-import-oss/oss_mlflow"), rel)
		runs, params, metrics, invalid := exportCounts(t, root)
		for _, target := range targets {
			t.Run(rel+"/"+target.name, func(t *testing.T) {
				uri := target.uri(t)
				report, err := importPaths(t, uri, importer.Options{SkipInvalid: true}, root)
				if err != nil {
					t.Fatal(err)
				}
				if len(report.Rejected) != len(invalid) {
					t.Errorf("rejected %+v, the export has %d invalid files", report.Rejected, len(invalid))
				}
				for _, file := range invalid {
					if !strings.Contains(report.Rejected[0].Reason, file) || !strings.Contains(report.Rejected[0].Reason, "column") {
						t.Errorf("the invalid file %s is not named with its position: %+v", file, report.Rejected)
					}
				}
				d := openDB(t, uri)
				for table, want := range map[string]int{"runs": runs, "params": params, "metrics": metrics} {
					if got := d.count("SELECT COUNT(*) FROM " + table); got != want {
						t.Errorf("%s: %d rows, the export holds %d", table, got, want)
					}
				}
				// Run ids, times and histories are kept, unlike the export tool's own importer.
				if n := d.count("SELECT COUNT(*) FROM runs WHERE start_time IS NULL"); n != 0 {
					t.Errorf("%d runs lost their start time", n)
				}
				// The run name wins over a differing mlflow.runName tag, as MLflow shows it.
				if n := d.count("SELECT COUNT(*) FROM runs r JOIN tags t ON t.run_uuid = r.run_uuid AND t." + `"key"` + " = 'mlflow.runName' WHERE t.value <> r.name"); n != 0 {
					t.Errorf("%d runs whose mlflow.runName tag differs from their name", n)
				}
				d.close()
				// Import and verify agree: only what the import rejected differs.
				for _, diff := range verifyPaths(t, uri, root).Differences {
					if diff.Kind != "source invalid" {
						t.Errorf("verify after a fresh import: %+v", diff)
					}
				}
			})
		}
	}
}
