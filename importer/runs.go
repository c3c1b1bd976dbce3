package importer

import (
	"context"
	"fmt"
	"strconv"

	"github.com/mlflow-bulk/mlflow-bulk/importer/rules"

	"github.com/mlflow-bulk/mlflow-bulk/sources"
)

// startRun begins a run: it decides whether to write it and buffers its row, params,
// tags and inputs. Its metrics follow in addMetrics; finishRun completes it.
func (im *importer) startRun(ctx context.Context, source int, r *sources.Run) error {
	var read [numEntities]int64
	read[entityParams], read[entityTags], read[entityInputs], read[entityInputTags] = int64(len(r.Params)), int64(len(r.Tags)), int64(len(r.Inputs)), inputTagCount(r.Inputs)
	im.committed.of(entityRuns).Read++
	for e, n := range read {
		im.committed.of(entity(e)).Read += n
	}
	im.cur = &runState{id: r.RunID, points: rules.NewPointSet(), metricKeys: map[string]string{}, dropped: map[string]bool{}, file: r.Origin.File, sourceLatest: r.LatestMetrics, read: read}
	for i, f := range im.flushers {
		im.marks[i] = f.len()
	}
	im.cur.source, im.cur.experiment, im.cur.stamp = source, r.ExperimentSourceID, r.Stamp
	im.cur.stored = im.takeStored(r.RunID)
	if prev, ok := im.seenRuns[r.RunID]; ok && prev.source == source && prev.experiment != r.ExperimentSourceID && !im.sameTargetExperiment(source, prev.experiment, r.ExperimentSourceID) {
		return im.invalid(ctx, &sources.InputError{File: r.Origin.File, RunID: r.RunID,
			Err: fmt.Errorf("the run is also in experiment %s (%s), imported from there; MLflow keeps a run in one experiment, so this copy is left out", prev.experiment, prev.file)})
	}
	expID, ok := im.expIDs[expKey{source, r.ExperimentSourceID}]
	// An unread run (unchangedRun did not take it) is of an experiment left out or
	// rejected, or of another shard: counted as any run of those.
	if !ok || !im.opts.Filter.TakesRun(r) || r.Unchanged {
		im.cur.skip = true
		if !ok && !im.filteredExp(source, r.ExperimentSourceID) {
			// Its experiment was rejected; the rejection names it.
			im.cur.rejected = true
			im.committed.of(entityRuns).Rejected++
			for e, n := range read {
				im.committed.of(entity(e)).Rejected += n
			}
		} else {
			im.committed.of(entityRuns).Skipped++
			im.filteredRuns++
			for e, n := range read {
				im.committed.of(entity(e)).Skipped += n
			}
		}
		return nil
	}
	if err := rules.CheckArtifactLocation(r.ArtifactURI); err != nil {
		return im.invalid(ctx, &sources.InputError{File: r.Origin.File, RunID: r.RunID, Err: err})
	}
	r = im.placeRunArtifacts(source, r)
	present, err := im.runPresent(ctx, r.RunID)
	if err != nil {
		return err
	}
	if present {
		switch im.opts.OnExistingRun {
		case rules.ExistingRunSkip:
			im.cur.skip = true
			im.committed.of(entityRuns).Skipped++
			for e, n := range read {
				im.committed.of(entity(e)).Skipped += n
			}
			return nil
		case rules.ExistingRunFail:
			return fmt.Errorf("%s: run %s is already in the target (--on-existing-run fail); merge adds what it lacks, skip leaves it as it is", r.Origin.File, r.RunID)
		}
		return im.startMerge(ctx, source, r, expID)
	}
	out, err := im.runRows(r, expID)
	row, params, tags := out.Row, out.Params, out.Tags
	if err != nil {
		return im.invalid(ctx, rules.RunInputError(r, err))
	}
	im.runs.add(row)
	im.run.of(entityRuns).Created++
	for _, p := range params {
		im.params.add(keyValueRow{key: p.Key, value: p.Value, runUUID: r.RunID})
	}
	im.run.of(entityParams).Created += int64(len(params))
	im.run.of(entityParams).Skipped += int64(len(r.Params) - len(params))
	for _, t := range tags {
		im.tags.add(keyValueRow{key: t.Key, value: t.Value, runUUID: r.RunID})
	}
	im.run.of(entityTags).Created += int64(len(tags))
	im.run.of(entityTags).Skipped += out.DroppedTags // params left out are in the difference above
	if err := im.runInputs(r, expKey{source, r.ExperimentSourceID}, nil); err != nil {
		return im.invalid(ctx, &sources.InputError{File: r.Origin.File, RunID: r.RunID, Err: err})
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

// runPresent reports whether the run was already imported or is in the target, from
// what its window read where it can (readahead.go).
func (im *importer) runPresent(ctx context.Context, id string) (bool, error) {
	if _, ok := im.seenRuns[id]; ok {
		return true, nil
	}
	if !im.targetHasRuns {
		return false, nil
	}
	if im.cur.stored != nil {
		return im.cur.stored.present, nil
	}
	progress, err := im.store.RunsProgress(ctx, []string{id})
	if err != nil {
		return false, err
	}
	p, ok := progress[id]
	if ok {
		im.cur.stored = &storedRunData{present: true, progress: p}
	}
	return ok, nil
}

// runRows assembles a run (assemble.go) and puts what changed on the way in the report.
// The caller counts the keys left out (out.droppedParams, out.droppedTags).
func (im *importer) runRows(r *sources.Run, expID int64) (rules.AssembledRun, error) {
	out, err := im.asm.Run(r, expID)
	for _, n := range out.Notes {
		path := n.Path
		if path == "" {
			path = r.Origin.File
		}
		im.noteSkipped(path, n.Text)
	}
	return out, err
}

// runInputs buffers the run's inputs: dataset edges point at the target's dataset row,
// duplicates of an edge are dropped (MLflow keeps the first and its tags).
func (im *importer) runInputs(r *sources.Run, exp expKey, existing map[inputEdge]bool) error {
	if len(r.Inputs) == 0 {
		return nil
	}
	if !im.rev.HasTable("inputs") {
		im.run.of(entityInputs).Skipped += int64(len(r.Inputs))
		im.run.of(entityInputTags).Skipped += inputTagCount(r.Inputs)
		return im.lacking(r.Origin.File, "inputs", "", int64(len(r.Inputs)), "run inputs (datasets a run used)")
	}
	seen := map[inputEdge]bool{}
	for e := range existing {
		seen[e] = true
	}
	for _, in := range r.Inputs {
		if isModelEdge(in) && !im.rev.HasTable("logged_models") {
			// The model is left out with its table: an edge to it would point at nothing.
			im.run.of(entityInputs).Skipped++
			im.run.of(entityInputTags).Skipped += int64(len(in.Tags))
			if err := im.lacking(r.Origin.File, "logged_models", "", 1, "run inputs and outputs of logged models"); err != nil {
				return err
			}
			continue
		}
		sourceID := in.SourceID
		if in.SourceType == "DATASET" {
			uuid, ok := im.datasets[datasetKey{exp, in.SourceID}]
			if !ok {
				return fmt.Errorf("input refers to dataset %s, which experiment %s does not have", in.SourceID, exp.id)
			}
			sourceID = uuid
		}
		e := inputEdge{in.SourceType, sourceID, in.DestinationType, in.DestinationID}
		if seen[e] {
			im.run.of(entityInputs).Skipped++
			im.run.of(entityInputTags).Skipped += int64(len(in.Tags))
			continue
		}
		seen[e] = true
		for _, c := range []struct{ column, value string }{{"source_type", e.sourceType}, {"source_id", e.sourceID}, {"destination_type", e.destType}, {"destination_id", e.destID}} {
			if err := im.asm.CheckText("inputs", c.column, "input "+c.column, c.value); err != nil {
				return err
			}
		}
		uuid := in.UUID
		if uuid == "" {
			uuid = newUUID()
		}
		im.inputs.add(inputRow{inputUUID: uuid, sourceType: e.sourceType, sourceID: e.sourceID, destinationType: e.destType, destinationID: e.destID, step: in.Step})
		im.run.of(entityInputs).Created++
		for _, t := range in.Tags {
			if err := im.asm.CheckText("input_tags", "name", "input tag "+strconv.Quote(t.Key), t.Key); err != nil {
				return err
			}
			if err := im.asm.CheckText("input_tags", "value", "input tag "+strconv.Quote(t.Key)+" value", t.Value); err != nil {
				return err
			}
			im.inputTags.add(inputTagRow{inputUUID: uuid, name: t.Key, value: t.Value})
			im.run.of(entityInputTags).Created++
		}
	}
	return nil
}

// addMetrics buffers a chunk of the current run's history: sanitised, de-duplicated on
// MLflow's full primary key, and fed to the latest-metric tracker in logging order.
func (im *importer) addMetrics(ctx context.Context, m *sources.Metrics) error {
	cur := im.cur
	if cur == nil || cur.id != m.RunID {
		return fmt.Errorf("%s: metrics of run %s arrived outside that run (a bug in the source reader)", m.Origin.File, m.RunID)
	}
	count := im.committed.of(entityMetrics)
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
			im.run.of(entityMetrics).Skipped++
			continue
		}
		value, isNaN := rules.Sanitize(p.Value)
		if isNaN && !im.rev.HasColumn("metrics", "is_nan") {
			return im.invalid(ctx, &sources.InputError{File: m.Origin.File, RunID: m.RunID, Err: fmt.Errorf(
				"metric %q has a NaN value, which a database at %s cannot hold (MLflow 1.1 added metrics.is_nan): create the target for MLflow 1.1 or later", p.Key, im.rev)})
		}
		pt := rules.MetricPoint{Key: p.Key, Value: value, Timestamp: p.Timestamp, Step: p.Step, IsNaN: isNaN}
		k := rules.PointKey{Key: p.Key, Value: value, Timestamp: p.Timestamp, Step: p.Step, IsNaN: isNaN}
		if cur.points.Has(k) {
			im.run.of(entityMetrics).Skipped++
			continue
		}
		if !im.latest.Seen(p.Key) {
			if err := im.asm.CheckText("metrics", "key", "metric key "+strconv.Quote(p.Key), p.Key); err != nil {
				return im.invalid(ctx, &sources.InputError{File: m.Origin.File, RunID: m.RunID, Err: err})
			}
			if first := im.asm.KeyCollision(cur.metricKeys, p.Key); first != "" {
				if im.asm.Policy() != rules.CollisionKeepFirst {
					return im.invalid(ctx, &sources.InputError{File: m.Origin.File, RunID: m.RunID, Err: im.asm.CollisionError("metric", first, p.Key)})
				}
				cur.dropped[p.Key] = true
				im.run.of(entityMetrics).Skipped++
				im.noteSkipped(m.Origin.File, fmt.Sprintf("run %s: metric %q left out: it is the same key as %q under the target's collation %s", m.RunID, p.Key, first, im.collation.Name))
				continue
			}
		}
		if p.Timestamp < 0 {
			return im.invalid(ctx, &sources.InputError{File: m.Origin.File, RunID: m.RunID,
				Err: fmt.Errorf("metric %q has a negative timestamp %d", p.Key, p.Timestamp)})
		}
		if cur.points.Add(k) {
			im.noteOnce(fmt.Sprintf("run %s has over %d metric points: past that, a point is compared with the last %d for repeats (logging one twice puts it next to itself), "+
				"not with all, to keep memory flat; a repeat further apart meets the database's key (PostgreSQL into a new database removes it before building the key; elsewhere it stops the import)", cur.id, rules.ExactPoints, rules.WindowPoints))
		}
		im.latest.Observe(pt)
		im.metrics.add(metricRow{MetricPoint: pt, runUUID: cur.id})
		im.run.of(entityMetrics).Created++
	}
	im.progress.MetricRows += int64(len(m.Points))
	if im.buffered() > im.memoryRows() {
		return im.flushRunEarly(ctx)
	}
	return nil
}

// finishRun completes the current run: its latest_metrics rows, then the commit
// decision. It does nothing when no run is open.
func (im *importer) finishRun(ctx context.Context) error {
	cur := im.cur
	if cur == nil {
		return nil
	}
	im.cur = nil
	if cur.skip {
		return nil
	}
	hasLatest := im.rev.HasTable("latest_metrics")
	if cur.merge != nil {
		if hasLatest {
			if err := im.writeMergedLatest(ctx, cur); err != nil {
				return err
			}
		}
		if err := im.store.UpdateRun(ctx, cur.id, cur.merge.update); err != nil {
			return fmt.Errorf("run %s: %w", cur.id, err)
		}
	} else if hasLatest {
		for _, p := range im.latest.Points() {
			im.latestBuf.add(metricRow{MetricPoint: p, runUUID: cur.id})
			im.run.of(entityLatestMetrics).Created++
		}
	}
	if cur.merge == nil {
		im.compareLatest(cur)
	}
	im.latest.Reset()
	if cur.savepoint {
		if _, err := im.tx.Exec(ctx, "RELEASE SAVEPOINT mlflow_bulk_run"); err != nil {
			return fmt.Errorf("run %s: %w", cur.id, err)
		}
	}
	if cur.merge != nil && !cur.merge.moved && im.run.rowsWritten() == 0 {
		// The target held all of it: nothing was merged, the run was already there.
		im.run.of(entityRuns).Merged--
		im.run.of(entityRuns).Skipped++
	}
	switch {
	case im.run.of(entityRuns).Created > 0:
		im.batchCreated = append(im.batchCreated, cur.id)
	case im.run.of(entityRuns).Merged > 0:
		im.batchMerged = append(im.batchMerged, cur.id)
	}
	im.seenRuns[cur.id] = seenRun{source: cur.source, experiment: cur.experiment, file: cur.file}
	// What the target now holds of the run: what this import wrote, and, for a run it
	// merged into, what the target held before where that was read (-1: not known).
	held := im.run.of(entityParams).Created + im.run.of(entityTags).Created + im.run.of(entityMetrics).Created
	if st := cur.stored; cur.merge != nil && (st == nil || !st.complete || !st.metricsRead) {
		held = -1
	} else if cur.merge != nil {
		held += int64(len(st.params) + len(st.tags) + len(st.metrics))
	}
	im.keepStamp(cur.id, cur.stamp, held)
	im.batchRows += im.run.rowsWritten()
	im.batch.merge(im.run)
	im.run.reset()
	im.progress.Runs++
	im.notifyProgress()
	if im.batchRows >= im.opts.batchRows() {
		return im.commit(ctx, true)
	}
	return nil
}

// compareLatest reports, per key, where the source's own latest_metrics differs from
// the one recomputed from the history (which is what is written).
func (im *importer) compareLatest(cur *runState) {
	if len(cur.sourceLatest) == 0 {
		return
	}
	recomputed := map[string]rules.MetricPoint{}
	for _, p := range im.latest.Points() {
		recomputed[p.Key] = p
	}
	for _, m := range cur.sourceLatest {
		value, isNaN := rules.Sanitize(m.Value)
		theirs := rules.MetricPoint{Key: m.Key, Value: value, Timestamp: m.Timestamp, Step: m.Step, IsNaN: isNaN}
		ours, ok := recomputed[m.Key]
		if ok && ours == theirs {
			continue
		}
		im.report.LatestMetricDifferences = append(im.report.LatestMetricDifferences, LatestDifference{
			Source: im.sourceName, RunID: cur.id, Key: m.Key, SourceValue: theirs, Recomputed: ours, InHistory: ok})
	}
}

// isModelEdge tells a run's input or output that names a logged model.
func isModelEdge(in sources.Input) bool {
	return in.DestinationType == "MODEL_INPUT" || in.DestinationType == "MODEL_OUTPUT" || in.SourceType == "MODEL_INPUT" || in.SourceType == "MODEL_OUTPUT"
}

// sameTargetExperiment tells whether two experiments of one source go into the same
// experiment of the target (an export that holds one experiment twice, under
// bulk/experiments and bulk/models/experiments): a run in both is one run.
func (im *importer) sameTargetExperiment(source int, a, b string) bool {
	ta, okA := im.expIDs[expKey{source, a}]
	tb, okB := im.expIDs[expKey{source, b}]
	return okA && okB && ta == tb
}

// placeRunArtifacts is the run with its artifact location as the target keeps it
// (placedLocation). The run given is not changed.
func (im *importer) placeRunArtifacts(source int, r *sources.Run) *sources.Run {
	if placed := im.placedLocation(expKey{source, r.ExperimentSourceID}, r.ArtifactURI); placed != r.ArtifactURI {
		moved := *r
		moved.ArtifactURI = placed
		r = &moved
	}
	return r
}

// placedLocation is an artifact location of an entity of experiment exp as the target
// keeps it: rewritten by --artifact-root-map, then under the experiment's workspace
// where the server serves it from there.
func (im *importer) placedLocation(exp expKey, location string) string {
	if mapped, ok := im.mapLocation(location); ok {
		location = mapped
	}
	return im.workspaceLocation(im.experimentWorkspace(exp), location)
}
