package importer

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"

	"github.com/mlflow-bulk/mlflow-bulk/importer/rules"
	"github.com/mlflow-bulk/mlflow-bulk/sources"
)

// experiment maps a source experiment to the target. Names are unique in MLflow, so an
// experiment whose name the target has is merged into it; any other is created, keeping
// its source id when the target's column holds it and no experiment has it.
func (im *importer) experiment(ctx context.Context, source int, e *sources.Experiment) error {
	key := expKey{source, e.SourceID}
	im.committed.of(entityExperiments).Read++
	if ok, why := im.opts.Filter.TakesExperiment(e); !ok {
		im.filtered[key] = true
		im.committed.of(entityExperiments).Skipped++
		im.noteFiltered(fmt.Sprintf("experiment %q left out: %s", e.Name, why))
		return nil
	}
	if newName, ok := im.opts.Filter.Rename[e.Name]; ok {
		renamed := *e
		renamed.Name = newName
		e = &renamed
	}
	if mapped, ok := im.mapLocation(e.ArtifactLocation); ok {
		remapped := *e
		remapped.ArtifactLocation = mapped
		e = &remapped
	}
	if im.opts.TargetExperiment != "" {
		renamed := *e
		renamed.Name, renamed.Tags = im.opts.TargetExperiment, nil
		e = &renamed
	}
	if err := im.checkExperiment(e); err != nil {
		im.committed.of(entityExperiments).Rejected++
		return im.invalid(ctx, &sources.InputError{File: e.Origin.File, Err: err})
	}
	ws := im.workspaceOf(e.Workspace)
	if ws != "" || e.Workspace != "" {
		im.noteWorkspaceMerge("experiment", ws, e.Name, e.Workspace)
		placed := *e
		placed.Workspace, placed.ArtifactLocation = ws, im.workspaceLocation(ws, e.ArtifactLocation)
		e = &placed
	}
	if err := im.ensureWorkspace(ctx, ws); err != nil {
		return err
	}
	if im.workspaces.of == nil {
		im.workspaces.of = map[expKey]string{}
	}
	im.workspaces.of[key] = ws
	mapping := ExperimentMapping{Source: im.sourceName, SourceID: e.SourceID, Name: e.Name, Workspace: ws}
	id, found, err := im.experimentByName(ctx, ws, e.Name)
	var colliding *collidingNameError
	if errors.As(err, &colliding) {
		im.committed.of(entityExperiments).Rejected++
		return im.invalid(ctx, &sources.InputError{File: e.Origin.File, Err: err})
	}
	if err != nil {
		return err
	}
	if found {
		mapping.Action = "merged"
		im.committed.of(entityExperiments).Merged++
		if id == 0 && im.freshDefault && (ws == "" || ws == rules.DefaultWorkspace) {
			if err := im.adoptDefault(ctx, e); err != nil {
				return err
			}
		}
	} else {
		if id, err = im.createExperiment(ctx, e); err != nil {
			return err
		}
		mapping.Action = "created"
		im.batch.of(entityExperiments).Created++
	}
	mapping.TargetID = id
	mapping.IDChanged = strconv.FormatInt(id, 10) != e.SourceID
	im.expIDs[key] = id
	im.report.Experiments = append(im.report.Experiments, mapping)
	return im.experimentTags(ctx, id, e.Tags, !found, e.Origin.File)
}

func (im *importer) checkExperiment(e *sources.Experiment) error {
	if e.Name == "" {
		return fmt.Errorf("experiment %s has no name", e.SourceID)
	}
	what := fmt.Sprintf("experiment %s", e.SourceID)
	if err := im.asm.CheckText("experiments", "name", what+" name", e.Name); err != nil {
		return err
	}
	if err := im.asm.CheckText("experiments", "artifact_location", what+" artifact_location", e.ArtifactLocation); err != nil {
		return err
	}
	if err := rules.CheckArtifactLocation(e.ArtifactLocation); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if err := im.checkSourceWorkspace(e.Workspace); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if !im.rev.HasTable("experiment_tags") {
		return nil
	}
	for _, t := range e.Tags {
		if err := im.asm.CheckText("experiment_tags", "key", what+" tag key "+strconv.Quote(t.Key), t.Key); err != nil {
			return err
		}
		if err := im.asm.CheckText("experiment_tags", "value", what+" tag "+strconv.Quote(t.Key)+" value", t.Value); err != nil {
			return err
		}
		// MLflow rejects, never truncates, long experiment tag values, whatever the database.
		if limit := im.rev.Limits().ExperimentTagValue; len(t.Value) > limit && utf8.RuneCountInString(t.Value) > limit {
			return fmt.Errorf("%s tag %q value is %d characters; MLflow refuses experiment tag values over %d", what, t.Key, utf8.RuneCountInString(t.Value), limit)
		}
	}
	return nil
}

// experimentByName finds the target's experiment of a name. The database compares by
// its collation: where that makes another name equal ("Case-Exp" and "case-exp",
// "résumé" and "resume", "trail" and "trail " on MariaDB's usual ones), the two cannot
// both exist there, and merging them would put two experiments' runs in one: that is
// an error naming both.
func (im *importer) experimentByName(ctx context.Context, ws, name string) (int64, bool, error) {
	cache, err := im.experimentCache(ctx)
	if err != nil {
		return 0, false, err
	}
	if cache != nil {
		id, found := cache.byName[workspaceName(ws, name)]
		return id, found, nil // names compare exactly: no other spelling can match
	}
	id, stored, found, err := im.store.ExperimentByName(ctx, ws, name)
	if err == nil && found && stored != name {
		return 0, false, &collidingNameError{name: name, stored: stored, id: id, collation: im.collation.Name}
	}
	return id, found, err
}

// collidingNameError is an experiment name the target's collation makes equal to the
// name of another experiment.
type collidingNameError struct {
	name, stored string
	id           int64
	collation    string
}

func (e *collidingNameError) Error() string {
	return fmt.Sprintf("experiment %q is the same name as the target's experiment %d %q under the target's collation %s, so the database cannot hold both and MLflow "+
		"would merge them; import it under another name with --rename-experiment %q=NEW", e.name, e.id, e.stored, e.collation, e.name)
}

func (im *importer) createExperiment(ctx context.Context, e *sources.Experiment) (int64, error) {
	id, err := im.chooseExperimentID(ctx, e.SourceID)
	if err != nil {
		return 0, err
	}
	if err := im.store.CreateExperiment(ctx, id, e); err != nil {
		return 0, err
	}
	im.noteCreatedExperiment(id, workspaceName(e.Workspace, e.Name))
	return id, nil
}

// chooseExperimentID keeps the source id when it is an integer the target's column
// holds and no experiment uses; otherwise it takes the next id after the largest.
func (im *importer) chooseExperimentID(ctx context.Context, sourceID string) (int64, error) {
	cache, err := im.experimentCache(ctx)
	if err != nil {
		return 0, err
	}
	if id, err := strconv.ParseInt(sourceID, 10, 64); err == nil && id >= 0 && id <= im.dialect.MaxExperimentID() {
		var taken bool
		if cache != nil {
			taken = cache.ids[id]
		} else if taken, err = im.store.ExperimentIDTaken(ctx, id); err != nil {
			return 0, err
		}
		if !taken {
			return id, nil
		}
	}
	var maxID int64
	if cache != nil {
		maxID = cache.maxID
	} else if maxID, err = im.store.MaxExperimentID(ctx); err != nil {
		return 0, err
	}
	if maxID >= im.dialect.MaxExperimentID() {
		return 0, errors.New("no experiment id left in the target: its largest id is the column's maximum")
	}
	return maxID + 1, nil
}

// experimentTags writes a source experiment's tags. Into an experiment that already
// existed only keys it lacks are added: an import never overwrites the target's tags.
func (im *importer) experimentTags(ctx context.Context, id int64, tags []sources.Tag, created bool, origin string) error {
	count := im.committed.of(entityExperimentTags)
	count.Read += int64(len(tags))
	if len(tags) == 0 {
		return nil
	}
	if !im.rev.HasTable("experiment_tags") {
		count.Skipped += int64(len(tags))
		return im.lacking(origin, "experiment_tags", "", int64(len(tags)), "experiment tags")
	}
	// Keys are compared as the target compares them, so a collation that folds case
	// cannot turn an existing key into a duplicate-key error.
	existing := map[string]sources.Tag{}
	if !created {
		stored, err := im.store.ExperimentTags(ctx, id)
		if err != nil {
			return err
		}
		for _, t := range stored { // folded after the read: see storedKeyValues
			existing[im.keys.fold(t.Key)] = t
		}
	}
	for _, t := range tags {
		if first, ok := existing[im.keys.fold(t.Key)]; ok {
			switch {
			case first.Key != t.Key:
				count.Skipped++
				im.noteSkipped("", fmt.Sprintf("experiment %d: tag %q left out: the experiment has %q, the same key under the target's collation %s", id, t.Key, first.Key, im.collation.Name))
			case first.Value != t.Value:
				count.Skipped++
				im.noteSkipped("", fmt.Sprintf("experiment %d: tag %q = %q left out: the experiment has it as %q, and an import keeps the target's tags", id, t.Key, t.Value, first.Value))
			default:
				count.Merged++
			}
			continue
		}
		if err := im.store.AddExperimentTag(ctx, id, t); err != nil {
			return fmt.Errorf("experiment %d: %w", id, err)
		}
		existing[im.keys.fold(t.Key)] = t
		im.batch.of(entityExperimentTags).Created++
	}
	return nil
}

// dataset maps a source dataset to the target's row for (experiment, name, digest),
// creating it when missing, as MLflow's log_inputs does.
func (im *importer) dataset(ctx context.Context, source int, d *sources.Dataset) error {
	count := im.committed.of(entityDatasets)
	count.Read++
	exp := expKey{source, d.ExperimentSourceID}
	expID, ok := im.expIDs[exp]
	if !ok {
		count.Skipped++
		return nil
	}
	if !im.rev.HasTable("datasets") {
		count.Skipped++
		return im.lacking(d.Origin.File, "datasets", "", 1, "datasets")
	}
	what := fmt.Sprintf("dataset %q", d.Name)
	if err := im.asm.CheckRecord(what, d); err != nil {
		count.Rejected++
		return im.invalid(ctx, &sources.InputError{File: d.Origin.File, Err: err})
	}
	for _, c := range []struct{ column, value string }{{"name", d.Name}, {"digest", d.Digest}, {"dataset_source_type", d.SourceType}} {
		if err := im.asm.CheckText("datasets", c.column, what+" "+c.column, c.value); err != nil {
			return im.invalid(ctx, &sources.InputError{File: d.Origin.File, Err: err})
		}
	}
	uuid, found, err := im.store.DatasetUUID(ctx, expID, d.Name, d.Digest)
	if err != nil {
		return err
	}
	if found {
		count.Merged++
	} else {
		uuid = d.UUID
		if uuid == "" {
			uuid = newUUID()
		} else if taken, err := im.store.DatasetUUIDTaken(ctx, uuid); err != nil {
			return err
		} else if taken {
			uuid = newUUID()
		}
		if err := im.store.CreateDataset(ctx, uuid, expID, d); err != nil {
			return err
		}
		im.batch.of(entityDatasets).Created++
	}
	im.datasets[datasetKey{exp, d.Key}] = uuid
	return nil
}

func optionalText(s *string) any {
	if s == nil {
		return nil
	}
	return *s
}

// adoptDefault gives the Default experiment this import created the attributes of the
// source's Default: the target then holds what the source's MLflow made.
func (im *importer) adoptDefault(ctx context.Context, e *sources.Experiment) error {
	im.freshDefault = false
	return im.store.AdoptDefault(ctx, e)
}

// noteFiltered records an experiment the filter left out.
func (im *importer) noteFiltered(reason string) {
	im.report.Notices = append(im.report.Notices, reason)
}

func (im *importer) filteredExp(source int, id string) bool {
	return im.filtered[expKey{source, id}]
}
