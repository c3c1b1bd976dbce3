package importer_test

import (
	"context"
	"math"
	"path/filepath"
	"testing"

	"github.com/mlflow-bulk/mlflow-bulk/drivers/all"
	"github.com/mlflow-bulk/mlflow-bulk/importer"
	"github.com/mlflow-bulk/mlflow-bulk/importer/rules"
	"github.com/mlflow-bulk/mlflow-bulk/internal/synth"
	"github.com/mlflow-bulk/mlflow-bulk/sinks"
	"github.com/mlflow-bulk/mlflow-bulk/sources"
	"github.com/mlflow-bulk/mlflow-bulk/sources/database"
	"github.com/mlflow-bulk/mlflow-bulk/sources/formats"
)

// The hot paths, for `go test -bench`; scripts/bench measures whole imports against each
// database's own bulk load.

// BenchmarkImportFileStoreSQLite imports a synthetic store of 40 runs, 4 keys and 250
// steps (40,000 metric rows) into a new SQLite database per iteration.
func BenchmarkImportFileStoreSQLite(b *testing.B) {
	root := filepath.Join(b.TempDir(), "mlruns")
	st, err := synth.Write(context.Background(), root, synth.Options{Experiments: 2, Runs: 40, MetricKeys: 4, Steps: 250, Params: 5, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		sink, err := all.Registry().Open(ctx, "sqlite:///"+filepath.ToSlash(filepath.Join(b.TempDir(), "bench.db")), sinks.Options{})
		if err != nil {
			b.Fatal(err)
		}
		src, err := formats.Open(ctx, root, formats.Options{Database: database.Options{Drivers: all.Registry()}})
		if err != nil {
			b.Fatal(err)
		}
		report, err := importer.Import(ctx, sink, []sources.Source{src}, importer.Options{})
		src.Close()
		sink.Close()
		if err != nil {
			b.Fatal(err)
		}
		if got := report.Count("metrics").Created; got != int64(st.Metrics) {
			b.Fatalf("%d metric rows, want %d", got, st.Metrics)
		}
	}
	b.ReportMetric(float64(st.Metrics)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkLatestMetrics observes a history of 10 keys and 10,000 steps.
func BenchmarkLatestMetrics(b *testing.B) {
	points := make([]rules.MetricPoint, 0, 100_000)
	for step := int64(0); step < 10_000; step++ {
		for k := 0; k < 10; k++ {
			value, isNaN := rules.Sanitize(math.Sin(float64(step)))
			points = append(points, rules.MetricPoint{Key: string(rune('a' + k)), Value: value, Timestamp: step * 10, Step: step, IsNaN: isNaN})
		}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		l := rules.NewLatestMetrics()
		for _, p := range points {
			l.Observe(p)
		}
		if len(l.Points()) != 10 {
			b.Fatal("latest metrics lost a key")
		}
	}
	b.ReportMetric(float64(len(points))*float64(b.N)/b.Elapsed().Seconds(), "points/s")
}
