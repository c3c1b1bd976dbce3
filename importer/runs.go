package importer

import (
	"context"
	"fmt"
	"strconv"

	"github.com/mlflow-bulk/mlflow-bulk/importer/rules"
	"github.com/mlflow-bulk/mlflow-bulk/remedy"

	"github.com/mlflow-bulk/mlflow-bulk/sources"
)

// runWriter writes runs, one at a time: the current run's state, the buffers of the
// tables written run by run, the latest-metrics tracking, the merge into a run the target
// holds, and the window of runs read ahead (readahead.go).
type runWriter struct {
	base
	exps   *experimentMapper
	stamps *stampKeeper
	// commit ends the batch once a complete run fills it (the importer's).
	commit func(ctx context.Context, reopen bool) error
	buf    *runBuffers
	cur    *runState
	latest *rules.LatestMetrics
	// ahead holds runs back to ask the target about them together; stored is what the
	// target answered for the window (readahead.go).
	ahead    readAhead
	stored   map[string]*storedRunData
	seenRuns map[string]seenRun
	// batchCreated and batchMerged are the ids of the runs of the open batch, listed in
	// the report once it commits.
	batchCreated, batchMerged []string
}

// runLookup is what writers outside runs ask of the run writer: whether a run is there,
// and that the rows of runs buffered so far are written, for what refers to them.
type runLookup interface {
	hasRun(ctx context.Context, id string) (bool, error)
	flushAll(ctx context.Context) error
}

// startRun begins a run: it decides whether to write it and buffers its row, params,
// tags and inputs. Its metrics follow in addMetrics; finishRun completes it.
func (w *runWriter) startRun(ctx context.Context, source int, r *sources.Run) error {
	var read [numEntities]int64
	read[entityParams], read[entityTags], read[entityInputs], read[entityInputTags] = int64(len(r.Params)), int64(len(r.Tags)), int64(len(r.Inputs)), inputTagCount(r.Inputs)
	w.committed.of(entityRuns).Read++
	for e, n := range read {
		w.committed.of(entity(e)).Read += n
	}
	w.cur = &runState{id: r.RunID, points: rules.NewPointSet(), metricKeys: map[string]string{}, dropped: map[string]bool{}, file: r.Origin.File, sourceLatest: r.LatestMetrics, read: read}
	w.buf.mark()
	w.cur.source, w.cur.experiment, w.cur.stamp = source, r.ExperimentSourceID, r.Stamp
	w.cur.stored = w.takeStored(r.RunID)
	if prev, ok := w.seenRuns[r.RunID]; ok && prev.source == source && prev.experiment != r.ExperimentSourceID && !w.exps.sameTargetExperiment(source, prev.experiment, r.ExperimentSourceID) {
		return w.invalidRun(ctx, &sources.InputError{File: r.Origin.File, RunID: r.RunID,
			Err: fmt.Errorf("the run is also in experiment %s, imported from there; MLflow keeps a run in one experiment, so this copy is left out", prev.experiment)})
	}
	expID, ok := w.exps.expIDs[expKey{source, r.ExperimentSourceID}]
	// An unread run (unchangedRun did not take it) is of an experiment left out or
	// rejected, or of another shard: counted as any run of those.
	if !ok || !w.opts.Filter.TakesRun(r) || r.Unchanged {
		w.cur.skip = true
		if !ok && !w.exps.filteredExp(source, r.ExperimentSourceID) {
			// Its experiment was rejected; the rejection names it.
			w.cur.rejected = true
			w.committed.of(entityRuns).Rejected++
			for e, n := range read {
				w.committed.of(entity(e)).Rejected += n
			}
		} else {
			w.committed.of(entityRuns).Skipped++
			w.filteredRuns++
			for e, n := range read {
				w.committed.of(entity(e)).Skipped += n
			}
		}
		return nil
	}
	if err := rules.CheckArtifactLocation(r.ArtifactURI); err != nil {
		return w.invalidRun(ctx, &sources.InputError{File: r.Origin.File, RunID: r.RunID, Err: err})
	}
	sourceLocation := r.ArtifactURI
	r = w.placeRunArtifacts(source, r)
	present, err := w.runPresent(ctx, r.RunID)
	if err != nil {
		return err
	}
	if present {
		switch w.opts.OnExistingRun {
		case rules.ExistingRunSkip:
			w.cur.skip = true
			w.committed.of(entityRuns).Skipped++
			for e, n := range read {
				w.committed.of(entity(e)).Skipped += n
			}
			return nil
		case rules.ExistingRunFail:
			return remedy.With(fmt.Errorf("%s: run %s is already in the target, and the import was to stop at a run the target holds", r.Origin.File, r.RunID),
				remedy.Remedy{Option: OptionOnExistingRun, Value: string(rules.ExistingRunMerge), Does: "to add what it lacks"},
				remedy.Remedy{Option: OptionOnExistingRun, Value: string(rules.ExistingRunSkip), Does: "to leave it as it is"})
		}
		// A run read again (--reread, changed files) gets back the files missing at the
		// copy's location: files already there are not copied again.
		if _, err := w.copyRunArtifacts(ctx, source, r, sourceLocation); err != nil {
			return err
		}
		return w.startMerge(ctx, source, r, expID)
	}
	if r, err = w.copyRunArtifacts(ctx, source, r, sourceLocation); err != nil {
		return err
	}
	out, err := w.runRows(r, expID)
	row, params, tags := out.Row, out.Params, out.Tags
	if err != nil {
		return w.invalidRun(ctx, rules.RunInputError(r, err))
	}
	w.buf.runs.add(row)
	w.run.of(entityRuns).Created++
	for _, p := range params {
		w.buf.params.add(keyValueRow{key: p.Key, value: p.Value, runUUID: r.RunID})
	}
	w.run.of(entityParams).Created += int64(len(params))
	w.run.of(entityParams).Skipped += int64(len(r.Params) - len(params))
	for _, t := range tags {
		w.buf.tags.add(keyValueRow{key: t.Key, value: t.Value, runUUID: r.RunID})
	}
	w.run.of(entityTags).Created += int64(len(tags))
	w.run.of(entityTags).Skipped += out.DroppedTags // params left out are in the difference above
	if err := w.runInputs(r, expKey{source, r.ExperimentSourceID}, nil); err != nil {
		return w.invalidRun(ctx, &sources.InputError{File: r.Origin.File, RunID: r.RunID, Err: err})
	}
	return nil
}

// inputTagCount is how many tags the inputs carry.
func inputTagCount(inputs []sources.Input) int64 {
	var n int64
	for _, in := range inputs {
		n += int64(len(in.Tags))
	}
	return n
}

// runPresent reports whether the current run was already imported or is in the target,
// from what its window read where it can (readahead.go).
func (w *runWriter) runPresent(ctx context.Context, id string) (bool, error) {
	if _, ok := w.seenRuns[id]; ok {
		return true, nil
	}
	if !w.targetHasRuns {
		return false, nil
	}
	if w.cur.stored != nil {
		return w.cur.stored.present, nil
	}
	p, ok, err := w.targetRun(ctx, id)
	if ok {
		w.cur.stored = &storedRunData{present: true, progress: p}
	}
	return ok, err
}

// hasRun reports whether a run was already imported or is in the target; it is asked
// outside runs (a logged model's metrics name theirs).
func (w *runWriter) hasRun(ctx context.Context, id string) (bool, error) {
	if _, ok := w.seenRuns[id]; ok {
		return true, nil
	}
	if !w.targetHasRuns {
		return false, nil
	}
	_, ok, err := w.targetRun(ctx, id)
	return ok, err
}

// targetRun is what the target holds of a run, and whether it holds it.
func (w *runWriter) targetRun(ctx context.Context, id string) (storedRun, bool, error) {
	progress, err := w.store.RunsProgress(ctx, []string{id})
	if err != nil {
		return storedRun{}, false, err
	}
	p, ok := progress[id]
	return p, ok, nil
}

// flushAll writes every buffered row of runs, so that what refers to them finds them.
func (w *runWriter) flushAll(ctx context.Context) error { return w.buf.flushAll(ctx, w.tx) }

// runRows assembles a run (assemble.go) and puts what changed on the way in the report.
// The caller counts the keys left out (out.droppedParams, out.droppedTags).
func (w *runWriter) runRows(r *sources.Run, expID int64) (rules.AssembledRun, error) {
	out, err := w.asm.Run(r, expID)
	for _, n := range out.Notes {
		path := n.Path
		if path == "" {
			path = r.Origin.File
		}
		w.noteSkipped(path, n.Text)
	}
	return out, err
}

// runInputs buffers the run's inputs: dataset edges point at the target's dataset row,
// duplicates of an edge are dropped (MLflow keeps the first and its tags).
func (w *runWriter) runInputs(r *sources.Run, exp expKey, existing map[inputEdge]bool) error {
	if len(r.Inputs) == 0 {
		return nil
	}
	if !w.rev.HasTable("inputs") {
		w.run.of(entityInputs).Skipped += int64(len(r.Inputs))
		w.run.of(entityInputTags).Skipped += inputTagCount(r.Inputs)
		return w.lacking(r.Origin.File, "inputs", "", int64(len(r.Inputs)), "run inputs (datasets a run used)")
	}
	seen := map[inputEdge]bool{}
	for e := range existing {
		seen[e] = true
	}
	for _, in := range r.Inputs {
		if isModelEdge(in) && !w.rev.HasTable("logged_models") {
			// The model is left out with its table: an edge to it would point at nothing.
			w.run.of(entityInputs).Skipped++
			w.run.of(entityInputTags).Skipped += int64(len(in.Tags))
			if err := w.lacking(r.Origin.File, "logged_models", "", 1, "run inputs and outputs of logged models"); err != nil {
				return err
			}
			continue
		}
		sourceID := in.SourceID
		if in.SourceType == "DATASET" {
			uuid, ok := w.exps.datasets[datasetKey{exp, in.SourceID}]
			if !ok {
				return fmt.Errorf("input refers to dataset %s, which experiment %s does not have", in.SourceID, exp.id)
			}
			sourceID = uuid
		}
		e := inputEdge{in.SourceType, sourceID, in.DestinationType, in.DestinationID}
		if seen[e] {
			w.run.of(entityInputs).Skipped++
			w.run.of(entityInputTags).Skipped += int64(len(in.Tags))
			continue
		}
		seen[e] = true
		for _, c := range []struct{ column, value string }{{"source_type", e.sourceType}, {"source_id", e.sourceID}, {"destination_type", e.destType}, {"destination_id", e.destID}} {
			if err := w.asm.CheckText("inputs", c.column, "input "+c.column, c.value); err != nil {
				return err
			}
		}
		uuid := in.UUID
		if uuid == "" {
			uuid = newUUID()
		}
		w.buf.inputs.add(inputRow{inputUUID: uuid, sourceType: e.sourceType, sourceID: e.sourceID, destinationType: e.destType, destinationID: e.destID, step: in.Step})
		w.run.of(entityInputs).Created++
		for _, t := range in.Tags {
			if err := w.asm.CheckText("input_tags", "name", "input tag "+strconv.Quote(t.Key), t.Key); err != nil {
				return err
			}
			if err := w.asm.CheckText("input_tags", "value", "input tag "+strconv.Quote(t.Key)+" value", t.Value); err != nil {
				return err
			}
			w.buf.inputTags.add(inputTagRow{inputUUID: uuid, name: t.Key, value: t.Value})
			w.run.of(entityInputTags).Created++
		}
	}
	return nil
}

// addMetrics buffers a chunk of the current run's history: sanitised, de-duplicated on
// MLflow's full primary key, and fed to the latest-metric tracker in logging order.
func (w *runWriter) addMetrics(ctx context.Context, m *sources.Metrics) error {
	cur := w.cur
	if cur == nil || cur.id != m.RunID {
		return fmt.Errorf("%s: metrics of run %s arrived outside that run (a bug in the source reader)", m.Origin.File, m.RunID)
	}
	count := w.committed.of(entityMetrics)
	count.Read += int64(len(m.Points))
	cur.read[entityMetrics] += int64(len(m.Points))
	switch {
	case cur.rejected:
		count.Rejected += int64(len(m.Points))
		return nil
	case cur.skip:
		count.Skipped += int64(len(m.Points))
		return nil
	}
	for _, p := range m.Points {
		if cur.dropped[p.Key] {
			w.run.of(entityMetrics).Skipped++
			continue
		}
		value, isNaN := rules.Sanitize(p.Value)
		if isNaN && !w.rev.HasColumn("metrics", "is_nan") {
			return w.invalidRun(ctx, &sources.InputError{File: m.Origin.File, RunID: m.RunID, Err: fmt.Errorf(
				"metric %q has a NaN value, which a database at %s cannot hold (MLflow 1.1 added metrics.is_nan): create the target for MLflow 1.1 or later", p.Key, w.rev)})
		}
		pt := rules.MetricPoint{Key: p.Key, Value: value, Timestamp: p.Timestamp, Step: p.Step, IsNaN: isNaN}
		k := rules.PointKey{Key: p.Key, Value: value, Timestamp: p.Timestamp, Step: p.Step, IsNaN: isNaN}
		if cur.points.Has(k) {
			w.run.of(entityMetrics).Skipped++
			cur.repeats++
			continue
		}
		if !w.latest.Seen(p.Key) {
			if err := w.asm.CheckText("metrics", "key", "metric key "+strconv.Quote(p.Key), p.Key); err != nil {
				return w.invalidRun(ctx, &sources.InputError{File: m.Origin.File, RunID: m.RunID, Err: err})
			}
			if first := w.asm.KeyCollision(cur.metricKeys, p.Key); first != "" {
				if w.asm.Policy() != rules.CollisionKeepFirst {
					return w.invalidRun(ctx, &sources.InputError{File: m.Origin.File, RunID: m.RunID, Err: w.asm.CollisionError("metric", first, p.Key)})
				}
				cur.dropped[p.Key] = true
				w.run.of(entityMetrics).Skipped++
				w.noteSkipped(m.Origin.File, fmt.Sprintf("run %s: metric %q left out: it is the same key as %q under the target's collation %s", m.RunID, p.Key, first, w.collation.Name))
				continue
			}
		}
		if p.Timestamp < 0 {
			return w.invalidRun(ctx, &sources.InputError{File: m.Origin.File, RunID: m.RunID,
				Err: fmt.Errorf("metric %q has a negative timestamp %d", p.Key, p.Timestamp)})
		}
		if cur.points.Add(k) {
			w.noteOnce(fmt.Sprintf("run %s has over %d metric points: past that, a point is compared with the last %d for repeats (logging one twice puts it next to itself), "+
				"not with all, to keep memory flat; a repeat further apart meets the database's key (PostgreSQL into a new database removes it before building the key; elsewhere it stops the import)", cur.id, rules.ExactPoints, rules.WindowPoints))
		}
		w.latest.Observe(pt)
		w.buf.metrics.add(metricRow{MetricPoint: pt, runUUID: cur.id})
		w.run.of(entityMetrics).Created++
	}
	w.progress.MetricRows += int64(len(m.Points))
	if w.buf.len() > w.memoryRows() {
		return w.flushRunEarly(ctx)
	}
	return nil
}

// finishRun completes the current run: its latest_metrics rows, then the commit
// decision. It does nothing when no run is open.
func (w *runWriter) finishRun(ctx context.Context) error {
	cur := w.cur
	if cur == nil {
		return nil
	}
	w.cur = nil
	if cur.skip {
		return nil
	}
	hasLatest := w.rev.HasTable("latest_metrics")
	if cur.merge != nil {
		if hasLatest {
			if err := w.writeMergedLatest(ctx, cur); err != nil {
				return err
			}
		}
		if err := w.store.UpdateRun(ctx, cur.id, cur.merge.update); err != nil {
			return fmt.Errorf("run %s: %w", cur.id, err)
		}
	} else if hasLatest {
		for _, p := range w.latest.Points() {
			w.buf.latest.add(metricRow{MetricPoint: p, runUUID: cur.id})
			w.run.of(entityLatestMetrics).Created++
		}
	}
	if cur.merge == nil {
		w.compareLatest(cur)
	}
	w.latest.Reset()
	if cur.savepoint {
		if _, err := w.tx.Exec(ctx, "RELEASE SAVEPOINT mlflow_bulk_run"); err != nil {
			return fmt.Errorf("run %s: %w", cur.id, err)
		}
	}
	if cur.merge != nil && !cur.merge.moved && w.run.rowsWritten() == 0 {
		// The target held all of it: nothing was merged, the run was already there.
		w.run.of(entityRuns).Merged--
		w.run.of(entityRuns).Skipped++
	}
	switch {
	case w.run.of(entityRuns).Created > 0:
		w.batchCreated = append(w.batchCreated, cur.id)
	case w.run.of(entityRuns).Merged > 0:
		w.batchMerged = append(w.batchMerged, cur.id)
	}
	w.seenRuns[cur.id] = seenRun{source: cur.source, experiment: cur.experiment}
	// What the target now holds of the run: what this import wrote, and, for a run it
	// merged into, what the target held before where that was read (-1: not known).
	held := w.run.of(entityParams).Created + w.run.of(entityTags).Created + w.run.of(entityMetrics).Created
	if st := cur.stored; cur.merge != nil && (st == nil || !st.complete || !st.metricsRead) {
		held = -1
	} else if cur.merge != nil {
		held += int64(len(st.params) + len(st.tags) + len(st.metrics))
	}
	w.stamps.keepStamp(cur.id, cur.stamp, held)
	w.repeatedPoints += cur.repeats
	w.batchRows += w.run.rowsWritten()
	w.batch.merge(w.run)
	w.run.reset()
	w.progress.Runs++
	w.notifyProgress()
	if w.batchRows >= w.opts.batchRows() {
		return w.commit(ctx, true)
	}
	return nil
}

// compareLatest reports, per key, where the source's own latest_metrics differs from
// the one recomputed from the history (which is what is written).
func (w *runWriter) compareLatest(cur *runState) {
	if len(cur.sourceLatest) == 0 {
		return
	}
	recomputed := map[string]rules.MetricPoint{}
	for _, p := range w.latest.Points() {
		recomputed[p.Key] = p
	}
	for _, m := range cur.sourceLatest {
		value, isNaN := rules.Sanitize(m.Value)
		theirs := rules.MetricPoint{Key: m.Key, Value: value, Timestamp: m.Timestamp, Step: m.Step, IsNaN: isNaN}
		ours, ok := recomputed[m.Key]
		if ok && ours == theirs {
			continue
		}
		w.report.LatestMetricDifferences = append(w.report.LatestMetricDifferences, LatestDifference{
			Source: w.sourceName, RunID: cur.id, Key: m.Key, SourceValue: theirs, Recomputed: ours, InHistory: ok})
	}
}

// isModelEdge tells a run's input or output that names a logged model.
func isModelEdge(in sources.Input) bool {
	return in.DestinationType == "MODEL_INPUT" || in.DestinationType == "MODEL_OUTPUT" || in.SourceType == "MODEL_INPUT" || in.SourceType == "MODEL_OUTPUT"
}

// placeRunArtifacts is the run with its artifact location as the target keeps it
// (placedLocation). The run given is not changed.
func (w *runWriter) placeRunArtifacts(source int, r *sources.Run) *sources.Run {
	if placed := w.exps.placedLocation(expKey{source, r.ExperimentSourceID}, r.ArtifactURI); placed != r.ArtifactURI {
		moved := *r
		moved.ArtifactURI = placed
		r = &moved
	}
	return r
}

// copyRunArtifacts starts copying a run's files, when the import copies them, and is
// the run with the copy's location.
func (w *runWriter) copyRunArtifacts(ctx context.Context, source int, r *sources.Run, sourceLocation string) (*sources.Run, error) {
	if w.exps.mover == nil {
		return r, nil
	}
	copied, err := w.exps.mover.move(ctx, "run "+r.RunID, r.Origin.File, r.RunID, r.ArtifactsAt, sourceLocation,
		w.exps.copiedLocation(expKey{source, r.ExperimentSourceID}, r.RunID, "artifacts"))
	if err != nil {
		return nil, err
	}
	moved := *r
	moved.ArtifactURI = copied
	return &moved, nil
}

// invalidRun handles bad input while runs are read: stop, or (SkipInvalid) drop the run
// it spoils, or complete the current one, and go on.
func (w *runWriter) invalidRun(ctx context.Context, inErr *sources.InputError) error {
	if err := w.reject(inErr); err != nil {
		return err
	}
	if w.cur != nil && inErr.RunID == w.cur.id {
		return w.dropRun(ctx)
	}
	if err := w.finishRun(ctx); err != nil {
		return err
	}
	if inErr.RunID != "" {
		w.committed.of(entityRuns).Rejected++
	}
	return nil
}

// dropRun discards everything of the current run. The run stays current, marked
// skip, so the rest of its records pass by unwritten.
func (w *runWriter) dropRun(ctx context.Context) error {
	cur := w.cur
	if cur.skip {
		return nil
	}
	cur.skip = true
	if cur.savepoint {
		if _, err := w.tx.Exec(ctx, "ROLLBACK TO SAVEPOINT mlflow_bulk_run"); err != nil {
			return fmt.Errorf("drop run %s: %w", cur.id, err)
		}
		if _, err := w.tx.Exec(ctx, "RELEASE SAVEPOINT mlflow_bulk_run"); err != nil {
			return fmt.Errorf("drop run %s: %w", cur.id, err)
		}
	}
	w.buf.dropCurrent()
	w.run.reset()
	w.latest.Reset()
	w.committed.of(entityRuns).Rejected++
	cur.rejected = true
	for e, n := range cur.read {
		w.committed.of(entity(e)).Rejected += n
	}
	return nil
}
