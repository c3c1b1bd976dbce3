package verify

import (
	"context"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/mlflow-bulk/mlflow-bulk/importer/rules"
	"github.com/mlflow-bulk/mlflow-bulk/schema/live"
	"github.com/mlflow-bulk/mlflow-bulk/sources"
)

type verifyRun struct {
	id          string
	missing     bool
	metricsOnly bool // a history only: the target may hold other keys
	// seen tells repeated points apart, as the import does; points sums up the
	// source's history per key.
	seen   *rules.PointSet
	points map[string]*history
}

func (r *verifyRun) history(key string) *history {
	h := r.points[key]
	if h == nil {
		h = &history{}
		r.points[key] = h
	}
	return h
}

// history sums up a set of metric points in memory that does not grow with it: how
// many, a sum of two hashes of each (the same for the same set in any order), the
// latest by MLflow's rule (the first of equal ones, in the order they came), and the
// first firstKept points in (step, timestamp, value) order, so that a difference among
// them can be shown point by point.
type history struct {
	n      int64
	h1, h2 uint64
	latest rules.MetricPoint
	first  []rules.MetricPoint
}

// firstKept bounds the points a history keeps to show where two histories part.
const firstKept = 16

// keepFirst keeps p among the first firstKept points in pointOrder.
func (h *history) keepFirst(p rules.MetricPoint) {
	i := sort.Search(len(h.first), func(i int) bool { return pointOrder(p, h.first[i]) })
	if i >= firstKept {
		return
	}
	if len(h.first) < firstKept {
		h.first = append(h.first, rules.MetricPoint{})
	}
	copy(h.first[i+1:], h.first[i:])
	h.first[i] = p
}

// pointOrder orders points by step, timestamp, then value.
func pointOrder(a, b rules.MetricPoint) bool {
	if a.Step != b.Step {
		return a.Step < b.Step
	}
	if a.Timestamp != b.Timestamp {
		return a.Timestamp < b.Timestamp
	}
	return math.Float64bits(a.Value) < math.Float64bits(b.Value)
}

// firstDifference describes the first point, in pointOrder, where two histories part,
// when it is among the points each keeps; "" otherwise.
func firstDifference(src, have *history) string {
	for i := 0; i < len(src.first) || i < len(have.first); i++ {
		// Each keeps all its points up to firstKept: a list that ends first is a
		// history that has no more.
		if i < len(src.first) && i < len(have.first) && samePoint(src.first[i], have.first[i]) {
			continue
		}
		if i >= len(src.first) {
			return fmt.Sprintf("the first point that differs: %s in the target, not in the source", pointText(have.first[i]))
		}
		if i >= len(have.first) {
			return fmt.Sprintf("the first point that differs: %s in the source, not in the target", pointText(src.first[i]))
		}
		return fmt.Sprintf("the first point that differs: %s in the source, %s in the target", pointText(src.first[i]), pointText(have.first[i]))
	}
	return ""
}

func (h *history) add(p rules.MetricPoint) {
	buf := make([]byte, 0, len(p.Key)+26)
	buf = append(append(buf, p.Key...), 0)
	value := p.Value
	if value == 0 {
		// -0 and 0 are one point: SQLite stores -0.0 as 0 (so MLflow on SQLite shows 0),
		// and MLflow compares them equal.
		value = 0
	}
	buf = binary.LittleEndian.AppendUint64(buf, math.Float64bits(value))
	buf = binary.LittleEndian.AppendUint64(buf, uint64(p.Timestamp))
	buf = binary.LittleEndian.AppendUint64(buf, uint64(p.Step))
	if p.IsNaN {
		buf = append(buf, 1)
	}
	a, b := fnv.New64a(), fnv.New64()
	_, _ = a.Write(buf) // a hash's writes cannot fail
	_, _ = b.Write(buf)
	h.n++
	h.h1 += a.Sum64()
	h.h2 += b.Sum64()
	if h.n == 1 || p.Supersedes(h.latest) {
		h.latest = p
	}
	h.keepFirst(p)
}

// digest is a short name of the set, for messages.
func (h *history) digest() string {
	if h == nil {
		return "none"
	}
	return fmt.Sprintf("%016x", h.h1^(h.h2<<1|h.h2>>63))[:12]
}

func (h *history) same(o *history) bool {
	return h != nil && o != nil && h.n == o.n && h.h1 == o.h1 && h.h2 == o.h2
}

func (v *verifier) startRun(ctx context.Context, r *sources.Run) error {
	v.sourceRuns[r.RunID] = true
	if !v.importTook(r) {
		v.run = nil
		return nil
	}
	v.runExperiment[r.RunID] = r.ExperimentSourceID
	v.report.Runs++
	v.run = &verifyRun{id: r.RunID, metricsOnly: r.MetricsOnly, seen: rules.NewPointSet(), points: map[string]*history{}}
	var n int64
	err := live.EachRow(ctx, v.tx, "SELECT COUNT(*) FROM runs WHERE run_uuid = ?", []any{r.RunID}, func(scan func(...any) error) error { return scan(&n) })
	if err != nil {
		return fmt.Errorf("read runs of the target: %w", err)
	}
	if n == 0 {
		v.run.missing = true
		if v.opts.RejectedRuns[r.RunID] {
			v.report.Accepted.InvalidLeftOut++ // rejected by the import as invalid input
			return nil
		}
		v.differ(r.RunID, "run missing", "", "the run is not in the target")
		return nil
	}
	if err := v.runRow(ctx, r); err != nil {
		return err
	}
	if err := v.compareInputs(ctx, r); err != nil {
		return err
	}
	limits := v.rev.Limits()
	_, expectedTags, _ := rules.RunNameAndTags(r) // the tags as the import writes them
	for _, set := range []struct {
		table, what string
		kvs         []sources.Tag
		limit       int
		mutable     bool
	}{{"params", "param", r.Params, limits.ParamValue, false}, {"tags", "tag", expectedTags, limits.TagValue, true}} {
		stored, err := v.keyValues(ctx, set.table, r.RunID)
		if err != nil {
			return err
		}
		inSource := map[string]int{} // keys per folded key: more than one collide
		for _, kv := range set.kvs {
			inSource[v.collation.Fold(kv.Key)]++
		}
		// What the target holds of the run beyond the source: added since, or by hand.
		if !r.MetricsOnly {
			for folded, have := range stored {
				if inSource[folded] == 0 {
					v.extra(r.RunID, set.what+" extra", have.key, fmt.Sprintf("the target has %s %q = %q, which the source does not", set.what, have.key, have.value))
				}
			}
		}
		for _, kv := range set.kvs {
			have, ok := stored[v.collation.Fold(kv.Key)]
			switch {
			case !ok:
				v.differ(r.RunID, set.what+" missing", kv.Key, fmt.Sprintf("%s %q is not in the target", set.what, kv.Key))
			case have.key != kv.Key && inSource[v.collation.Fold(kv.Key)] == 1:
				// The import writes the source's spelling; a collation that folds case
				// found the target's other one.
				v.differ(r.RunID, set.what+" differs", kv.Key, fmt.Sprintf("%s %q is spelled %q in the target", set.what, kv.Key, have.key))
			case have.value == kv.Value:
			case limits.Truncates && utf8.RuneCountInString(kv.Value) > set.limit && have.value == rules.TruncateRunes(kv.Value, set.limit):
				v.report.Accepted.ValuesTruncated++ // truncated as that MLflow does
			case have.key != kv.Key:
				v.report.Accepted.KeysLeftOut++ // another key under the target's collation, kept first
			case !set.mutable && v.opts.OnParamConflict == rules.ParamConflictKeepTarget:
				v.report.Accepted.ParamsKept++ // the target's value kept, as the import reported
			case set.mutable:
				v.differ(r.RunID, set.what+" differs", kv.Key, fmt.Sprintf("tag %q is %q in the target, %q in the source (an import keeps the target's tag values)", kv.Key, have.value, kv.Value))
			default:
				v.differ(r.RunID, set.what+" differs", kv.Key, fmt.Sprintf("param %q is %q in the target, %q in the source", kv.Key, have.value, kv.Value))
			}
		}
	}
	return nil
}

// runRow compares the target's runs row with the run as the import writes it: times,
// status, lifecycle, name, user, source fields, artifact location and experiment.
func (v *verifier) runRow(ctx context.Context, r *sources.Run) error {
	if r.MetricsOnly {
		return nil // a history: the import takes nothing else of the run from it
	}
	cols := []string{"experiment_id", "name", "user_id", "status", "start_time", "end_time", "lifecycle_stage", "artifact_uri",
		"source_type", "source_name", "entry_point_name", "source_version"}
	if v.rev.HasColumn("runs", "deleted_time") {
		cols = append(cols, "deleted_time")
	}
	name, _, _ := rules.RunNameAndTags(r)
	artifact := r.ArtifactURI
	if mapped, ok := rules.MapArtifact(v.opts.ArtifactMap, artifact); ok {
		artifact = mapped
	}
	artifact, _ = rules.WorkspaceArtifact(artifact, v.expWorkspace[r.ExperimentSourceID])
	if v.files != nil {
		artifact = v.files.expected(r.ArtifactsAt, r.ArtifactURI, v.expWorkspace[r.ExperimentSourceID], v.expTarget[r.ExperimentSourceID], r.RunID, "artifacts")
	}
	text := func(s string) string { return s }
	num := func(p *int64) string {
		if p == nil {
			return "NULL"
		}
		return strconv.FormatInt(*p, 10)
	}
	want := []string{strconv.FormatInt(v.expTarget[r.ExperimentSourceID], 10), text(name), text(r.UserID), string(r.Status), num(r.StartTime), num(r.EndTime),
		string(r.LifecycleStage), text(artifact), string(r.SourceType), text(r.SourceName), text(r.EntryPointName), text(r.SourceVersion), num(r.DeletedTime)}
	quoted := make([]string, len(cols))
	for i, c := range cols {
		quoted[i] = `"` + c + `"`
	}
	var got []string
	err := live.EachRow(ctx, v.tx, "SELECT "+strings.Join(quoted, ", ")+" FROM runs WHERE run_uuid = ?", []any{r.RunID}, func(scan func(...any) error) error {
		dest := make([]any, len(cols))
		vals := make([]*string, len(cols))
		for i := range dest {
			dest[i] = &vals[i]
		}
		if err := scan(dest...); err != nil {
			return err
		}
		for _, val := range vals {
			if val == nil {
				got = append(got, "NULL")
			} else {
				got = append(got, *val)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("read run %s in the target: %w", r.RunID, err)
	}
	for i, c := range cols {
		if i < len(got) && got[i] != want[i] && (want[i] != "" || got[i] != "NULL") {
			v.differ(r.RunID, "run differs", c, fmt.Sprintf("runs.%s is %q in the target, %q in the source", c, got[i], want[i]))
		}
	}
	if v.files != nil && len(got) > 7 && got[7] == artifact {
		return v.files.compare(ctx, r.ArtifactsAt, r.ArtifactURI, artifact, func(path, detail string) {
			v.differ(r.RunID, KindArtifactFile, path, detail)
		})
	}
	return nil
}

type storedValue struct{ key, value string }

func (v *verifier) keyValues(ctx context.Context, table, runID string) (map[string]storedValue, error) {
	out := map[string]storedValue{}
	err := live.EachRow(ctx, v.tx, `SELECT "key", value FROM `+table+` WHERE run_uuid = ?`, []any{runID}, func(scan func(...any) error) error {
		var k string
		var val *string
		if err := scan(&k, &val); err != nil {
			return err
		}
		s := ""
		if val != nil {
			s = *val
		}
		out[v.collation.Fold(k)] = storedValue{k, s}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read %s of run %s in the target: %w", table, runID, err)
	}
	return out, nil
}

// finishRun checks the run's metric histories and the target's latest metrics for it.
func (v *verifier) finishRun(ctx context.Context) error {
	run := v.run
	v.run = nil
	if run == nil {
		return nil
	}
	err := v.compareRun(ctx, run)
	v.settleExtras(run.id)
	return err
}

// compareRun compares a run's metrics and latest metrics with the target's.
func (v *verifier) compareRun(ctx context.Context, run *verifyRun) error {
	if run.missing {
		return nil
	}
	stored := map[string]*history{}
	err := live.EachRow(ctx, v.tx, `SELECT "key", value, "timestamp", step, `+v.rev.IsNaNColumn()+` FROM metrics WHERE run_uuid = ?`, []any{run.id}, func(scan func(...any) error) error {
		var p rules.MetricPoint
		if err := scan(&p.Key, &p.Value, &p.Timestamp, &p.Step, &p.IsNaN); err != nil {
			return err
		}
		h := stored[p.Key]
		if h == nil {
			h = &history{}
			stored[p.Key] = h
		}
		h.add(p)
		return nil
	})
	if err != nil {
		return fmt.Errorf("read metrics of run %s in the target: %w", run.id, err)
	}
	keys := make([]string, 0, len(run.points))
	for k := range run.points {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, key := range keys {
		v.report.MetricKeys++
		src, have := run.points[key], stored[key]
		if have == nil && !v.collation.Exact() && v.foldedKeyStored(key, stored) {
			if v.foldedKeyStored(key, run.points) {
				// The source has another key the collation makes this one: a collision,
				// of which the import kept the first (under keep-first).
				v.report.Accepted.KeysLeftOut++
			} else {
				v.differ(run.id, "metric key differs", key, fmt.Sprintf("metric %q is spelled otherwise in the target (its collation takes them for one)", key))
			}
			continue
		}
		var held int64
		if have != nil {
			held = have.n
		}
		digests := fmt.Sprintf("(source history digest %s, target %s)", src.digest(), have.digest())
		if have != nil && !src.same(have) {
			if first := firstDifference(src, have); first != "" {
				digests = first + " " + digests
			}
		}
		switch {
		case src.same(have):
		case held < src.n:
			v.differ(run.id, "metric points missing", key, fmt.Sprintf("the source has %d points, the target %d %s", src.n, held, digests))
		case held > src.n:
			v.differ(run.id, "metric points extra", key, fmt.Sprintf("the target has %d points, the source %d %s", held, src.n, digests))
		case !samePoint(src.latest, have.latest):
			v.differ(run.id, "metric points differ", key, fmt.Sprintf("the target's %d points are not the source's: the latest is %s in the source, %s in the target %s",
				held, pointText(src.latest), pointText(have.latest), digests))
		default:
			v.differ(run.id, "metric points differ", key, fmt.Sprintf("the target's %d points are not the source's, the latest (%s) alike %s", held, pointText(src.latest), digests))
		}
	}
	if !run.metricsOnly {
		for key, h := range stored {
			if _, ok := run.points[key]; !ok && (v.collation.Exact() || !v.foldedKeyStored(key, run.points)) {
				v.extra(run.id, "metric key extra", key, fmt.Sprintf("the target has %d points of metric %q, which the source does not have", h.n, key))
			}
		}
	}
	if !v.rev.HasTable("latest_metrics") {
		return nil
	}
	return v.checkLatest(ctx, run.id, stored)
}

// checkLatest compares the target's latest_metrics of a run with MLflow's rule over the
// target's history. Equal (step, timestamp, value) tuples are a tie the history's order
// would decide, so either point is accepted there.
func (v *verifier) checkLatest(ctx context.Context, runID string, stored map[string]*history) error {
	latest := map[string]rules.MetricPoint{}
	err := live.EachRow(ctx, v.tx, `SELECT "key", value, "timestamp", step, is_nan FROM latest_metrics WHERE run_uuid = ?`, []any{runID}, func(scan func(...any) error) error {
		var p rules.MetricPoint
		var ts *int64
		if err := scan(&p.Key, &p.Value, &ts, &p.Step, &p.IsNaN); err != nil {
			return err
		}
		if ts != nil {
			p.Timestamp = *ts
		}
		latest[p.Key] = p
		return nil
	})
	if err != nil {
		return fmt.Errorf("read latest_metrics of run %s in the target: %w", runID, err)
	}
	for key, h := range stored {
		best := h.latest
		got, ok := latest[key]
		switch {
		case !ok:
			v.differ(runID, "latest metric wrong", key, "latest_metrics has no row for a key with history")
		case got.Step != best.Step || got.Timestamp != best.Timestamp || got.Value != best.Value || got.IsNaN != best.IsNaN:
			v.differ(runID, "latest metric wrong", key, fmt.Sprintf("latest_metrics holds step %d time %d value %v is_nan %v; the history's latest is step %d time %d value %v is_nan %v",
				got.Step, got.Timestamp, got.Value, got.IsNaN, best.Step, best.Timestamp, best.Value, best.IsNaN))
		}
	}
	for key := range latest {
		if _, ok := stored[key]; !ok {
			v.differ(runID, "latest metric extra", key, "latest_metrics has a row for a key without history")
		}
	}
	return nil
}

func (v *verifier) foldedKeyStored(key string, stored map[string]*history) bool {
	for k := range stored {
		if k != key && v.collation.Fold(k) == v.collation.Fold(key) {
			return true
		}
	}
	return false
}

// pointText is a metric point as a person reads it: step, timestamp, value.
func pointText(p rules.MetricPoint) string {
	value := strconv.FormatFloat(p.Value, 'g', -1, 64)
	if p.IsNaN {
		value = "NaN"
	}
	return fmt.Sprintf("step %d at %d = %s", p.Step, p.Timestamp, value)
}

// samePoint compares points bit for bit (NaN is NaN).
func samePoint(a, b rules.MetricPoint) bool {
	return a.Key == b.Key && a.Step == b.Step && a.Timestamp == b.Timestamp && a.IsNaN == b.IsNaN && math.Float64bits(a.Value) == math.Float64bits(b.Value)
}

// importTook tells whether the import took this run: not one its filters left out, nor
// a second copy in another experiment, which it rejects (and says so).
func (v *verifier) importTook(r *sources.Run) bool {
	if !v.experiments[r.ExperimentSourceID] && !v.missingExperiment[r.ExperimentSourceID] || !v.opts.Filter.TakesRun(r) {
		return false
	}
	first, ok := v.runExperiment[r.RunID]
	return !ok || first == r.ExperimentSourceID || v.sameTargetExperiment(first, r.ExperimentSourceID)
}

// sameTargetExperiment tells whether two source experiments map to one target
// experiment, as the import takes them (a run in both is one run).
func (v *verifier) sameTargetExperiment(a, b string) bool {
	ta, okA := v.expTarget[a]
	tb, okB := v.expTarget[b]
	return okA && okB && ta == tb
}
