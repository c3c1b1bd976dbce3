package database_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/mlflow-bulk/mlflow-bulk/drivers/all"
	"github.com/mlflow-bulk/mlflow-bulk/importer"
	"github.com/mlflow-bulk/mlflow-bulk/internal/testenv"
	"github.com/mlflow-bulk/mlflow-bulk/sinks"
	"github.com/mlflow-bulk/mlflow-bulk/sources"
	"github.com/mlflow-bulk/mlflow-bulk/sources/database"
	"github.com/mlflow-bulk/mlflow-bulk/sources/formats"
	"github.com/mlflow-bulk/mlflow-bulk/sources/sourcetest"
)

// TestDatabaseConformance runs the source conformance suite on MLflow databases: real
// SQLite ones as MLflow wrote them, and the same data on PostgreSQL and MariaDB.
func TestDatabaseConformance(t *testing.T) {
	samples := []string{
		"sqlite-peco602-zoomcamp-mlflow1.26/02-experiment-tracking/mlflow.db",
		"yizhehong-ecu-agent-sqlite/mlflow.db",
		"hcigu-pgpt-sqlite-prompts/backend/mlflow.db",
	}
	for _, sample := range samples {
		uri := "sqlite:///" + filepath.ToSlash(testenv.Sample(t, sample))
		t.Run(sample, func(t *testing.T) { conformance(t, uri) })
	}
	for name, server := range map[string]func(testing.TB) string{"postgres": testenv.Postgres, "mariadb": testenv.MySQL} {
		t.Run(name, func(t *testing.T) {
			uri := server(t)
			load(t, uri, "sqlite:///"+filepath.ToSlash(testenv.Sample(t, samples[1])))
			conformance(t, uri)
		})
	}
}

func conformance(t *testing.T, uri string) {
	sourcetest.Run(t, func(t *testing.T, ctx context.Context) sources.Source {
		src, err := database.Open(ctx, uri, database.Options{Options: sources.Options{MetricChunk: 5}, Drivers: all.Registry()})
		if err != nil {
			t.Fatal(err)
		}
		return src
	})
}

// load imports a source into a database, to serve as a source in turn.
func load(t *testing.T, uri, from string) {
	ctx := context.Background()
	sink, err := all.Registry().Open(ctx, uri, sinks.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	src, err := formats.Open(ctx, from, formats.Options{Database: database.Options{Drivers: all.Registry()}})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if _, err := importer.Import(ctx, sink, []sources.Source{src}, importer.Options{}); err != nil {
		t.Fatal(err)
	}
}
