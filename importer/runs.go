package importer

import (
	"context"
	"fmt"
	"strconv"
	"unicode/utf8"

	"github.com/mlflow-bulk/mlflow-bulk/sources"
)

// runNameTag is the tag MLflow keeps equal to runs.name.
const runNameTag = "mlflow.runName"

// startRun begins a run: it decides whether to write it and buffers its row, params,
// tags and inputs. Its metrics follow in addMetrics; finishRun completes it.
func (im *importer) startRun(ctx context.Context, source int, r *sources.Run) error {
	im.committed["runs"].Read++
	im.committed["params"].Read += int64(len(r.Params))
	im.committed["tags"].Read += int64(len(r.Tags))
	im.committed["inputs"].Read += int64(len(r.Inputs))
	im.cur = &runState{id: r.RunID, points: map[pointKey]struct{}{}, metricKeys: map[string]string{}, dropped: map[string]bool{}, file: r.Origin.File, sourceLatest: r.LatestMetrics}
	for i, f := range im.flushers {
		im.marks[i] = f.len()
	}
	expID, ok := im.expIDs[expKey{source, r.ExperimentSourceID}]
	if !ok || !im.opts.Filter.takesRun(r) {
		im.cur.skip = true
		if !ok && !im.filteredExp(source, r.ExperimentSourceID) {
			// Its experiment was rejected; the rejection names it.
			im.committed["runs"].Rejected++
		} else {
			im.committed["runs"].Skipped++
			im.filteredRuns++
		}
		return nil
	}
	if mapped, ok := mapArtifact(im.opts.ArtifactMap, r.ArtifactURI); ok {
		remapped := *r
		remapped.ArtifactURI = mapped
		r = &remapped
	}
	present, err := im.runPresent(ctx, r.RunID)
	if err != nil {
		return err
	}
	if present {
		switch im.opts.OnExistingRun {
		case ExistingRunSkip:
			im.cur.skip = true
			im.committed["runs"].Skipped++
			im.committed["params"].Skipped += int64(len(r.Params))
			im.committed["tags"].Skipped += int64(len(r.Tags))
			im.committed["inputs"].Skipped += int64(len(r.Inputs))
			return nil
		case ExistingRunFail:
			return fmt.Errorf("%s: run %s is already in the target (--on-existing-run fail); merge adds what it lacks, skip leaves it as it is", r.Origin.File, r.RunID)
		}
		return im.startMerge(ctx, source, r, expID)
	}
	row, params, tags, err := im.runRows(r, expID)
	if err == nil {
		err = im.checkRun(row, params, tags)
	}
	if err != nil {
		return im.invalid(ctx, &sources.InputError{File: r.Origin.File, RunID: r.RunID, Err: err})
	}
	im.runs.add(row)
	im.run["runs"].Created++
	for _, p := range params {
		im.params.add(keyValueRow{key: p.Key, value: p.Value, runUUID: r.RunID})
	}
	im.run["params"].Created += int64(len(params))
	im.run["params"].Skipped += int64(len(r.Params) - len(params))
	for _, t := range tags {
		im.tags.add(keyValueRow{key: t.Key, value: t.Value, runUUID: r.RunID})
	}
	im.run["tags"].Created += int64(len(tags))
	if err := im.runInputs(r, expKey{source, r.ExperimentSourceID}, nil); err != nil {
		return im.invalid(ctx, &sources.InputError{File: r.Origin.File, RunID: r.RunID, Err: err})
	}
	return nil
}

// runPresent reports whether the run was already imported or is in the target.
func (im *importer) runPresent(ctx context.Context, id string) (bool, error) {
	if _, ok := im.seenRuns[id]; ok {
		return true, nil
	}
	if !im.targetHasRuns {
		return false, nil
	}
	return im.exists(ctx, "SELECT COUNT(*) FROM runs WHERE run_uuid = ?", id)
}

// runRows builds the run's rows the way MLflow's SQL store holds them: runs.name and
// the mlflow.runName tag equal, params unique per key (a conflicting second value is
// an error, as in MLflow), tags unique per key with the last value winning.
func (im *importer) runRows(r *sources.Run, expID int64) (runRow, []sources.Tag, []sources.Tag, error) {
	row := runRow{
		runUUID: r.RunID, name: r.Name, sourceType: string(r.SourceType), sourceName: r.SourceName,
		entryPointName: r.EntryPointName, userID: r.UserID, status: string(r.Status),
		sourceVersion: r.SourceVersion, lifecycleStage: string(r.LifecycleStage), artifactURI: r.ArtifactURI,
		startTime: r.StartTime, endTime: r.EndTime, deletedTime: r.DeletedTime, experimentID: expID,
	}
	params := make([]sources.Tag, 0, len(r.Params))
	seenParams := make(map[string]string, len(r.Params))
	for _, p := range r.Params {
		if old, ok := seenParams[p.Key]; ok {
			if old != p.Value {
				return row, nil, nil, fmt.Errorf("param %q has two values (%q and %q); MLflow never changes a param", p.Key, old, p.Value)
			}
			continue
		}
		seenParams[p.Key] = p.Value
		params = append(params, p)
	}
	limits := im.rev.Limits()
	if err := im.limitValues(r, "param", params, limits.ParamValue); err != nil {
		return row, nil, nil, err
	}
	params, err := im.dropCollisions(r, "param", params)
	if err != nil {
		return row, nil, nil, err
	}
	tags := make([]sources.Tag, 0, len(r.Tags)+1)
	tagIndex := make(map[string]int, len(r.Tags))
	for _, t := range r.Tags {
		if i, ok := tagIndex[t.Key]; ok {
			tags[i].Value = t.Value
			continue
		}
		tagIndex[t.Key] = len(tags)
		tags = append(tags, t)
	}
	// Runs before MLflow 1.30 keep their name only in the tag; later ones in both. Rows
	// MLflow wrote itself (a database source) are copied as they are.
	if r.Verbatim {
		// nothing to reconcile
	} else if i, ok := tagIndex[runNameTag]; ok {
		if row.name == "" {
			row.name = tags[i].Value
		} else {
			tags[i].Value = row.name
		}
	} else if row.name != "" {
		tags = append(tags, sources.Tag{Key: runNameTag, Value: row.name})
	}
	if err := im.limitValues(r, "tag", tags, limits.TagValue); err != nil {
		return row, nil, nil, err
	}
	tags, err = im.dropCollisions(r, "tag", tags)
	return row, params, tags, err
}

// limitValues applies MLflow's value limit of the target's revision, on every database:
// values over it are cut where that MLflow truncates (2.11 and later) and reported,
// otherwise the run is invalid, as MLflow would have refused them.
func (im *importer) limitValues(r *sources.Run, what string, kvs []sources.Tag, limit int) error {
	truncates := im.rev.Limits().Truncates
	for i, kv := range kvs {
		if len(kv.Value) <= limit {
			continue
		}
		n := utf8.RuneCountInString(kv.Value)
		if n <= limit {
			continue
		}
		if !truncates {
			return fmt.Errorf("%s %q value is %d characters; MLflow at revision %s refuses values over %d", what, kv.Key, n, im.rev, limit)
		}
		kvs[i].Value = truncateRunes(kv.Value, limit)
		im.noteSkipped(r.Origin.File, fmt.Sprintf("run %s: %s %q value truncated from %d to %d characters, as MLflow at revision %s does", r.RunID, what, kv.Key, n, limit, im.rev))
	}
	return nil
}

// truncateRunes cuts s to n characters (Python counts code points, as this does).
func truncateRunes(s string, n int) string {
	i := 0
	for pos := range s {
		if i == n {
			return s[:pos]
		}
		i++
	}
	return s
}

// dropCollisions applies the key-collision policy to a run's params or tags.
func (im *importer) dropCollisions(r *sources.Run, what string, kvs []sources.Tag) ([]sources.Tag, error) {
	if im.collation.Exact() {
		return kvs, nil
	}
	seen := make(map[string]string, len(kvs))
	kept := kvs[:0]
	for _, kv := range kvs {
		first := im.keyCollision(seen, kv.Key)
		if first == "" {
			kept = append(kept, kv)
			continue
		}
		if im.collisionPolicy() != CollisionKeepFirst {
			return nil, im.collisionError(what, first, kv.Key)
		}
		im.committed[what+"s"].Skipped++
		im.noteSkipped(r.Origin.File, fmt.Sprintf("run %s: %s %q left out: it is the same key as %q under the target's collation %s", r.RunID, what, kv.Key, first, im.collation.Name))
	}
	return kept, nil
}

// checkRun rejects values the target cannot store, naming the run's field.
func (im *importer) checkRun(row runRow, params, tags []sources.Tag) error {
	fields := []struct{ column, value string }{
		{"run_uuid", row.runUUID}, {"name", row.name}, {"source_type", row.sourceType},
		{"source_name", row.sourceName}, {"entry_point_name", row.entryPointName},
		{"user_id", row.userID}, {"status", row.status}, {"source_version", row.sourceVersion},
		{"lifecycle_stage", row.lifecycleStage}, {"artifact_uri", row.artifactURI},
	}
	for _, f := range fields {
		if err := im.checkText("runs", f.column, f.column, f.value); err != nil {
			return err
		}
	}
	for _, set := range []struct {
		table string
		kvs   []sources.Tag
	}{{"params", params}, {"tags", tags}} {
		what := map[string]string{"params": "param", "tags": "tag"}[set.table]
		for _, kv := range set.kvs {
			if err := im.checkText(set.table, "key", what+" key "+strconv.Quote(kv.Key), kv.Key); err != nil {
				return err
			}
			if err := im.checkText(set.table, "value", what+" "+strconv.Quote(kv.Key)+" value", kv.Value); err != nil {
				return err
			}
		}
	}
	return nil
}

// runInputs buffers the run's inputs: dataset edges point at the target's dataset row,
// duplicates of an edge are dropped (MLflow keeps the first and its tags).
func (im *importer) runInputs(r *sources.Run, exp expKey, existing map[inputEdge]bool) error {
	if len(r.Inputs) == 0 {
		return nil
	}
	if !im.rev.HasTable("inputs") {
		im.run["inputs"].Skipped += int64(len(r.Inputs))
		im.noteOnce(fmt.Sprintf("datasets and inputs left out: the target's revision %s has no inputs table", im.rev.ID))
		return nil
	}
	seen := map[inputEdge]bool{}
	for e := range existing {
		seen[e] = true
	}
	for _, in := range r.Inputs {
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
			im.run["inputs"].Skipped++
			continue
		}
		seen[e] = true
		for _, c := range []struct{ column, value string }{{"source_type", e.sourceType}, {"source_id", e.sourceID}, {"destination_type", e.destType}, {"destination_id", e.destID}} {
			if err := im.checkText("inputs", c.column, "input "+c.column, c.value); err != nil {
				return err
			}
		}
		uuid := in.UUID
		if uuid == "" {
			uuid = newUUID()
		}
		im.inputs.add(inputRow{inputUUID: uuid, sourceType: e.sourceType, sourceID: e.sourceID, destinationType: e.destType, destinationID: e.destID, step: in.Step})
		im.run["inputs"].Created++
		for _, t := range in.Tags {
			if err := im.checkText("input_tags", "name", "input tag "+strconv.Quote(t.Key), t.Key); err != nil {
				return err
			}
			if err := im.checkText("input_tags", "value", "input tag "+strconv.Quote(t.Key)+" value", t.Value); err != nil {
				return err
			}
			im.inputTags.add(inputTagRow{inputUUID: uuid, name: t.Key, value: t.Value})
			im.run["input_tags"].Created++
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
	count := im.committed["metrics"]
	count.Read += int64(len(m.Points))
	if cur.skip {
		count.Skipped += int64(len(m.Points))
		return nil
	}
	for _, p := range m.Points {
		if cur.dropped[p.Key] {
			im.run["metrics"].Skipped++
			continue
		}
		value, isNaN := Sanitize(p.Value)
		pt := MetricPoint{Key: p.Key, Value: value, Timestamp: p.Timestamp, Step: p.Step, IsNaN: isNaN}
		k := pointKey{key: p.Key, value: value, timestamp: p.Timestamp, step: p.Step, isNaN: isNaN}
		if _, dup := cur.points[k]; dup {
			im.run["metrics"].Skipped++
			continue
		}
		if !im.latest.Seen(p.Key) {
			if err := im.checkText("metrics", "key", "metric key "+strconv.Quote(p.Key), p.Key); err != nil {
				return im.invalid(ctx, &sources.InputError{File: m.Origin.File, RunID: m.RunID, Err: err})
			}
			if first := im.keyCollision(cur.metricKeys, p.Key); first != "" {
				if im.collisionPolicy() != CollisionKeepFirst {
					return im.invalid(ctx, &sources.InputError{File: m.Origin.File, RunID: m.RunID, Err: im.collisionError("metric", first, p.Key)})
				}
				cur.dropped[p.Key] = true
				im.run["metrics"].Skipped++
				im.noteSkipped(m.Origin.File, fmt.Sprintf("run %s: metric %q left out: it is the same key as %q under the target's collation %s", m.RunID, p.Key, first, im.collation.Name))
				continue
			}
		}
		if p.Timestamp < 0 {
			return im.invalid(ctx, &sources.InputError{File: m.Origin.File, RunID: m.RunID,
				Err: fmt.Errorf("metric %q has a negative timestamp %d", p.Key, p.Timestamp)})
		}
		cur.points[k] = struct{}{}
		im.latest.Observe(pt)
		im.metrics.add(metricRow{MetricPoint: pt, runUUID: cur.id})
		im.run["metrics"].Created++
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
	switch {
	case !im.rev.HasTable("latest_metrics"):
	case cur.merge != nil:
		if err := im.writeMergedLatest(ctx, cur); err != nil {
			return err
		}
	default:
		for _, p := range im.latest.Points() {
			im.latestBuf.add(metricRow{MetricPoint: p, runUUID: cur.id})
			im.run["latest_metrics"].Created++
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
	im.seenRuns[cur.id] = struct{}{}
	im.batchRows += im.run.rowsWritten()
	im.batch.merge(im.run)
	im.run.reset()
	im.progress.Runs++
	if im.opts.Progress != nil {
		im.opts.Progress(im.progress)
	}
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
	recomputed := map[string]MetricPoint{}
	for _, p := range im.latest.Points() {
		recomputed[p.Key] = p
	}
	for _, m := range cur.sourceLatest {
		value, isNaN := Sanitize(m.Value)
		theirs := MetricPoint{Key: m.Key, Value: value, Timestamp: m.Timestamp, Step: m.Step, IsNaN: isNaN}
		ours, ok := recomputed[m.Key]
		if ok && ours == theirs {
			continue
		}
		im.report.LatestMetricDifferences = append(im.report.LatestMetricDifferences, LatestDifference{
			Source: im.sourceName, RunID: cur.id, Key: m.Key, SourceValue: theirs, Recomputed: ours, InHistory: ok})
	}
}
