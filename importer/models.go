package importer

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/mlflow-bulk/mlflow-bulk/importer/rules"

	"github.com/mlflow-bulk/mlflow-bulk/sources"
)

// insertRow inserts one row of the registry or a logged model, the columns the target's
// revision has; its values were checked whole before (checkRecord), this is a backstop.
func (im *importer) insertRow(ctx context.Context, table string, values map[string]any) error {
	for c, v := range values {
		if err := im.asm.CheckValue(table+"."+c, v); err != nil {
			return err
		}
	}
	return im.store.InsertRow(ctx, table, values)
}

func text(s *string) any {
	if s == nil {
		return nil
	}
	return *s
}

// loggedModel writes an MLflow 3 logged model into the experiment its source experiment
// went to. A model the target already holds (same id) is skipped, as runs are.
func (im *importer) loggedModel(ctx context.Context, source int, m *sources.LoggedModel) error {
	err := im.asm.CheckRecord("logged model "+m.ModelID, m)
	if locErr := rules.CheckArtifactLocation(m.ArtifactLocation); err == nil && locErr != nil {
		err = fmt.Errorf("logged model %s: %w", m.ModelID, locErr)
	}
	if err != nil {
		im.committed.of(entityLoggedModels).Read++
		im.committed.of(entityLoggedModels).Rejected++
		return im.invalid(ctx, &sources.InputError{File: m.Origin.File, Err: err})
	}
	expID, write, err := im.newExperimentEntity(ctx, entityLoggedModels, im.rev.HasTable("logged_models"), expKey{source, m.ExperimentSourceID},
		m.Origin.File, "logged_models", "model_id", m.ModelID)
	if err != nil || !write {
		return err
	}
	if placed := im.placedLocation(expKey{source, m.ExperimentSourceID}, m.ArtifactLocation); placed != m.ArtifactLocation {
		moved := *m
		moved.ArtifactLocation = placed
		m = &moved
	}
	err = im.insertRow(ctx, "logged_models", map[string]any{
		"model_id": m.ModelID, "experiment_id": expID, "name": m.Name, "artifact_location": m.ArtifactLocation,
		"creation_timestamp_ms": m.CreationTimestamp, "last_updated_timestamp_ms": m.LastUpdatedTimestamp, "status": m.Status,
		"lifecycle_stage": text(m.LifecycleStage), "model_type": text(m.ModelType), "source_run_id": text(m.SourceRunID), "status_message": text(m.StatusMessage),
	})
	if err != nil {
		return err
	}
	for _, p := range m.Params {
		if err := im.insertRow(ctx, "logged_model_params", map[string]any{"model_id": m.ModelID, "experiment_id": expID, "param_key": p.Key, "param_value": p.Value}); err != nil {
			return err
		}
	}
	for _, tag := range m.Tags {
		if err := im.insertRow(ctx, "logged_model_tags", map[string]any{"model_id": m.ModelID, "experiment_id": expID, "tag_key": tag.Key, "tag_value": tag.Value}); err != nil {
			return err
		}
	}
	for _, mm := range m.Metrics {
		present, err := im.runPresent(ctx, mm.RunID)
		if err != nil {
			return err
		}
		if !present {
			im.noteSkipped(m.Origin.File, fmt.Sprintf("logged model %s: metric %q of run %s left out: the run is not in the target", m.ModelID, mm.Name, mm.RunID))
			continue
		}
		var value any
		if mm.Value != nil {
			value, _ = rules.Sanitize(*mm.Value)
		}
		metricExp, ok := im.expIDs[expKey{source, mm.ExperimentSourceID}]
		if !ok {
			metricExp = expID
		}
		err = im.insertRow(ctx, "logged_model_metrics", map[string]any{
			"model_id": m.ModelID, "metric_name": mm.Name, "metric_timestamp_ms": mm.Timestamp, "metric_step": mm.Step, "metric_value": value,
			"experiment_id": metricExp, "run_id": mm.RunID, "dataset_uuid": text(mm.DatasetUUID), "dataset_name": text(mm.DatasetName), "dataset_digest": text(mm.DatasetDigest),
		})
		if err != nil {
			return err
		}
	}
	im.batch.of(entityLoggedModels).Created++
	return nil
}

// registeredModel merges a registered model by name: a new name is created with all its
// versions, tags and aliases; into an existing model only what it lacks is added, and a
// version or alias that differs from the target's is a conflict, handled by the policy.
func (im *importer) registeredModel(ctx context.Context, m *sources.RegisteredModel) error {
	count, versions := im.committed.of(entityRegisteredModels), im.committed.of(entityModelVersions)
	count.Read++
	versions.Read += int64(len(m.Versions))
	if err := im.asm.CheckRecord("registered model "+strconv.Quote(m.Name), m); err != nil {
		count.Rejected++
		versions.Rejected += int64(len(m.Versions))
		im.committed.of(entityModelAliases).Read += int64(len(m.Aliases))
		im.committed.of(entityModelAliases).Rejected += int64(len(m.Aliases))
		return im.invalid(ctx, &sources.InputError{File: m.Origin.File, Err: err})
	}
	if !im.rev.HasTable("registered_models") {
		count.Skipped++
		versions.Skipped += int64(len(m.Versions))
		im.committed.of(entityModelAliases).Read += int64(len(m.Aliases))
		im.committed.of(entityModelAliases).Skipped += int64(len(m.Aliases))
		return im.lacking(m.Origin.File, "registered_models", "", 1, "registered models (the model registry)")
	}
	if err := im.flushAll(ctx); err != nil {
		return err
	}
	// Names are unique within a workspace: the model merges with the one of its
	// workspace in the target, never another's.
	if err := im.checkSourceWorkspace(m.Workspace); err != nil {
		return im.invalid(ctx, &sources.InputError{File: m.Origin.File, Err: fmt.Errorf("registered model %q: %w", m.Name, err)})
	}
	ws := im.workspaceOf(m.Workspace)
	if err := im.ensureWorkspace(ctx, ws); err != nil {
		return err
	}
	im.noteWorkspaceMerge("registered model", ws, m.Name, m.Workspace)
	placed := *m
	placed.Workspace = ws
	m = &placed
	stored, exists, err := im.store.RegisteredModelName(ctx, ws, m.Name)
	if err != nil {
		return err
	}
	if exists && stored != m.Name {
		// Two names MLflow keeps apart that the target's collation makes one: merging
		// them would mix one model's versions into the other's.
		return im.modelNameCollision(ctx, m, stored)
	}
	if !exists {
		err := im.insertRow(ctx, "registered_models", inWorkspace(ws, map[string]any{"name": m.Name, "creation_time": optional(m.CreationTime),
			"last_updated_time": optional(m.LastUpdatedTime), "description": text(m.Description)}))
		if err != nil {
			return err
		}
		im.batch.of(entityRegisteredModels).Created++
	} else {
		count.Merged++
	}
	target, err := im.store.ModelVersions(ctx, ws, m.Name)
	if err != nil {
		return err
	}
	// Where the target's model came from, for conflict messages: this very import (an
	// earlier source, or an earlier file of this one) or the target as it was.
	theirs := "the target's"
	written := workspaceName(ws, m.Name)
	if from, ok := im.modelsWritten[written]; ok {
		theirs = "the one imported from " + from + " earlier in this import"
	} else {
		if im.modelsWritten == nil {
			im.modelsWritten = map[string]string{}
		}
		im.modelsWritten[written] = im.sourceName
		if m.Origin.File != "" {
			im.modelsWritten[written] = m.Origin.File
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
			if err := im.modelConflict(m.Name, fmt.Sprintf("version %d differs from %s (%s against %s)", v.Version, theirs, versionSignature(v), have)); err != nil {
				return err
			}
			versions.Skipped++
			continue
		}
		if err := im.insertVersion(ctx, m, v); err != nil {
			return err
		}
		target[v.Version] = versionSignature(v)
		im.batch.of(entityModelVersions).Created++
	}
	if err := im.registryTags(ctx, m); err != nil {
		return err
	}
	return im.registryAliases(ctx, m, target)
}

func (im *importer) modelConflict(name, what string) error {
	if im.opts.OnModelConflict == rules.ModelConflictKeepTarget {
		im.noteSkipped("", fmt.Sprintf("registered model %q: %s; the target's is kept (--on-model-conflict keep-target)", name, what))
		return nil
	}
	return fmt.Errorf("registered model %q: %s; re-run with --on-model-conflict keep-target to keep the target's and import the rest", name, what)
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

func (im *importer) insertVersion(ctx context.Context, m *sources.RegisteredModel, v sources.ModelVersion) error {
	name := m.Name
	err := im.insertRow(ctx, "model_versions", inWorkspace(m.Workspace, map[string]any{
		"name": name, "version": v.Version, "creation_time": optional(v.CreationTime), "last_updated_time": optional(v.LastUpdatedTime),
		"description": text(v.Description), "user_id": text(v.UserID), "current_stage": text(v.CurrentStage), "source": text(v.Source),
		"run_id": text(v.RunID), "status": text(v.Status), "status_message": text(v.StatusMessage), "run_link": text(v.RunLink),
		"storage_location": text(v.StorageLocation),
	}))
	if err != nil {
		return err
	}
	if len(v.Tags) > 0 && !im.rev.HasTable("model_version_tags") {
		return im.lacking(m.Origin.File, "model_version_tags", "", int64(len(v.Tags)), "model version tags")
	}
	for _, t := range v.Tags {
		if err := im.insertRow(ctx, "model_version_tags", inWorkspace(m.Workspace, map[string]any{"key": t.Key, "value": t.Value, "name": name, "version": v.Version})); err != nil {
			return err
		}
	}
	return nil
}

func (im *importer) registryTags(ctx context.Context, m *sources.RegisteredModel) error {
	if len(m.Tags) == 0 {
		return nil
	}
	if !im.rev.HasTable("registered_model_tags") {
		return im.lacking(m.Origin.File, "registered_model_tags", "", int64(len(m.Tags)), "registered model tags")
	}
	for _, t := range m.Tags {
		have, found, err := im.store.RegisteredModelTag(ctx, m.Workspace, m.Name, t.Key)
		if err != nil {
			return err
		}
		if found {
			if have == nil || *have != t.Value {
				if err := im.modelConflict(m.Name, fmt.Sprintf("tag %q differs from the target's", t.Key)); err != nil {
					return err
				}
			}
			continue
		}
		if err := im.insertRow(ctx, "registered_model_tags", inWorkspace(m.Workspace, map[string]any{"key": t.Key, "value": t.Value, "name": m.Name})); err != nil {
			return err
		}
	}
	return nil
}

func (im *importer) registryAliases(ctx context.Context, m *sources.RegisteredModel, versions map[int64]string) error {
	count := im.committed.of(entityModelAliases)
	count.Read += int64(len(m.Aliases))
	if len(m.Aliases) == 0 {
		return nil
	}
	if !im.rev.HasTable("registered_model_aliases") {
		count.Skipped += int64(len(m.Aliases))
		return im.lacking(m.Origin.File, "registered_model_aliases", "", int64(len(m.Aliases)), "registered model aliases")
	}
	for _, a := range m.Aliases {
		have, found, err := im.store.ModelAliasVersion(ctx, m.Workspace, m.Name, a.Alias)
		if err != nil {
			return err
		}
		switch {
		case found && have == a.Version:
			count.Merged++
		case found:
			if err := im.modelConflict(m.Name, fmt.Sprintf("alias %q points at version %d, the target's at %d", a.Alias, a.Version, have)); err != nil {
				return err
			}
			count.Skipped++
		default:
			if _, ok := versions[a.Version]; !ok {
				count.Skipped++
				im.noteSkipped("", fmt.Sprintf("registered model %q: alias %q left out: version %d is not in the target", m.Name, a.Alias, a.Version))
				continue
			}
			if err := im.insertRow(ctx, "registered_model_aliases", inWorkspace(m.Workspace, map[string]any{"alias": a.Alias, "version": a.Version, "name": m.Name})); err != nil {
				return err
			}
			im.batch.of(entityModelAliases).Created++
		}
	}
	return nil
}

// newExperimentEntity decides whether an entity of an experiment (a logged model, a
// trace) is written: the target's revision has its tables, its experiment was imported,
// and the target does not hold it yet (same id), as for runs. It counts the entity as
// read, and as skipped when not written; before a write it flushes the buffered runs,
// which the entity may refer to.
func (im *importer) newExperimentEntity(ctx context.Context, e entity, targetHasIt bool, exp expKey, file, table, keyColumn, id string) (int64, bool, error) {
	count := im.committed.of(e)
	count.Read++
	if !targetHasIt {
		count.Skipped++
		return 0, false, im.lacking(file, table, "", 1, strings.ReplaceAll(e.String(), "_", " "))
	}
	expID, ok := im.expIDs[exp]
	if !ok {
		count.Skipped++
		return 0, false, nil
	}
	present, err := im.store.Exists(ctx, table, keyColumn, id)
	if err != nil || present {
		if present {
			count.Skipped++
		}
		return 0, false, err
	}
	return expID, true, im.flushAll(ctx)
}

// modelNameCollision handles a registered model whose name the target holds in another
// spelling that its collation makes the same (Sklearn_Wine and sklearn_wine on MariaDB's
// default): left out under --on-key-collision keep-first, a conflict otherwise.
func (im *importer) modelNameCollision(ctx context.Context, m *sources.RegisteredModel, stored string) error {
	what := fmt.Sprintf("registered model %q and the target's %q are one name under the target's collation %s, which MLflow on this database keeps as one model",
		m.Name, stored, im.collation.Name)
	if im.opts.OnKeyCollision == rules.CollisionKeepFirst {
		im.committed.of(entityRegisteredModels).Skipped++
		im.committed.of(entityModelVersions).Skipped += int64(len(m.Versions))
		im.committed.of(entityModelAliases).Read += int64(len(m.Aliases))
		im.committed.of(entityModelAliases).Skipped += int64(len(m.Aliases))
		im.noteSkipped(m.Origin.File, what+": this one is left out with its versions (--on-key-collision keep-first)")
		return nil
	}
	im.committed.of(entityRegisteredModels).Rejected++
	im.committed.of(entityModelVersions).Rejected += int64(len(m.Versions))
	return im.invalid(ctx, &sources.InputError{File: m.Origin.File,
		Err: fmt.Errorf("%w: %s; rename one, or re-run with --on-key-collision keep-first to keep the first", ErrTargetConflict, what)})
}
