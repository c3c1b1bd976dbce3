package importer_test

import (
	"context"
	"errors"
	"sync"
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

// TestShards: three shards imported side by side into one database give exactly what
// one import of the whole source gives.
func TestShards(t *testing.T) {
	root, _ := synthStore(t, synth.Options{Experiments: 3, Runs: 30, MetricKeys: 2, Steps: 50, Params: 2, Tags: 1, Seed: 41})
	for _, target := range targets {
		t.Run(target.name, func(t *testing.T) {
			whole := target.uri(t)
			if _, err := importPaths(t, whole, importer.Options{}, root); err != nil {
				t.Fatal(err)
			}
			uri := target.uri(t)
			// The schema first, as a deployment would (schema init), so no shard races
			// to create it: an import that matches no experiment creates it and stops.
			if _, err := importPaths(t, uri, importer.Options{Filter: rules.Filter{Experiments: []string{"none"}}}, root); !errors.Is(err, importer.ErrNoExperimentMatched) {
				t.Fatalf("an import of no experiment: %v", err)
			}
			var wg sync.WaitGroup
			created := make([]int64, 3)
			for k := 0; k < 3; k++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					ctx := context.Background()
					sink, err := all.Registry().Open(ctx, uri, sinks.Options{LockPerTransaction: true})
					if err != nil {
						t.Error(err)
						return
					}
					defer sink.Close()
					src, err := formats.Open(ctx, root, formats.Options{Database: database.Options{Drivers: all.Registry()}})
					if err != nil {
						t.Error(err)
						return
					}
					defer src.Close()
					report, err := importer.Import(ctx, sink, []sources.Source{src}, importer.Options{BatchRows: 200, Filter: rules.Filter{Shard: k, ShardCount: 3}})
					if err != nil {
						t.Error(err)
						return
					}
					created[k] = report.Count("runs").Created
				}()
			}
			wg.Wait()
			if created[0]+created[1]+created[2] != 30 || created[0] == 30 {
				t.Errorf("runs per shard %v, want 30 in all, spread", created)
			}
			want, got := targetContent(t, whole), targetContent(t, uri)
			for table, rows := range want {
				compareSets(t, table, got[table], rows)
			}
		})
	}
}
