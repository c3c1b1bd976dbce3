package importer

import (
	"context"
	"fmt"

	"github.com/mlflow-bulk/mlflow-bulk/importer/rules"
	"github.com/mlflow-bulk/mlflow-bulk/remedy"

	"github.com/mlflow-bulk/mlflow-bulk/sources"
)

// mergeState is what the target already holds of a run being merged.
type mergeState struct {
	storedLatest map[string]rules.MetricPoint
	// moved is set when the stored run's status, end or lifecycle moved forward;
	// update holds those columns, written when the run is complete.
	moved  bool
	update []columnValue
}

// inputEdge is the primary key of MLflow's inputs table.
type inputEdge struct{ sourceType, sourceID, destType, destID string }

var terminalStatus = map[string]bool{string(sources.StatusFinished): true, string(sources.StatusFailed): true, string(sources.StatusKilled): true}

// startMerge brings a run the target already holds up to date, the way MLflow would
// have had the source's logging calls reached it: new metric points, params and tags
// are added; a param whose value differs is a conflict (MLflow never changes one); tags
// the target has keep its value; status, end time and deletion move forward; the
// latest metric of each touched key is recomputed against the stored one. Nothing is
// written to the target before the run is complete, except under the savepoint a long
// run's early flush takes, so the run can still be dropped whole.
func (w *runWriter) startMerge(ctx context.Context, source int, r *sources.Run, expID int64) error {
	cur := w.cur
	if _, seen := w.seenRuns[r.RunID]; seen {
		// Rows of this run written earlier in this import must be visible to the reads below.
		if err := w.flushAll(ctx); err != nil {
			return err
		}
	}
	cur.merge = &mergeState{storedLatest: map[string]rules.MetricPoint{}}
	out, err := w.runRows(r, expID)
	row, params, tags := out.Row, out.Params, out.Tags
	w.run.of(entityParams).Skipped += out.DroppedParams
	w.run.of(entityTags).Skipped += out.DroppedTags
	if err == nil && !r.MetricsOnly {
		err = w.moveRunForward(ctx, row)
	}
	if err == nil {
		params, err = w.newParams(ctx, r, params)
	}
	if err != nil {
		return w.invalidRun(ctx, rules.RunInputError(r, err))
	}
	for _, p := range params {
		w.buf.params.add(keyValueRow{key: p.Key, value: p.Value, runUUID: r.RunID})
	}
	w.run.of(entityParams).Created += int64(len(params))
	storedTags, err := w.storedKeyValues(ctx, "tags", r.RunID)
	if err != nil {
		return err
	}
	for _, t := range tags {
		if _, ok := storedTags[w.keys.fold(t.Key)]; ok {
			w.run.of(entityTags).Skipped++
			continue
		}
		w.buf.tags.add(keyValueRow{key: t.Key, value: t.Value, runUUID: r.RunID})
		w.run.of(entityTags).Created++
	}
	if err := w.loadStoredMetrics(ctx, cur); err != nil {
		return err
	}
	existing, err := w.storedInputs(ctx, r)
	if err != nil {
		return err
	}
	if err := w.runInputs(r, expKey{source, r.ExperimentSourceID}, existing); err != nil {
		return w.invalidRun(ctx, &sources.InputError{File: r.Origin.File, RunID: r.RunID, Err: err})
	}
	w.run.of(entityRuns).Merged++
	return nil
}

// moveRunForward decides what of the stored run moves forward where the source is
// further along: a run still running in the target that ended in the source takes its
// status and end time; a run deleted in the source is deleted. A run is never moved back
// (restored, reopened). finishRun writes it.
func (w *runWriter) moveRunForward(ctx context.Context, src rules.RunRow) error {
	stored, found, err := w.storedProgress(ctx, src.RunUUID)
	if err != nil || !found {
		return err
	}
	if stored.experiment != nil && *stored.experiment != src.ExperimentID {
		// The same run id in two experiments (two stores, or a run moved between
		// imports): MLflow keeps a run in one experiment, and a merge would mix them.
		return remedy.With(fmt.Errorf("%w: the run is in experiment %d of the target, and this copy belongs in experiment %d; MLflow keeps a run in one experiment, so this copy is left out "+
			"(import it into another database to keep both). Where the import's placement (workspace, renamed or target experiment) changed since the run was imported, "+
			"runs the target holds stay where they are: import into a new database, "+
			"or move them with MLflow (mlflow db move-resources moves them between workspaces)", ErrTargetConflict, *stored.experiment, src.ExperimentID),
			remedy.Remedy{Option: OptionTargetExperiment, Value: "NAME", Does: "to put every run into one experiment and keep both"})
	}
	var set []columnValue
	status := ""
	if stored.status != nil {
		status = *stored.status
	}
	if !terminalStatus[status] && terminalStatus[src.Status] {
		set = append(set, columnValue{"status", src.Status}, columnValue{"end_time", optional(src.EndTime)})
	} else if stored.end == nil && src.EndTime != nil {
		set = append(set, columnValue{"end_time", *src.EndTime})
	}
	if (stored.lifecycle == nil || *stored.lifecycle == string(sources.LifecycleActive)) && src.LifecycleStage == string(sources.LifecycleDeleted) {
		set = append(set, columnValue{"lifecycle_stage", string(sources.LifecycleDeleted)})
		if w.rev.HasColumn("runs", "deleted_time") {
			set = append(set, columnValue{"deleted_time", optional(src.DeletedTime)})
		}
	}
	if len(set) > 0 {
		w.cur.merge.moved, w.cur.merge.update = true, set
	}
	return nil
}

// storedProgress is how far the stored run is, as read with its window where it was.
func (w *runWriter) storedProgress(ctx context.Context, id string) (storedRun, bool, error) {
	if d := w.cur.stored; d != nil {
		return d.progress, d.present, nil
	}
	progress, err := w.store.RunsProgress(ctx, []string{id})
	p, ok := progress[id]
	return p, ok, err
}

// storedKeyValues reads a run's params or tags, keyed as the target compares keys. The
// keys are folded after the read: folding may ask the database, which MySQL cannot
// answer while rows are open on the connection.
func (w *runWriter) storedKeyValues(ctx context.Context, table, runID string) (map[string]string, error) {
	var stored []sources.Tag
	if d := w.cur.stored; d != nil && d.complete {
		stored = d.tags
		if table == "params" {
			stored = d.params
		}
	} else if err := w.store.RunsKeyValues(ctx, table, []string{runID}, func(_ string, t sources.Tag) { stored = append(stored, t) }); err != nil {
		return nil, err
	}
	out := make(map[string]string, len(stored))
	for _, t := range stored {
		out[w.keys.fold(t.Key)] = t.Value
	}
	return out, nil
}

// newParams keeps the params the target lacks. One the target has with another value
// is a conflict: the run is invalid input, or (keep-target) the stored value stays.
func (w *runWriter) newParams(ctx context.Context, r *sources.Run, params []sources.Tag) ([]sources.Tag, error) {
	stored, err := w.storedKeyValues(ctx, "params", r.RunID)
	if err != nil {
		return nil, err
	}
	var out []sources.Tag
	for _, p := range params {
		v, ok := stored[w.keys.fold(p.Key)]
		switch {
		case !ok:
			out = append(out, p)
		case v == p.Value:
			w.run.of(entityParams).Skipped++
		case w.opts.OnParamConflict == rules.ParamConflictKeepTarget:
			w.run.of(entityParams).Skipped++
			w.noteSkipped(r.Origin.File, fmt.Sprintf("run %s: param %q is %q in the target and %q in the source; the target's is kept (%s keep-target)", r.RunID, p.Key, v, p.Value, remedy.Mention(OptionOnParamConflict)))
		default:
			return nil, remedy.With(fmt.Errorf("%w: param %q is %q in the target and %q in the source; MLflow never changes a param", ErrTargetConflict, p.Key, v, p.Value),
				remedy.Remedy{Option: OptionOnParamConflict, Value: string(rules.ParamConflictKeepTarget), Does: "to keep the target's"})
		}
	}
	return out, nil
}

// loadStoredMetrics makes the run's stored history part of the de-duplication and its
// stored latest metrics the first points of the latest-metric rule, as if logged first.
func (w *runWriter) loadStoredMetrics(ctx context.Context, cur *runState) error {
	keys := map[string]bool{}
	cur.points.Whole = true // new points are told apart from all the stored ones
	add := func(k rules.PointKey) {
		cur.points.Add(k)
		keys[k.Key] = true
	}
	if d := cur.stored; d != nil && d.metricsRead {
		for _, k := range d.metrics {
			add(k)
		}
		d.metrics = nil
	} else if err := w.store.RunsMetrics(ctx, []string{cur.id}, func(_ string, k rules.PointKey) { add(k) }); err != nil {
		return err
	}
	for k := range keys { // folded after the read: see storedKeyValues
		cur.metricKeys[w.keys.fold(k)] = k
	}
	if !w.rev.HasTable("latest_metrics") {
		return nil
	}
	observe := func(p rules.MetricPoint) {
		cur.merge.storedLatest[p.Key] = p
		w.latest.Observe(p)
	}
	if d := cur.stored; d != nil && d.complete {
		for _, p := range d.latest {
			observe(p)
		}
		return nil
	}
	return w.store.RunsLatestMetrics(ctx, []string{cur.id}, func(_ string, p rules.MetricPoint) { observe(p) })
}

// storedInputs are the inputs rows the target holds of the run, read only when the
// source has inputs to compare with them.
func (w *runWriter) storedInputs(ctx context.Context, r *sources.Run) (map[inputEdge]bool, error) {
	if len(r.Inputs) == 0 || !w.rev.HasTable("inputs") {
		return map[inputEdge]bool{}, nil
	}
	if d := w.cur.stored; d != nil && d.inputs != nil {
		return d.inputs, nil
	}
	out := map[inputEdge]bool{}
	err := w.store.RunsInputEdges(ctx, []string{r.RunID}, func(_ string, e inputEdge) { out[e] = true })
	return out, err
}

// writeMergedLatest writes the latest metrics of a merged run: changed keys updated in
// place, new keys added.
func (w *runWriter) writeMergedLatest(ctx context.Context, cur *runState) error {
	for _, p := range w.latest.Points() {
		stored, ok := cur.merge.storedLatest[p.Key]
		switch {
		case !ok:
			w.buf.latest.add(metricRow{MetricPoint: p, runUUID: cur.id})
			w.run.of(entityLatestMetrics).Created++
		case stored != p:
			if err := w.store.UpdateLatestMetric(ctx, cur.id, p); err != nil {
				return err
			}
			w.run.of(entityLatestMetrics).Merged++
		}
	}
	return nil
}
