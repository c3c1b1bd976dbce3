package importer_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/mlflow-bulk/mlflow-bulk/drivers/all"
	"github.com/mlflow-bulk/mlflow-bulk/export"
	"github.com/mlflow-bulk/mlflow-bulk/importer"
	"github.com/mlflow-bulk/mlflow-bulk/internal/synth"
	"github.com/mlflow-bulk/mlflow-bulk/internal/testenv"
	"github.com/mlflow-bulk/mlflow-bulk/sources/database"
	"github.com/mlflow-bulk/mlflow-bulk/sources/formats"
)

func exportTo(t *testing.T, location, dir string, gz bool) *export.Report {
	ctx := context.Background()
	src, err := formats.Open(ctx, location, formats.Options{Database: database.Options{Drivers: all.Registry()}})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	report, err := export.Write(ctx, src, dir, export.Options{Gzip: gz})
	if err != nil {
		t.Fatal(err)
	}
	return report
}

// TestDumpRoundTrip: file stores and an MLflow database go into a database, the database
// is exported, the dump imported into a new database: the same content, NaN and
// infinities included, plain and gzip-compressed.
func TestDumpRoundTrip(t *testing.T) {
	special := filepath.Join(t.TempDir(), "mlruns")
	if _, err := synth.Write(context.Background(), special, synth.Options{Experiments: 2, Runs: 5, MetricKeys: 3, Steps: 200, Params: 2, Tags: 2, Special: true, Seed: 3}); err != nil {
		t.Fatal(err)
	}
	stores := []string{special, testenv.Sample(t, "lostpet-textintel-mlflow1.30/mlruns"), testenv.Sample(t, "khangtt-zoomcamp-datasets-mlflow2/mlruns")}
	for _, target := range targets {
		for _, gz := range []bool{false, true} {
			name := target.name
			if gz {
				name += "/gzip"
			}
			t.Run(name, func(t *testing.T) {
				first := target.uri(t)
				if _, err := importPaths(t, first, importer.Options{}, stores...); err != nil {
					t.Fatal(err)
				}
				dir := filepath.Join(t.TempDir(), "dump")
				report := exportTo(t, first, dir, gz)
				if report.Counts["runs"] == 0 || report.Counts["metrics"] == 0 {
					t.Fatalf("export counts %v", report.Counts)
				}
				second := target.uri(t)
				if _, err := importPaths(t, second, importer.Options{}, dir); err != nil {
					t.Fatal(err)
				}
				want, got := targetContent(t, first), targetContent(t, second)
				for table, rows := range want {
					compareSets(t, table, got[table], rows)
				}
				d := openDB(t, second)
				if n := d.count("SELECT COUNT(*) FROM metrics WHERE is_nan = ?", true); n == 0 {
					t.Error("no NaN survived the round trip")
				}
			})
		}
	}
}

// TestDumpOfDatabaseRoundTrip: a real MLflow database with logged models and the model
// registry, exported and imported, equals its direct migration.
func TestDumpOfDatabaseRoundTrip(t *testing.T) {
	for _, sample := range sqliteSamples {
		path := testenv.Sample(t, sample)
		direct := testenv.SQLite(t)
		if _, err := importPaths(t, direct, importer.Options{}, path); err != nil {
			t.Fatal(err)
		}
		dir := filepath.Join(t.TempDir(), "dump")
		exportTo(t, path, dir, true)
		viaDump := testenv.SQLite(t)
		if _, err := importPaths(t, viaDump, importer.Options{}, dir); err != nil {
			t.Fatal(err)
		}
		want, got := targetContent(t, direct), targetContent(t, viaDump)
		for table, rows := range want {
			compareSets(t, sample+" "+table, got[table], rows)
		}
	}
}
