package inspect_test

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/mlflow-bulk/mlflow-bulk/inspect"
	"github.com/mlflow-bulk/mlflow-bulk/sources"
)

// TestInspectCountsAndAnomalies: a source's experiments, runs and points are counted,
// NaN points too, and what an import must handle (keys one apart only in case) is named.
func TestInspectCountsAndAnomalies(t *testing.T) {
	run := strings.Repeat("a", 32)
	src := sources.FromRecords("records", []sources.Record{
		&sources.Experiment{SourceID: "1", Name: "exp", LifecycleStage: sources.LifecycleActive},
		&sources.Run{RunID: run, ExperimentSourceID: "1", Status: sources.StatusFinished, LifecycleStage: sources.LifecycleActive,
			Params: []sources.Tag{{Key: "lr", Value: "0.1"}, {Key: "LR", Value: "0.2"}}},
		&sources.Metrics{RunID: run, Points: []sources.Metric{{Key: "loss", Value: 0.5, Timestamp: 1}, {Key: "loss", Value: math.NaN(), Timestamp: 2, Step: 1}}},
	})
	in, err := inspect.Inspect(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	if in.Counts["runs"] != 1 || in.Counts["metric_points"] != 2 || in.Counts["nan_points"] != 1 || len(in.Experiments) != 1 || in.Experiments[0].Runs != 1 {
		t.Errorf("counts %v, experiments %+v", in.Counts, in.Experiments)
	}
	if anomalies := strings.Join(in.Anomalies, "\n"); !strings.Contains(anomalies, `param keys "lr" and "LR" are one key`) {
		t.Errorf("anomalies %v", in.Anomalies)
	}
}
