package importer

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/mlflow-bulk/mlflow-bulk/artifacts"
	"github.com/mlflow-bulk/mlflow-bulk/importer/rules"
	"github.com/mlflow-bulk/mlflow-bulk/remedy"
	"github.com/mlflow-bulk/mlflow-bulk/schema"

	"github.com/mlflow-bulk/mlflow-bulk/sources"
)

// insertRow inserts one row of the registry or a logged model, the columns the target's
// revision has; its values were checked whole before (checkRecord), this is a backstop.
func (b base) insertRow(ctx context.Context, table string, values map[string]any) error {
	for c, v := range values {
		if err := b.asm.CheckValue(table+"."+c, v); err != nil {
			return err
		}
	}
	return b.store.InsertRow(ctx, table, values)
}

func text(s *string) any {
	if s == nil {
		return nil
	}
	return *s
}

// entityWriter writes what is not part of a run: logged models, the model registry and
// traces, each into the experiment and workspace its source's went to.
type entityWriter struct {
	base
	exps   *experimentMapper
	runs   runLookup
	widths *columnWidths
	// modelsWritten names where each registered model this import wrote came from, so a
	// conflict between two of its sources names both.
	modelsWritten map[string]string
	// tableColumns caches the target's columns of the trace tables written as rows.
	tableColumns map[string]map[string]schema.Column
	// earlierInImport: the registered model being written is one an earlier source of
	// this import wrote, not one the target held before.
	earlierInImport bool
}

// loggedModel writes an MLflow 3 logged model into the experiment its source experiment
// went to. A model the target already holds (same id) is skipped, as runs are.
func (ew *entityWriter) loggedModel(ctx context.Context, source int, m *sources.LoggedModel) error {
	err := ew.asm.CheckRecord("logged model "+m.ModelID, m)
	if locErr := rules.CheckArtifactLocation(m.ArtifactLocation); err == nil && locErr != nil {
		err = fmt.Errorf("logged model %s: %w", m.ModelID, locErr)
	}
	if err != nil {
		ew.committed.of(entityLoggedModels).Read++
		ew.committed.of(entityLoggedModels).Rejected++
		return ew.invalid(&sources.InputError{File: m.Origin.File, Err: err})
	}
	expID, write, err := ew.newExperimentEntity(ctx, entityLoggedModels, ew.rev.HasTable("logged_models"), expKey{source, m.ExperimentSourceID},
		m.Origin.File, "logged_models", "model_id", m.ModelID)
	if err != nil || !write {
		return err
	}
	if placed := ew.exps.placedLocation(expKey{source, m.ExperimentSourceID}, m.ArtifactLocation); placed != m.ArtifactLocation {
		moved := *m
		moved.ArtifactLocation = placed
		m = &moved
	}
	if mover := ew.exps.mover; mover != nil {
		copied, err := mover.move(ctx, "logged model "+m.ModelID, m.Origin.File, "", m.ArtifactsAt, m.ArtifactLocation,
			ew.exps.copiedLocation(expKey{source, m.ExperimentSourceID}, "models", m.ModelID, "artifacts"))
		if err != nil {
			return err
		}
		moved := *m
		moved.ArtifactLocation = copied
		m = &moved
	}
	err = ew.insertRow(ctx, "logged_models", map[string]any{
		"model_id": m.ModelID, "experiment_id": expID, "name": m.Name, "artifact_location": m.ArtifactLocation,
		"creation_timestamp_ms": m.CreationTimestamp, "last_updated_timestamp_ms": m.LastUpdatedTimestamp, "status": m.Status,
		"lifecycle_stage": text(m.LifecycleStage), "model_type": text(m.ModelType), "source_run_id": text(m.SourceRunID), "status_message": text(m.StatusMessage),
	})
	if err != nil {
		return err
	}
	for _, p := range m.Params {
		if err := ew.insertRow(ctx, "logged_model_params", map[string]any{"model_id": m.ModelID, "experiment_id": expID, "param_key": p.Key, "param_value": p.Value}); err != nil {
			return err
		}
	}
	for _, tag := range m.Tags {
		if err := ew.insertRow(ctx, "logged_model_tags", map[string]any{"model_id": m.ModelID, "experiment_id": expID, "tag_key": tag.Key, "tag_value": tag.Value}); err != nil {
			return err
		}
	}
	for _, mm := range m.Metrics {
		present, err := ew.runs.hasRun(ctx, mm.RunID)
		if err != nil {
			return err
		}
		if !present {
			ew.noteSkipped(m.Origin.File, fmt.Sprintf("logged model %s: metric %q of run %s left out: the run is not in the target", m.ModelID, mm.Name, mm.RunID))
			continue
		}
		var value any
		if mm.Value != nil {
			value, _ = rules.Sanitize(*mm.Value)
		}
		metricExp, ok := ew.exps.expIDs[expKey{source, mm.ExperimentSourceID}]
		if !ok {
			metricExp = expID
		}
		err = ew.insertRow(ctx, "logged_model_metrics", map[string]any{
			"model_id": m.ModelID, "metric_name": mm.Name, "metric_timestamp_ms": mm.Timestamp, "metric_step": mm.Step, "metric_value": value,
			"experiment_id": metricExp, "run_id": mm.RunID, "dataset_uuid": text(mm.DatasetUUID), "dataset_name": text(mm.DatasetName), "dataset_digest": text(mm.DatasetDigest),
		})
		if err != nil {
			return err
		}
	}
	ew.batch.of(entityLoggedModels).Created++
	return nil
}

// registeredModel merges a registered model by name: a new name is created with all its
// versions, tags and aliases; into an existing model only what it lacks is added, and a
// version or alias that differs from the target's is a conflict, handled by the policy.
func (ew *entityWriter) registeredModel(ctx context.Context, m *sources.RegisteredModel) error {
	count, versions := ew.committed.of(entityRegisteredModels), ew.committed.of(entityModelVersions)
	count.Read++
	versions.Read += int64(len(m.Versions))
	if err := ew.asm.CheckRecord("registered model "+strconv.Quote(m.Name), m); err != nil {
		count.Rejected++
		versions.Rejected += int64(len(m.Versions))
		ew.committed.of(entityModelAliases).Read += int64(len(m.Aliases))
		ew.committed.of(entityModelAliases).Rejected += int64(len(m.Aliases))
		return ew.invalid(&sources.InputError{File: m.Origin.File, Err: err})
	}
	if !ew.rev.HasTable("registered_models") {
		count.Skipped++
		versions.Skipped += int64(len(m.Versions))
		ew.committed.of(entityModelAliases).Read += int64(len(m.Aliases))
		ew.committed.of(entityModelAliases).Skipped += int64(len(m.Aliases))
		return ew.lacking(m.Origin.File, "registered_models", "", 1, "registered models (the model registry)")
	}
	if err := ew.runs.flushAll(ctx); err != nil {
		return err
	}
	// Names are unique within a workspace: the model merges with the one of its
	// workspace in the target, never another's.
	if err := ew.exps.checkSourceWorkspace(m.Workspace); err != nil {
		return ew.invalid(&sources.InputError{File: m.Origin.File, Err: fmt.Errorf("registered model %q: %w", m.Name, err)})
	}
	ws := ew.exps.workspaceOf(m.Workspace)
	if err := ew.exps.ensureWorkspace(ctx, ws); err != nil {
		return err
	}
	ew.exps.noteWorkspaceMerge("registered model", ws, m.Name, m.Workspace)
	placed := *m
	placed.Workspace = ws
	m = &placed
	stored, exists, err := ew.store.RegisteredModelName(ctx, ws, m.Name)
	if err != nil {
		return err
	}
	if exists && stored != m.Name {
		// Two names MLflow keeps apart that the target's collation makes one: merging
		// them would mix one model's versions into the other's.
		return ew.modelNameCollision(ctx, m, stored)
	}
	if !exists {
		err := ew.insertRow(ctx, "registered_models", inWorkspace(ws, map[string]any{"name": m.Name, "creation_time": optional(m.CreationTime),
			"last_updated_time": optional(m.LastUpdatedTime), "description": text(m.Description)}))
		if err != nil {
			return err
		}
		ew.batch.of(entityRegisteredModels).Created++
	} else {
		count.Merged++
	}
	target, err := ew.store.ModelVersions(ctx, ws, m.Name)
	if err != nil {
		return err
	}
	// Where the target's model came from, for conflict messages: this very import (an
	// earlier source, or an earlier file of this one) or the target as it was.
	theirs := "the target's"
	written := workspaceName(ws, m.Name)
	_, ew.earlierInImport = ew.modelsWritten[written]
	if from, ok := ew.modelsWritten[written]; ok {
		theirs = "the one imported from " + from + " earlier in this import"
	} else {
		if ew.modelsWritten == nil {
			ew.modelsWritten = map[string]string{}
		}
		ew.modelsWritten[written] = ew.sourceName
		if m.Origin.File != "" {
			ew.modelsWritten[written] = m.Origin.File
		}
	}
	if m.Origin.File != "" {
		theirs += " (this one is from " + m.Origin.File + ")"
	}
	for _, v := range m.Versions {
		if have, ok := target[v.Version]; ok {
			if have == versionSignature(v) {
				versions.Skipped++
				continue
			}
			if err := ew.modelConflict(m.Name, fmt.Sprintf("version %d differs from %s (%s against %s)", v.Version, theirs, versionSignature(v), have)); err != nil {
				return err
			}
			versions.Skipped++
			continue
		}
		if err := ew.insertVersion(ctx, m, v); err != nil {
			return err
		}
		target[v.Version] = versionSignature(v)
		ew.batch.of(entityModelVersions).Created++
	}
	if err := ew.registryTags(ctx, m); err != nil {
		return err
	}
	return ew.registryAliases(ctx, m, target)
}

func (ew *entityWriter) modelConflict(name, what string) error {
	// The model the target holds came from an earlier source of this very import, or
	// was there before: keep-target keeps the one that is there either way.
	kept := "the target's"
	if ew.earlierInImport {
		kept = "the one imported first"
	}
	if ew.opts.OnModelConflict == rules.ModelConflictKeepTarget {
		ew.noteSkipped("", fmt.Sprintf("registered model %q: %s; %s is kept (%s keep-target)", name, what, kept, remedy.Mention(OptionOnModelConflict)))
		return nil
	}
	return remedy.With(fmt.Errorf("registered model %q: %s", name, what),
		remedy.Remedy{Option: OptionOnModelConflict, Value: string(rules.ModelConflictKeepTarget), Does: "to keep " + kept + " and import the rest"})
}

// versionSignature is what makes two versions of a model the same version.
func versionSignature(v sources.ModelVersion) string {
	s := func(p *string) string {
		if p == nil {
			return "∅"
		}
		return *p
	}
	return fmt.Sprintf("source=%s run=%s status=%s stage=%s", s(v.Source), s(v.RunID), s(v.Status), s(v.CurrentStage))
}

// inWorkspace adds the workspace column to a registry row's values where the target
// has workspaces.
func inWorkspace(ws string, values map[string]any) map[string]any {
	if ws != "" {
		values["workspace"] = ws
	}
	return values
}

func (ew *entityWriter) insertVersion(ctx context.Context, m *sources.RegisteredModel, v sources.ModelVersion) error {
	name := m.Name
	v, err := ew.relocateVersion(ctx, v)
	if err != nil {
		return err
	}
	err = ew.insertRow(ctx, "model_versions", inWorkspace(m.Workspace, map[string]any{
		"name": name, "version": v.Version, "creation_time": optional(v.CreationTime), "last_updated_time": optional(v.LastUpdatedTime),
		"description": text(v.Description), "user_id": text(v.UserID), "current_stage": text(v.CurrentStage), "source": text(v.Source),
		"run_id": text(v.RunID), "status": text(v.Status), "status_message": text(v.StatusMessage), "run_link": text(v.RunLink),
		"storage_location": text(v.StorageLocation),
	}))
	if err != nil {
		return err
	}
	if len(v.Tags) > 0 && !ew.rev.HasTable("model_version_tags") {
		return ew.lacking(m.Origin.File, "model_version_tags", "", int64(len(v.Tags)), "model version tags")
	}
	for _, t := range v.Tags {
		if err := ew.insertRow(ctx, "model_version_tags", inWorkspace(m.Workspace, map[string]any{"key": t.Key, "value": t.Value, "name": name, "version": v.Version})); err != nil {
			return err
		}
	}
	return nil
}

func (ew *entityWriter) registryTags(ctx context.Context, m *sources.RegisteredModel) error {
	if len(m.Tags) == 0 {
		return nil
	}
	if !ew.rev.HasTable("registered_model_tags") {
		return ew.lacking(m.Origin.File, "registered_model_tags", "", int64(len(m.Tags)), "registered model tags")
	}
	for _, t := range m.Tags {
		have, found, err := ew.store.RegisteredModelTag(ctx, m.Workspace, m.Name, t.Key)
		if err != nil {
			return err
		}
		if found {
			if have == nil || *have != t.Value {
				if err := ew.modelConflict(m.Name, fmt.Sprintf("tag %q differs from the target's", t.Key)); err != nil {
					return err
				}
			}
			continue
		}
		if err := ew.insertRow(ctx, "registered_model_tags", inWorkspace(m.Workspace, map[string]any{"key": t.Key, "value": t.Value, "name": m.Name})); err != nil {
			return err
		}
	}
	return nil
}

func (ew *entityWriter) registryAliases(ctx context.Context, m *sources.RegisteredModel, versions map[int64]string) error {
	count := ew.committed.of(entityModelAliases)
	count.Read += int64(len(m.Aliases))
	if len(m.Aliases) == 0 {
		return nil
	}
	if !ew.rev.HasTable("registered_model_aliases") {
		count.Skipped += int64(len(m.Aliases))
		return ew.lacking(m.Origin.File, "registered_model_aliases", "", int64(len(m.Aliases)), "registered model aliases")
	}
	for _, a := range m.Aliases {
		have, found, err := ew.store.ModelAliasVersion(ctx, m.Workspace, m.Name, a.Alias)
		if err != nil {
			return err
		}
		switch {
		case found && have == a.Version:
			count.Merged++
		case found:
			if err := ew.modelConflict(m.Name, fmt.Sprintf("alias %q points at version %d, the target's at %d", a.Alias, a.Version, have)); err != nil {
				return err
			}
			count.Skipped++
		default:
			if _, ok := versions[a.Version]; !ok {
				count.Skipped++
				ew.noteSkipped("", fmt.Sprintf("registered model %q: alias %q left out: version %d is not in the target", m.Name, a.Alias, a.Version))
				continue
			}
			if err := ew.insertRow(ctx, "registered_model_aliases", inWorkspace(m.Workspace, map[string]any{"alias": a.Alias, "version": a.Version, "name": m.Name})); err != nil {
				return err
			}
			ew.batch.of(entityModelAliases).Created++
		}
	}
	return nil
}

// newExperimentEntity decides whether an entity of an experiment (a logged model, a
// trace) is written: the target's revision has its tables, its experiment was imported,
// and the target does not hold it yet (same id), as for runs. It counts the entity as
// read, and as skipped when not written; before a write it flushes the buffered runs,
// which the entity may refer to.
func (ew *entityWriter) newExperimentEntity(ctx context.Context, e entity, targetHasIt bool, exp expKey, file, table, keyColumn, id string) (int64, bool, error) {
	count := ew.committed.of(e)
	count.Read++
	if !targetHasIt {
		count.Skipped++
		return 0, false, ew.lacking(file, table, "", 1, strings.ReplaceAll(e.String(), "_", " "))
	}
	expID, ok := ew.exps.expIDs[exp]
	if !ok {
		count.Skipped++
		return 0, false, nil
	}
	present, err := ew.store.Exists(ctx, table, keyColumn, id)
	if err != nil || present {
		if present {
			count.Skipped++
		}
		return 0, false, err
	}
	return expID, true, ew.runs.flushAll(ctx)
}

// modelNameCollision handles a registered model whose name the target holds in another
// spelling that its collation makes the same (Sklearn_Wine and sklearn_wine on MariaDB's
// default): left out under --on-key-collision keep-first, a conflict otherwise.
func (ew *entityWriter) modelNameCollision(ctx context.Context, m *sources.RegisteredModel, stored string) error {
	what := fmt.Sprintf("registered model %q and the target's %q are one name under the target's collation %s, which MLflow on this database keeps as one model",
		m.Name, stored, ew.collation.Name)
	if ew.opts.OnKeyCollision == rules.CollisionKeepFirst {
		ew.committed.of(entityRegisteredModels).Skipped++
		ew.committed.of(entityModelVersions).Skipped += int64(len(m.Versions))
		ew.committed.of(entityModelAliases).Read += int64(len(m.Aliases))
		ew.committed.of(entityModelAliases).Skipped += int64(len(m.Aliases))
		ew.noteSkipped(m.Origin.File, what+": this one is left out with its versions ("+remedy.Mention(OptionOnKeyCollision)+" keep-first)")
		return nil
	}
	ew.committed.of(entityRegisteredModels).Rejected++
	ew.committed.of(entityModelVersions).Rejected += int64(len(m.Versions))
	return ew.invalid(&sources.InputError{File: m.Origin.File,
		Err: remedy.With(fmt.Errorf("%w: %s; rename one", ErrTargetConflict, what),
			remedy.Remedy{Option: OptionOnKeyCollision, Value: string(rules.CollisionKeepFirst), Does: "to keep the first"})})
}

// relocateVersion points a model version's source and storage location at the copy of
// the files they name, when the import copied them: a source inside its run's artifacts,
// a storage location in a logged model's. Others (models:/…, runs:/…, elsewhere) stay.
func (ew *entityWriter) relocateVersion(ctx context.Context, v sources.ModelVersion) (sources.ModelVersion, error) {
	mover := ew.exps.mover
	if mover == nil {
		return v, nil
	}
	var err error
	v.Source, v.StorageLocation, err = artifacts.RelocateVersion(v.Source, v.StorageLocation, v.RunID, ew.rev.HasTable("logged_models"),
		func(model bool, id string) (string, error) {
			of := locationOfRun
			if model {
				of = locationOfModel
			}
			copied, found, err := ew.store.StoredLocation(ctx, of, id)
			if err != nil || !found || !mover.inLayout(copied) {
				return "", err
			}
			return copied, nil
		})
	return v, err
}
