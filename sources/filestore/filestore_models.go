package filestore

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/mlflow-bulk/mlflow-bulk/schema"
	"github.com/mlflow-bulk/mlflow-bulk/sources"

	"gopkg.in/yaml.v3"
)

// Logged models (<exp>/models/m-…/) and the model registry (<root>/models/<name>/) of
// a file store. Which file field goes to which column follows MLflow's own file-store
// migration and its registry file store.

// scanLoggedModels lists the ids of the logged models of every experiment, active and
// trashed, so that run inputs and outputs naming a model the store lacks can be told
// apart before the runs are read. It holds one id per logged model, not their contents.
func (s *fileStore) scanLoggedModels() map[string]bool {
	ids := map[string]bool{}
	for _, parent := range []string{s.root, filepath.Join(s.root, trashFolder)} {
		exps, _ := os.ReadDir(parent)
		for _, e := range exps {
			if !e.IsDir() || e.Name() == modelsFolder && parent == s.root {
				continue
			}
			models, _ := os.ReadDir(filepath.Join(parent, e.Name(), modelsFolder))
			for _, m := range models {
				if m.IsDir() && fileExists(filepath.Join(parent, e.Name(), modelsFolder, m.Name(), metaFile)) {
					ids[m.Name()] = true
				}
			}
		}
	}
	return ids
}

// dropMissingModels takes out of a run the inputs and outputs that name a logged model
// the store does not hold (deleted by hand, or never written): the target would hold an
// edge to nothing. Each is reported.
func (s *fileStore) dropMissingModels(ctx context.Context, emit recordEmitter, dir string, run *sources.Run) error {
	kept := run.Inputs[:0]
	for _, in := range run.Inputs {
		model := ""
		if in.DestinationType == "MODEL_INPUT" || in.DestinationType == "MODEL_OUTPUT" {
			model = in.DestinationID
		}
		if model == "" || s.models[model] {
			kept = append(kept, in)
			continue
		}
		folder := "inputs"
		if in.DestinationType == "MODEL_OUTPUT" {
			folder = "outputs"
		}
		err := emit(ctx, &sources.Skipped{Path: filepath.Join(dir, folder), Reason: fmt.Sprintf("run %s: %s of logged model %s left out: the store holds no such model",
			run.RunID, strings.TrimSuffix(folder, "s"), model)})
		if err != nil {
			return err
		}
	}
	run.Inputs = kept
	return nil
}

// readEntityFolders streams the entities of dir that each have a folder of their own
// (logged models, registered models, traces), in folder-name order. A file there is
// skipped as not a kind folder, and a folder without its metadata file (meta) as empty;
// a folder parse cannot read is invalid input. Otherwise what parse found to skip is sent
// first, then the entity.
func (s *fileStore) readEntityFolders(ctx context.Context, dir, kind, meta string, parse func(path, folder string) (sources.Record, []sources.Record, error)) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read the %s folders: %w", kind, err)
	}
	for _, e := range entries {
		path := filepath.Join(dir, e.Name())
		if !e.IsDir() {
			if err := s.sendSkip(ctx, path, "not a "+kind+" folder"); err != nil {
				return err
			}
			continue
		}
		if err := sources.CheckContext(ctx); err != nil {
			return err
		}
		rec, skips, err := parse(path, e.Name())
		if errors.Is(err, errEmptyMeta) {
			if err := s.sendSkip(ctx, path, kind+" folder without "+meta); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			if err := s.sendInvalidOrFatal(ctx, err); err != nil {
				return err
			}
			continue
		}
		for _, r := range append(skips, rec) {
			if err := s.send(ctx, r); err != nil {
				return err
			}
		}
	}
	return nil
}

// readLoggedModels streams the logged models of one experiment, in folder-name order.
func (s *fileStore) readLoggedModels(ctx context.Context, exp experimentFolder) error {
	return s.readEntityFolders(ctx, filepath.Join(exp.dir, modelsFolder), "logged-model", metaFile,
		func(path, folder string) (sources.Record, []sources.Record, error) {
			m, err := parseLoggedModel(s.files, path, folder, exp)
			return m, nil, err
		})
}

func parseLoggedModel(files storeFiles, dir, folder string, exp experimentFolder) (*sources.LoggedModel, error) {
	m, err := readMeta(files, filepath.Join(dir, metaFile))
	if err != nil {
		return nil, err
	}
	lm := &sources.LoggedModel{ExperimentSourceID: exp.sourceID, Origin: sources.Origin{File: m.file}}
	if lm.ModelID, err = m.str("model_id"); err != nil {
		return nil, err
	}
	if lm.ModelID == "" {
		lm.ModelID = folder
	}
	if lm.ModelID != folder {
		return nil, m.errorf(m.fields["model_id"], "model_id %s differs from its folder %s", lm.ModelID, folder)
	}
	for field, dst := range map[string]*string{"name": &lm.Name, "artifact_location": &lm.ArtifactLocation} {
		if *dst, err = m.str(field); err != nil {
			return nil, err
		}
	}
	for field, dst := range map[string]*int64{"creation_timestamp": &lm.CreationTimestamp, "last_updated_timestamp": &lm.LastUpdatedTimestamp} {
		v, err := m.optInt(field)
		if err != nil {
			return nil, err
		}
		if v != nil {
			*dst = *v
		}
	}
	if lm.Status, err = loggedModelStatus(m); err != nil {
		return nil, err
	}
	for field, dst := range map[string]**string{"model_type": &lm.ModelType, "source_run_id": &lm.SourceRunID, "status_message": &lm.StatusMessage} {
		if *dst, err = m.optStr(field); err != nil {
			return nil, err
		}
	}
	// MLflow creates logged models active; the file store writes the stage only once one
	// is deleted.
	stage, err := m.str("lifecycle_stage")
	if err != nil {
		return nil, err
	}
	switch sources.Lifecycle(stage) {
	case "":
		stage = string(sources.LifecycleActive)
	case sources.LifecycleActive, sources.LifecycleDeleted:
	default:
		return nil, m.errorf(m.fields["lifecycle_stage"], "lifecycle_stage %q is neither active nor deleted", stage)
	}
	lm.LifecycleStage = &stage
	if lm.Params, err = readKeyValueFiles(files, filepath.Join(dir, "params")); err != nil {
		return nil, err
	}
	if lm.Tags, err = readKeyValueFiles(files, filepath.Join(dir, "tags")); err != nil {
		return nil, err
	}
	if lm.Metrics, err = readModelMetrics(files, filepath.Join(dir, "metrics"), exp.sourceID); err != nil {
		return nil, err
	}
	lm.ArtifactsAt = ownArtifacts(dir, lm.ArtifactLocation, exp.id, modelsFolder, folder, "artifacts")
	return lm, nil
}

// loggedModelStatus reads status as MLflow writes it (the number) or by name.
func loggedModelStatus(m *meta) (int64, error) {
	n := m.fields["status"]
	if isNull(n) {
		return 0, nil
	}
	if v, err := strconv.ParseInt(n.Value, 10, 64); err == nil {
		if v < 0 || v >= int64(len(sources.LoggedModelStatuses)) {
			return 0, m.errorf(n, "status: unknown logged-model status %d", v)
		}
		return v, nil
	}
	name := strings.TrimPrefix(strings.ToUpper(n.Value), "LOGGED_MODEL_")
	for i, s := range sources.LoggedModelStatuses {
		if name == s || name == "UPLOAD_"+s || name == "STATUS_"+s {
			return int64(i), nil
		}
	}
	return 0, m.errorf(n, "status: unknown logged-model status %q", n.Value)
}

// readModelMetrics reads a logged model's metrics/ folder: one file per key, lines of
// `<timestamp> <value> <step> <run_id>` with `<dataset_name> <dataset_digest>` after
// them when the metric was logged against a dataset.
func readModelMetrics(files storeFiles, dir, expID string) ([]sources.ModelMetric, error) {
	var paths []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && path == dir {
				return fs.SkipDir
			}
			return &sources.InputError{File: path, Err: err}
		}
		if !d.IsDir() {
			paths = append(paths, path)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Strings(paths)
	var out []sources.ModelMetric
	for _, path := range paths {
		rel, _ := filepath.Rel(dir, path)
		key := filepath.ToSlash(rel)
		if err := files.check(path); err != nil {
			return nil, &sources.InputError{File: path, Err: err}
		}
		points, err := readModelMetricFile(path, key, expID)
		if err != nil {
			return nil, err
		}
		out = append(out, points...)
	}
	return out, nil
}

func readModelMetricFile(path, key, expID string) ([]sources.ModelMetric, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &sources.InputError{File: path, Err: err}
	}
	defer f.Close()
	var out []sources.ModelMetric
	scanner := bufio.NewScanner(f)
	scanner.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	line := 0
	for scanner.Scan() {
		line++
		text := strings.TrimSpace(scanner.Text())
		if text == "" {
			continue
		}
		fields := strings.Split(text, " ")
		if len(fields) != 4 && len(fields) != 6 {
			return nil, &sources.InputError{File: path, Line: line, Err: fmt.Errorf("malformed logged-model metric line: %d fields, expected 4 or 6 (timestamp value step run_id [dataset_name dataset_digest])", len(fields))}
		}
		p, err := parseMetricFields(key, fields[:3])
		if err != nil {
			return nil, &sources.InputError{File: path, Line: line, Err: err}
		}
		value := p.Value
		mm := sources.ModelMetric{ExperimentSourceID: expID, Name: key, Timestamp: p.Timestamp, Step: p.Step, Value: &value, RunID: fields[3]}
		if len(fields) == 6 {
			mm.DatasetName, mm.DatasetDigest = &fields[4], &fields[5]
		}
		out = append(out, mm)
	}
	if err := scanner.Err(); err != nil {
		return nil, &sources.InputError{File: path, Line: line + 1, Err: err}
	}
	return out, nil
}

// readRegistry streams the registered models of the model registry folder, in name
// order, each with its versions, tags and aliases.
func (s *fileStore) readRegistry(ctx context.Context, dir string) error {
	return s.readEntityFolders(ctx, dir, "registered-model", metaFile, func(path, folder string) (sources.Record, []sources.Record, error) {
		return parseRegisteredModel(s.files, path, folder)
	})
}

func parseRegisteredModel(files storeFiles, dir, folder string) (*sources.RegisteredModel, []sources.Record, error) {
	m, err := readMeta(files, filepath.Join(dir, metaFile))
	if err != nil {
		return nil, nil, err
	}
	rm := &sources.RegisteredModel{Origin: sources.Origin{File: m.file}}
	if rm.Name, err = m.str("name"); err != nil {
		return nil, nil, err
	}
	if rm.Name == "" {
		rm.Name = folder
	}
	if rm.Workspace, err = m.str("workspace"); err != nil {
		return nil, nil, err
	}
	if rm.CreationTime, err = m.optInt("creation_timestamp"); err != nil {
		return nil, nil, err
	}
	if rm.LastUpdatedTime, err = m.optInt("last_updated_timestamp"); err != nil {
		return nil, nil, err
	}
	if rm.Description, err = m.optStr("description"); err != nil {
		return nil, nil, err
	}
	if rm.Tags, err = readKeyValueFiles(files, filepath.Join(dir, "tags")); err != nil {
		return nil, nil, err
	}
	var skips []sources.Record
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, &sources.InputError{File: dir, Err: err}
	}
	for _, e := range entries {
		name := e.Name()
		switch {
		case name == metaFile || name == "tags" || name == "aliases":
			continue
		case !e.IsDir() || !strings.HasPrefix(name, "version-"):
			skips = append(skips, &sources.Skipped{Path: filepath.Join(dir, name), Reason: "not a model-version folder"})
			continue
		}
		v, err := parseModelVersion(files, filepath.Join(dir, name), strings.TrimPrefix(name, "version-"))
		if errors.Is(err, errEmptyMeta) {
			skips = append(skips, &sources.Skipped{Path: filepath.Join(dir, name), Reason: "model-version folder without meta.yaml"})
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		rm.Versions = append(rm.Versions, v)
	}
	sort.Slice(rm.Versions, func(i, j int) bool { return rm.Versions[i].Version < rm.Versions[j].Version })
	if rm.Aliases, err = readAliases(files, m, dir); err != nil {
		return nil, nil, err
	}
	return rm, skips, nil
}

func parseModelVersion(files storeFiles, dir, folderVersion string) (sources.ModelVersion, error) {
	var v sources.ModelVersion
	m, err := readMeta(files, filepath.Join(dir, metaFile))
	if err != nil {
		return v, err
	}
	version, err := m.optInt("version")
	if err != nil {
		return v, err
	}
	want, convErr := strconv.ParseInt(folderVersion, 10, 64)
	switch {
	case version == nil && convErr != nil:
		return v, m.errorf(nil, "model version without a version number, in a folder that names none")
	case version == nil:
		v.Version = want
	case convErr == nil && *version != want:
		return v, m.errorf(m.fields["version"], "version %d differs from its folder version-%s", *version, folderVersion)
	default:
		v.Version = *version
	}
	if v.CreationTime, err = m.optInt("creation_timestamp"); err != nil {
		return v, err
	}
	if v.LastUpdatedTime, err = m.optInt("last_updated_timestamp"); err != nil {
		return v, err
	}
	for field, dst := range map[string]**string{
		"description": &v.Description, "user_id": &v.UserID, "current_stage": &v.CurrentStage, "source": &v.Source,
		"run_id": &v.RunID, "status": &v.Status, "status_message": &v.StatusMessage, "run_link": &v.RunLink,
		"storage_location": &v.StorageLocation,
	} {
		if *dst, err = m.optStr(field); err != nil {
			return v, err
		}
	}
	// What MLflow's registry gives a version that does not say.
	if v.CurrentStage == nil {
		stage := "None"
		v.CurrentStage = &stage
	}
	if v.Status == nil {
		status := "READY"
		v.Status = &status
	}
	if v.Tags, err = readKeyValueFiles(files, filepath.Join(dir, "tags")); err != nil {
		return v, err
	}
	return v, nil
}

// readAliases reads a registered model's aliases. MLflow 3 writes each twice: a file
// aliases/<alias> holding the version, and a map in the model's meta.yaml (an empty one
// as [] or {}). The files are what MLflow's registry reads; an alias only in the map is
// taken too, and the two disagreeing is invalid input.
func readAliases(files storeFiles, m *meta, dir string) ([]sources.ModelAlias, error) {
	fromFiles, err := readKeyValueFiles(files, filepath.Join(dir, "aliases"))
	if err != nil {
		return nil, err
	}
	var out []sources.ModelAlias
	byName := map[string]int64{}
	for _, a := range fromFiles {
		version, err := strconv.ParseInt(strings.TrimSpace(a.Value), 10, 64)
		if err != nil {
			return nil, &sources.InputError{File: filepath.Join(dir, "aliases", filepath.FromSlash(a.Key)), Line: 1, Err: fmt.Errorf("alias %q: %q is not a version number", a.Key, a.Value)}
		}
		byName[a.Key] = version
		out = append(out, sources.ModelAlias{Alias: a.Key, Version: version})
	}
	n := m.fields["aliases"]
	if isNull(n) || n.Kind == yaml.SequenceNode && len(n.Content) == 0 { // MLflow writes [] for none
		return out, nil
	}
	inMeta, err := m.stringMap("aliases")
	if err != nil {
		return nil, err
	}
	for _, a := range inMeta {
		version, err := strconv.ParseInt(strings.TrimSpace(a.Value), 10, 64)
		if err != nil {
			return nil, m.errorf(n, "aliases: %q of alias %q is not a version number", a.Value, a.Key)
		}
		have, ok := byName[a.Key]
		switch {
		case !ok:
			byName[a.Key] = version
			out = append(out, sources.ModelAlias{Alias: a.Key, Version: version})
		case have != version:
			return nil, m.errorf(n, "alias %q points at version %d in meta.yaml and at version %d in aliases/%s", a.Key, version, have, a.Key)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Alias < out[j].Alias })
	return out, nil
}

// Unsupported implements sources.TableSource: logged models, the registry and traces
// of the store that the target has no table for, so that the import stops before
// writing (or, with --skip-unsupported, leaves them and the runs' edges to them out),
// as it does for a database source.
func (s *fileStore) Unsupported(ctx context.Context, target map[string]*schema.TableInfo) ([]sources.Unsupported, error) {
	var out []sources.Unsupported
	if target["logged_models"] == nil {
		// Listed once: the read that follows (at the first Next) takes this list.
		s.models = s.scanLoggedModels()
		if n := len(s.models); n > 0 {
			out = append(out, sources.Unsupported{Table: "logged_models", Rows: int64(n)})
		}
	}
	if target["registered_models"] == nil {
		if names, _ := os.ReadDir(filepath.Join(s.root, modelsFolder)); len(names) > 0 {
			out = append(out, sources.Unsupported{Table: "registered_models", Rows: int64(len(names))})
		}
	}
	if target["trace_info"] == nil {
		if n := s.countInExperiments("traces"); n > 0 {
			out = append(out, sources.Unsupported{Table: "trace_info", Rows: n})
		}
	}
	if target["datasets"] == nil {
		if n := s.countInExperiments("datasets"); n > 0 {
			out = append(out, sources.Unsupported{Table: "datasets", Rows: n})
		}
	}
	if e := target["experiments"]; e != nil && e.Column("workspace") == nil {
		if counts := s.countWorkspaces(); len(counts) > 0 {
			var n int64
			for _, c := range counts {
				n += c
			}
			out = append(out, sources.Unsupported{Table: "experiments", Column: "workspace", Rows: n, Reason: sources.WorkspacesReason(counts)})
		}
	}
	return out, ctx.Err()
}

// countWorkspaces counts the experiments and registered models of the store that a
// workspace-aware MLflow put in a workspace other than the default one, by workspace.
// A meta.yaml that cannot be read is left to the read, which names it.
func (s *fileStore) countWorkspaces() map[string]int64 {
	counts := map[string]int64{}
	count := func(dir string) {
		m, err := readMeta(s.files, filepath.Join(dir, metaFile))
		if err != nil {
			return
		}
		if ws, err := m.str("workspace"); err == nil && ws != "" && ws != "default" {
			counts[ws]++
		}
	}
	for _, parent := range []string{s.root, filepath.Join(s.root, trashFolder), filepath.Join(s.root, modelsFolder)} {
		entries, _ := os.ReadDir(parent)
		for _, e := range entries {
			if e.IsDir() && (parent != s.root || e.Name() != modelsFolder && e.Name() != trashFolder) {
				count(filepath.Join(parent, e.Name()))
			}
		}
	}
	return counts
}

// countInExperiments counts the entries of a folder of every experiment (its traces, its
// datasets), active and trashed.
func (s *fileStore) countInExperiments(folder string) int64 {
	var n int64
	for _, parent := range []string{s.root, filepath.Join(s.root, trashFolder)} {
		exps, _ := os.ReadDir(parent)
		for _, e := range exps {
			if !e.IsDir() || e.Name() == modelsFolder && parent == s.root {
				continue
			}
			entries, _ := os.ReadDir(filepath.Join(parent, e.Name(), folder))
			n += int64(len(entries))
		}
	}
	return n
}
