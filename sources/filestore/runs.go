package filestore

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/mlflow-bulk/mlflow-bulk/sources"
)

// readRun streams one run: the Run record, then its metric history in chunks.
func (s *fileStore) readRun(ctx context.Context, emit recordEmitter, dir, folder string, exp experimentFolder) error {
	if err := sources.CheckContext(ctx); err != nil {
		return err
	}
	var stamp uint64
	if s.unchanged != nil {
		// Taken before anything is read: a file changed while the run is read then
		// moves the stamp, and the next import reads the run again.
		var err error
		if stamp, err = runStamp(ctx, dir, exp.sourceID); err != nil {
			return err
		}
		if stamp != 0 && s.unchanged(folder, stamp) {
			return emit(ctx, &sources.Run{RunID: folder, ExperimentSourceID: exp.sourceID, Stamp: stamp, Unchanged: true, KeyFolder: dir, Origin: sources.Origin{File: filepath.Join(dir, metaFile)}})
		}
	}
	run, err := parseRun(s.files, dir, folder, exp.id)
	if errors.Is(err, errEmptyMeta) {
		return emit(ctx, &sources.Skipped{Path: dir, Reason: "no meta.yaml (artifacts only), not a run"})
	}
	if err != nil {
		var inErr *sources.InputError
		if errors.As(err, &inErr) {
			return emit(ctx, &sources.Invalid{Err: inErr})
		}
		return err
	}
	if run == nil {
		return emit(ctx, &sources.Skipped{Path: dir, Reason: "run_id or experiment_id in meta.yaml differ from the folders; MLflow ignores this run"})
	}
	run.ExperimentSourceID = exp.sourceID
	run.Stamp = stamp
	if err := s.dropMissingModels(ctx, emit, dir, run); err != nil {
		return err
	}
	if err := emit(ctx, run); err != nil {
		return err
	}
	return s.readMetrics(ctx, emit, filepath.Join(dir, "metrics"), run.RunID)
}

func parseRun(files storeFiles, dir, folder, expID string) (*sources.Run, error) {
	m, err := readMeta(files, filepath.Join(dir, metaFile))
	if err != nil {
		return nil, err
	}
	run := &sources.Run{ExperimentSourceID: expID, KeyFolder: dir, Origin: sources.Origin{File: m.file}}
	if run.RunID, err = m.str("run_id"); err != nil {
		return nil, err
	}
	if run.RunID == "" {
		if run.RunID, err = m.str("run_uuid"); err != nil {
			return nil, err
		}
	}
	runExp, err := m.str("experiment_id")
	if err != nil {
		return nil, err
	}
	if run.RunID != folder || runExp != expID {
		return nil, nil
	}
	fail := func(err error) (*sources.Run, error) {
		var inErr *sources.InputError
		if errors.As(err, &inErr) {
			inErr.RunID = run.RunID
		}
		return nil, err
	}
	if run.Name, err = m.str("run_name"); err != nil {
		return fail(err)
	}
	if run.Name == "" {
		if run.Name, err = m.str("name"); err != nil {
			return fail(err)
		}
	}
	strFields := map[string]*string{
		"source_name": &run.SourceName, "entry_point_name": &run.EntryPointName,
		"source_version": &run.SourceVersion, "user_id": &run.UserID,
		"artifact_uri": &run.ArtifactURI,
	}
	for field, dst := range strFields {
		if *dst, err = m.str(field); err != nil {
			return fail(err)
		}
	}
	run.ArtifactsAt = ownArtifacts(dir, run.ArtifactURI, expID, run.RunID, "artifacts")
	stage, err := m.str("lifecycle_stage")
	if err != nil {
		return fail(err)
	}
	run.LifecycleStage = sources.Lifecycle(stage)
	if run.LifecycleStage == "" {
		run.LifecycleStage = sources.LifecycleActive
	}
	if run.LifecycleStage != sources.LifecycleActive && run.LifecycleStage != sources.LifecycleDeleted {
		return fail(m.errorf(m.fields["lifecycle_stage"], "lifecycle_stage %q is neither active nor deleted", run.LifecycleStage))
	}
	if run.Status, err = enumField(m, "status", sources.RunStatuses, sources.StatusRunning); err != nil {
		return fail(err)
	}
	if run.SourceType, err = enumField(m, "source_type", sources.SourceTypes, sources.SourceLocal); err != nil {
		return fail(err)
	}
	for field, dst := range map[string]**int64{"start_time": &run.StartTime, "end_time": &run.EndTime, "deleted_time": &run.DeletedTime} {
		if *dst, err = m.optInt(field); err != nil {
			return fail(err)
		}
	}
	if run.Params, err = readKeyValueFiles(files, filepath.Join(dir, "params")); err != nil {
		return fail(err)
	}
	if run.Tags, err = readKeyValueFiles(files, filepath.Join(dir, "tags")); err != nil {
		return fail(err)
	}
	if run.Inputs, err = readInputs(files, dir, run.RunID); err != nil {
		return fail(err)
	}
	return run, nil
}

// enumField reads a field the file store writes as an integer enum (older or foreign
// writers may use the name): the SQL name, def when missing.
// enumField reads one of MLflow's enumerations: the file store's number (1 for the
// first of names) or the name itself.
func enumField[T ~string](m *meta, key string, names []T, def T) (T, error) {
	n := m.fields[key]
	if isNull(n) {
		return def, nil
	}
	if v, err := strconv.ParseInt(n.Value, 10, 64); err == nil {
		if v >= 1 && v <= int64(len(names)) {
			return names[v-1], nil
		}
		return "", m.errorf(n, "%s: unknown value %d", key, v)
	}
	upper := T(strings.ToUpper(n.Value))
	for _, name := range names {
		if name == upper {
			return name, nil
		}
	}
	return "", m.errorf(n, "%s: unknown value %q", key, n.Value)
}

// readInputs reads a run's dataset and model inputs and its model outputs.
func readInputs(files storeFiles, runDir, runID string) ([]sources.Input, error) {
	var inputs []sources.Input
	for _, folder := range []string{"inputs", "outputs"} {
		dir := filepath.Join(runDir, folder)
		entries, err := os.ReadDir(dir)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, &sources.InputError{File: dir, Err: err}
		}
		for _, e := range entries {
			if !e.IsDir() {
				continue
			}
			m, err := readMeta(files, filepath.Join(dir, e.Name(), metaFile))
			if errors.Is(err, errEmptyMeta) {
				continue
			}
			if err != nil {
				return nil, err
			}
			in, err := parseInput(m, folder, runID)
			if err != nil {
				return nil, err
			}
			inputs = append(inputs, in)
		}
	}
	return inputs, nil
}

func parseInput(m *meta, folder, runID string) (sources.Input, error) {
	var in sources.Input
	sourceType, err := m.str("source_type")
	if err != nil {
		return in, err
	}
	sourceID, err := m.str("source_id")
	if err != nil {
		return in, err
	}
	if in.Tags, err = m.stringMap("tags"); err != nil {
		return in, err
	}
	// destination_id is not trusted (MLflow wrote the source id there): the run is the
	// folder the input lives in.
	switch {
	case folder == "inputs" && sourceType == "DATASET":
		in.SourceType, in.SourceID, in.DestinationType, in.DestinationID = "DATASET", sourceID, "RUN", runID
	case folder == "inputs" && sourceType == "MODEL":
		in.SourceType, in.SourceID, in.DestinationType, in.DestinationID = "RUN_INPUT", runID, "MODEL_INPUT", sourceID
	case folder == "outputs":
		in.SourceType, in.SourceID, in.DestinationType, in.DestinationID = "RUN_OUTPUT", runID, "MODEL_OUTPUT", sourceID
		step, err := m.optInt("step")
		if err != nil {
			return in, err
		}
		if step != nil {
			in.Step = *step
		}
	default:
		return in, m.errorf(m.fields["source_type"], "unknown input source_type %q", sourceType)
	}
	if sourceID == "" {
		return in, m.errorf(m.fields["source_id"], "input without source_id")
	}
	return in, nil
}

// readKeyValueFiles reads a params/ or tags/ folder: one file per key, nested folders for
// keys with '/', the file's content verbatim as the value.
func readKeyValueFiles(files storeFiles, dir string) ([]sources.Tag, error) {
	var out []sources.Tag
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && path == dir {
				return fs.SkipDir
			}
			return &sources.InputError{File: path, Err: err}
		}
		if d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		if err := files.checkEntry(path, d); err != nil {
			return &sources.InputError{File: path, Err: err}
		}
		value, err := readWhole(path)
		if err != nil {
			return &sources.InputError{File: path, Err: err}
		}
		out = append(out, sources.Tag{Key: filepath.ToSlash(rel), Value: string(value)})
		return nil
	})
	return out, err
}

// ownArtifacts is the artifacts folder of an entity's folder dir (a run's, a logged
// model's, a trace's) when its location is a local path in the store's own layout,
// ending in tail (<experiment>/<run>/artifacts, say): the store may have been moved
// since, and its files are where the store is now. A location elsewhere ("" here) is
// read as it is.
func ownArtifacts(dir, location string, tail ...string) string {
	if strings.Contains(location, "://") && !strings.HasPrefix(location, "file://") {
		return ""
	}
	clean := strings.TrimSuffix(filepath.ToSlash(location), "/")
	suffix := strings.Join(tail, "/")
	if strings.HasSuffix(clean, "/"+suffix) || clean == suffix {
		return filepath.Join(dir, "artifacts")
	}
	return ""
}
