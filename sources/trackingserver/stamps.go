package trackingserver

import (
	"encoding/binary"
	"hash/fnv"
	"math"
	"sort"

	"github.com/mlflow-bulk/mlflow-bulk/sources"
)

// A run's stamp, from what a page of runs/search shows of it: its status, end time and
// lifecycle, its params and tags, and its latest metrics. A nightly re-import, or one
// resumed after a kill, skips the metric histories of a run whose stamp the target holds.
// What the stamp cannot see is a point logged to an existing metric that changes none of
// its latest values (an earlier step, logged late): --reread reads every run.

// SkipUnchanged implements sources.RunStamper.
func (s *server) SkipUnchanged(unchanged func(runID string, stamp uint64) bool) {
	s.unchanged = unchanged
}

// stamp sums up what the server shows of a run; never 0, which means no stamp.
func (r *wireRun) stamp() uint64 {
	h := fnv.New64a()
	word := func(s string) {
		_ = binary.Write(h, binary.LittleEndian, uint32(len(s)))
		_, _ = h.Write([]byte(s))
	}
	number := func(v *int64Value) {
		n := int64(math.MinInt64)
		if v != nil {
			n = int64(*v)
		}
		_ = binary.Write(h, binary.LittleEndian, n)
	}
	word(r.Info.Status)
	word(r.Info.LifecycleStage)
	word(r.Info.RunName)
	word(r.Info.ArtifactURI)
	number(r.Info.StartTime)
	number(r.Info.EndTime)
	for _, kvs := range [][]keyValue{r.Data.Params, r.Data.Tags} {
		sorted := append([]keyValue(nil), kvs...)
		sort.Slice(sorted, func(i, j int) bool { return sorted[i].Key < sorted[j].Key })
		_ = binary.Write(h, binary.LittleEndian, uint32(len(sorted)))
		for _, kv := range sorted {
			word(kv.Key)
			word(kv.Value)
		}
	}
	metrics := append([]wireMetric(nil), r.Data.Metrics...)
	sort.Slice(metrics, func(i, j int) bool { return metrics[i].Key < metrics[j].Key })
	_ = binary.Write(h, binary.LittleEndian, uint32(len(metrics)))
	for _, m := range metrics {
		word(m.Key)
		ts, step := m.Timestamp, m.Step
		number(&ts)
		number(&step)
		_ = binary.Write(h, binary.LittleEndian, math.Float64bits(float64(m.Value)))
	}
	_ = binary.Write(h, binary.LittleEndian, uint32(len(r.Inputs.DatasetInputs)+len(r.Inputs.ModelInputs)+len(r.Outputs.ModelOutputs)))
	if v := h.Sum64(); v != 0 {
		return v
	}
	return 1
}

// unchangedRun is the record of a run the consumer holds as the server shows it, or
// nil when it is to be read.
func (s *server) unchangedRun(r *wireRun, origin sources.Origin) (*sources.Run, uint64) {
	stamp := r.stamp()
	id := r.Info.RunID
	if id == "" {
		id = r.Info.RunUUID
	}
	if s.unchanged == nil || !s.unchanged(id, stamp) {
		return nil, stamp
	}
	return &sources.Run{RunID: id, ExperimentSourceID: r.Info.ExperimentID, Stamp: stamp, Unchanged: true, Origin: origin}, stamp
}
