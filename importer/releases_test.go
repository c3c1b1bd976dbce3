package importer_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/mlflow-bulk/mlflow-bulk/importer"
	"github.com/mlflow-bulk/mlflow-bulk/internal/testenv"
	"github.com/mlflow-bulk/mlflow-bulk/schema"
	"github.com/mlflow-bulk/mlflow-bulk/verify"
)

// TestImportIntoReleaseSchemas: an empty target created for an MLflow release (the
// import's SchemaRevision, `import --mlflow-version`) of each era takes the real file
// stores, leaving out only what that release has no table for, and verifies clean.
func TestImportIntoReleaseSchemas(t *testing.T) {
	for _, version := range []string{"1.0", "1.3", "1.10", "2.3", "2.13", "3.0", "3.4", "3.9"} {
		rev, err := schema.ForRelease(version)
		if err != nil {
			t.Fatal(err)
		}
		for _, target := range targets {
			t.Run(version+"/"+target.name, func(t *testing.T) {
				uri := target.uri(t)
				// MLflow 1.x refused values longer than 250 characters, which the later
				// stores hold: those go into 1.x schemas from the 1.x store alone.
				samples, minRuns := fileStoreSamples, int64(70)
				if !rev.AtLeast("cc1f77228345") {
					samples, minRuns = fileStoreSamples[:1], 15
				}
				var stores []string
				for _, s := range samples {
					stores = append(stores, testenv.Sample(t, s))
				}
				report, err := importPaths(t, uri, importer.Options{SchemaRevision: rev, SkipUnsupported: true}, stores...)
				if err != nil {
					t.Fatal(err)
				}
				if !report.SchemaCreated || !strings.HasPrefix(report.Revision, rev.ID) {
					t.Fatalf("schema created %v at %s, want %s", report.SchemaCreated, report.Revision, rev)
				}
				if report.Count("runs").Created < minRuns {
					t.Errorf("runs: %+v", report.Count("runs"))
				}
				d := openDB(t, uri)
				if got := d.rows("SELECT version_num FROM alembic_version"); len(got) != 1 || got[0] != rev.ID {
					t.Errorf("alembic_version %v", got)
				}
				inputs := report.Count("inputs")
				if rev.HasTable("inputs") && inputs.Skipped > 0 || !rev.HasTable("inputs") && inputs.Created > 0 {
					t.Errorf("inputs at %s: %+v", rev, inputs)
				}
				r := verifyPathsWith(t, uri, verify.Options{SkipUnsupported: true}, stores...)
				if target.name == "mariadb" && !rev.AtLeast("181f10493468") {
					// MLflow 1.0 made metrics.value a single-precision FLOAT on MySQL:
					// values are kept as that MLflow kept them, which the report says.
					if len(r.Differences) == 0 || !strings.Contains(strings.Join(report.Notices, "\n"), "single-precision FLOAT") {
						t.Fatalf("single precision: %d differences, notices %q", len(r.Differences), report.Notices)
					}
					return
				}
				if len(r.Differences) != 0 {
					t.Fatalf("%d differences, first %+v", len(r.Differences), r.Differences[0])
				}
			})
		}
	}
}

// TestNaNBeforeIsNaN: MLflow 1.0's schema has no metrics.is_nan, so a NaN metric value
// cannot be stored as MLflow stores it: the run is invalid input for such a target,
// named with its key, instead of being written as 0.
func TestNaNBeforeIsNaN(t *testing.T) {
	root := storeWith(t, map[string]string{"metrics/m": "1 NaN 3\n", "params/p": "x"})
	rev, _ := schema.ForRelease("1.0")
	for _, target := range targets {
		t.Run(target.name, func(t *testing.T) {
			uri := target.uri(t)
			_, err := importPaths(t, uri, importer.Options{SchemaRevision: rev}, root)
			if !errors.Is(err, importer.ErrInvalidInput) || !strings.Contains(err.Error(), `metric "m" has a NaN value`) {
				t.Fatalf("error %v", err)
			}
			if n := openDB(t, uri).count("SELECT COUNT(*) FROM metrics"); n != 0 {
				t.Errorf("%d metric rows written", n)
			}
		})
	}
}

// TestOneRuleForWhatTheTargetLacks: from a file store as from a database, data the
// target has no place for (logged models in MLflow 2.9's schema, datasets and inputs in
// 1.26's) stops the import unless --skip-unsupported, which leaves it out and lists it.
func TestOneRuleForWhatTheTargetLacks(t *testing.T) {
	for _, c := range []struct {
		release, store, table string
	}{
		{"2.9", "dmatrix-logged-models/mlruns", "logged_models"},
		{"1.26", "khangtt-zoomcamp-datasets-mlflow2/mlruns", "datasets"},
	} {
		t.Run(c.release, func(t *testing.T) {
			rev, err := schema.ForRelease(c.release)
			if err != nil {
				t.Fatal(err)
			}
			store := testenv.Sample(t, c.store)
			uri := testenv.SQLite(t)
			createAt(t, uri, rev)
			if _, err := importPaths(t, uri, importer.Options{}, store); !errors.Is(err, importer.ErrUnsupported) || !strings.Contains(err.Error(), "Nothing was written") {
				t.Fatalf("into %s without --skip-unsupported: %v", c.release, err)
			}
			if n := count(t, uri, "runs"); n != 0 {
				t.Errorf("%d runs written before the stop", n)
			}
			report, err := importPaths(t, uri, importer.Options{SkipUnsupported: true}, store)
			if err != nil {
				t.Fatal(err)
			}
			var listed bool
			for _, u := range report.Unsupported {
				listed = listed || u.Table == c.table
			}
			if !listed {
				t.Errorf("unsupported: %+v", report.Unsupported)
			}
		})
	}
}
