package importer_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlflow-bulk/mlflow-bulk/importer"
	"github.com/mlflow-bulk/mlflow-bulk/internal/testenv"
)

// TestOverLongRowsCopiedAsRows: a row of a table copied as rows whose value is longer than
// the target's column (MLflow 3.14's GenAI demo holds entity_associations.destination_id
// of 38–41 characters in a VARCHAR(36)) stops the import before writing, naming the table,
// the row's key and the column; --skip-invalid leaves that row out and imports the rest.
func TestOverLongRowsCopiedAsRows(t *testing.T) {
	data, err := os.ReadFile(testenv.Sample(t, "yizhehong-ecu-agent-sqlite/mlflow.db"))
	if err != nil {
		t.Fatal(err)
	}
	source := filepath.Join(t.TempDir(), "mlflow.db")
	if err := os.WriteFile(source, data, 0o600); err != nil {
		t.Fatal(err)
	}
	long := "d-" + strings.Repeat("7", 38)
	setUp(t, "sqlite:///"+source,
		"INSERT INTO entity_associations VALUES ('a-1', 'EXPERIMENT', '1', 'EVALUATION_DATASET', '"+long+"', 1)",
		"INSERT INTO entity_associations VALUES ('a-2', 'EXPERIMENT', '1', 'EVALUATION_DATASET', 'd-short', 1)")
	for _, target := range targets {
		if target.name == "sqlite" {
			continue // SQLite stores any length
		}
		t.Run(target.name, func(t *testing.T) {
			uri := target.uri(t)
			_, err := importPaths(t, uri, importer.Options{}, source)
			if !errors.Is(err, importer.ErrInvalidInput) || !strings.Contains(err.Error(), "entity_associations.destination_id holds 40 characters") ||
				!strings.Contains(err.Error(), long) {
				t.Fatalf("an over-long value: %v", err)
			}
			report, err := importPaths(t, uri, importer.Options{SkipInvalid: true}, source)
			if err != nil {
				t.Fatal(err)
			}
			d := openDB(t, uri)
			defer d.close()
			if n := d.count("SELECT COUNT(*) FROM entity_associations"); n != 1 {
				t.Errorf("%d entity associations, want the short one", n)
			}
			if n, want := d.count("SELECT COUNT(*) FROM trace_info"), 100; n != want {
				t.Errorf("%d traces, want %d", n, want)
			}
			if len(report.Rejected) != 1 || !strings.Contains(report.Rejected[0].Reason, "destination_id") {
				t.Errorf("rejected: %+v", report.Rejected)
			}
		})
	}
}
