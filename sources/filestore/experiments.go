package filestore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/mlflow-bulk/mlflow-bulk/sources"
)

// experimentRead is what reading an experiment folder found, before any of it is
// sent: the walk reads the experiments ahead of the one it sends side by side
// (inOrder), and sends each in the walk's order.
type experimentRead struct {
	folder  experimentFolder
	trashed bool
	// exp is the experiment; err what kept it from being read (errEmptyMeta, bad input
	// or a fatal error), with the Default experiment made up for folder 0 without
	// meta.yaml (defaulted).
	exp       *sources.Experiment
	err       error
	defaulted bool
	// datasets are the records of its datasets folder, in order (datasets, skips and
	// invalid ones); entries its folder's listing; fatal a failure to list either.
	datasets []sources.Record
	entries  []os.DirEntry
	fatal    error
}

// loadExperiment reads an experiment folder without sending anything, so that several
// can be read side by side. The folder is listed first: a tags or datasets folder it
// does not hold is not looked for.
func (s *fileStore) loadExperiment(folder experimentFolder, trashed bool) *experimentRead {
	r := &experimentRead{folder: folder, trashed: trashed}
	dir := folder.dir
	entries, listErr := os.ReadDir(dir)
	has := func(name string) bool {
		if listErr != nil {
			return true // not known: look, and let the read say what is wrong
		}
		for _, e := range entries {
			if e.Name() == name {
				return true
			}
		}
		return false
	}
	r.exp, r.err = s.parseExperiment(dir, folder.id, trashed)
	if errors.Is(r.err, errEmptyMeta) && folder.id == "0" {
		// MLflow creates experiment 0 when it creates the store; stores copied around
		// often lose its meta.yaml while keeping its runs.
		r.exp, r.err, r.defaulted = &sources.Experiment{SourceID: "0", Name: "Default", LifecycleStage: sources.LifecycleActive, Origin: sources.Origin{File: dir}}, nil, true
	}
	if r.err != nil || r.exp == nil {
		return r
	}
	if has("tags") {
		if r.exp.Tags, r.err = readKeyValueFiles(s.files, filepath.Join(dir, "tags")); r.err != nil {
			return r
		}
	}
	if has("datasets") {
		if r.datasets, r.fatal = s.loadDatasets(dir, folder.sourceID); r.fatal != nil {
			return r
		}
	}
	if listErr != nil {
		r.fatal = fmt.Errorf("read experiment folder: %w", listErr)
	}
	r.entries = entries
	return r
}

// sendExperiment streams an experiment folder read by loadExperiment: the experiment,
// its datasets, its runs. It returns only fatal errors; bad input is emitted as
// Invalid. names are the names of the experiments streamed before, which a trashed
// experiment with a reused id must not take (an import merges experiments by name).
func (s *fileStore) sendExperiment(ctx context.Context, r *experimentRead, names map[string]bool) error {
	if err := sources.CheckContext(ctx); err != nil {
		return err
	}
	folder, dir, exp := r.folder, r.folder.dir, r.exp
	if r.defaulted {
		if err := s.sendSkip(ctx, filepath.Join(dir, metaFile), "missing; folder 0 read as MLflow's Default experiment"); err != nil {
			return err
		}
	}
	switch {
	case errors.Is(r.err, errEmptyMeta):
		return s.sendSkip(ctx, dir, "no meta.yaml, so not an experiment")
	case r.err != nil:
		return s.sendInvalidOrFatal(ctx, r.err)
	case exp == nil: // its meta.yaml names another experiment
		return s.sendSkip(ctx, dir, "experiment_id in meta.yaml differs from the folder name; MLflow ignores this experiment")
	}
	if message := s.ownName(exp, folder, r.trashed, names); message != "" {
		if err := s.send(ctx, &sources.Notice{Path: dir, Message: message}); err != nil {
			return err
		}
	}
	names[exp.Name] = true
	if err := s.send(ctx, exp); err != nil {
		return err
	}
	if holdsModelsOrTraces(r.entries) {
		// Only an experiment that holds logged models or traces is looked at again after
		// the runs: a store of many experiments keeps no list of all of them.
		s.experiments = append(s.experiments, folder)
	}
	for _, d := range r.datasets {
		if err := s.send(ctx, d); err != nil {
			return err
		}
	}
	if r.fatal != nil {
		return r.fatal
	}
	for _, e := range r.entries {
		name, path := e.Name(), filepath.Join(dir, e.Name())
		if name == metaFile {
			continue
		}
		if experimentChildren[name] && e.IsDir() {
			continue
		}
		if !e.IsDir() || strings.HasPrefix(name, ".") {
			if err := s.sendSkip(ctx, path, "not a run folder"); err != nil {
				return err
			}
			continue
		}
		if err := s.dispatchRun(ctx, path, name, folder); err != nil {
			return err
		}
	}
	return nil
}

func (s *fileStore) parseExperiment(dir, id string, trashed bool) (*sources.Experiment, error) {
	m, err := readMeta(s.files, filepath.Join(dir, metaFile))
	if err != nil {
		return nil, err
	}
	exp := &sources.Experiment{Origin: sources.Origin{File: m.file}}
	if exp.SourceID, err = m.str("experiment_id"); err != nil {
		return nil, err
	}
	if exp.SourceID != id {
		return nil, nil
	}
	if exp.Name, err = m.str("name"); err != nil {
		return nil, err
	}
	if exp.Name == "" {
		return nil, m.errorf(m.fields["name"], "experiment %s has no name", id)
	}
	if exp.ArtifactLocation, err = m.str("artifact_location"); err != nil {
		return nil, err
	}
	// A workspace-aware MLflow (3.10 on) names the experiment's workspace.
	if exp.Workspace, err = m.str("workspace"); err != nil {
		return nil, err
	}
	stage, err := m.str("lifecycle_stage")
	if err != nil {
		return nil, err
	}
	exp.LifecycleStage = sources.Lifecycle(stage)
	switch {
	case trashed:
		// MLflow moves deleted experiments to .trash; some stores still say "active" there.
		exp.LifecycleStage = sources.LifecycleDeleted
	case exp.LifecycleStage == "":
		exp.LifecycleStage = sources.LifecycleActive
	case exp.LifecycleStage != sources.LifecycleActive && exp.LifecycleStage != sources.LifecycleDeleted:
		return nil, m.errorf(m.fields["lifecycle_stage"], "lifecycle_stage %q is neither active nor deleted", exp.LifecycleStage)
	}
	if exp.CreationTime, err = m.optInt("creation_time"); err != nil {
		return nil, err
	}
	if exp.LastUpdateTime, err = m.optInt("last_update_time"); err != nil {
		return nil, err
	}
	return exp, nil
}

// holdsModelsOrTraces says whether an experiment folder's listing has a folder (or a
// link to one) of logged models or of traces.
func holdsModelsOrTraces(entries []os.DirEntry) bool {
	for _, e := range entries {
		if (e.Name() == modelsFolder || e.Name() == "traces") && (e.IsDir() || e.Type()&fs.ModeSymlink != 0) {
			return true
		}
	}
	return false
}

// loadDatasets reads an experiment's datasets folder into records, in order: datasets,
// skipped folders and invalid ones. Only a failure to list the folder is returned.
func (s *fileStore) loadDatasets(expDir, expID string) ([]sources.Record, error) {
	dir := filepath.Join(expDir, "datasets")
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read datasets: %w", err)
	}
	var out []sources.Record
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		ds, err := parseDataset(s.files, filepath.Join(dir, e.Name(), metaFile), expID, e.Name())
		var inErr *sources.InputError
		switch {
		case errors.Is(err, errEmptyMeta):
			out = append(out, &sources.Skipped{Path: filepath.Join(dir, e.Name()), Reason: "dataset folder without meta.yaml"})
		case errors.As(err, &inErr):
			out = append(out, &sources.Invalid{Err: inErr})
		case err != nil:
			return nil, err
		default:
			out = append(out, ds)
		}
	}
	return out, nil
}

func parseDataset(files storeFiles, path, expID, key string) (*sources.Dataset, error) {
	m, err := readMeta(files, path)
	if err != nil {
		return nil, err
	}
	ds := &sources.Dataset{ExperimentSourceID: expID, Key: key, Origin: sources.Origin{File: path}}
	for field, dst := range map[string]*string{"name": &ds.Name, "digest": &ds.Digest, "source_type": &ds.SourceType, "source": &ds.Source} {
		if *dst, err = m.str(field); err != nil {
			return nil, err
		}
	}
	for field, dst := range map[string]**string{"schema": &ds.Schema, "profile": &ds.Profile} {
		if isNull(m.fields[field]) {
			continue
		}
		v, err := m.str(field)
		if err != nil {
			return nil, err
		}
		*dst = &v
	}
	if ds.Name == "" || ds.Digest == "" {
		return nil, &sources.InputError{File: path, Err: errors.New("dataset without name or digest")}
	}
	return ds, nil
}

// ownName gives an experiment the source id and name it is imported under, and says
// why they are not its own ("" when they are): a trashed experiment whose id an active
// one has takes its path as id; two experiments of one name in one store (copied
// together, or a deleted one kept beside its successor) would be merged by the import,
// as a database holds a name once, so the later one gets a name of its own.
func (s *fileStore) ownName(exp *sources.Experiment, folder experimentFolder, trashed bool, names map[string]bool) string {
	var message string
	if folder.sourceID != folder.id {
		exp.SourceID = folder.sourceID
		message = fmt.Sprintf("experiment %s %q in %s has the id of an active experiment: it is imported as a deleted experiment under an id of its own, with its runs", folder.id, exp.Name, trashFolder)
	}
	if !names[exp.Name] {
		return message
	}
	suffix := " (id " + folder.id + ")"
	if trashed {
		suffix = " (deleted, id " + folder.id + ")"
	}
	was := exp.Name
	exp.Name = uniqueName(exp.Name+suffix, names)
	if message == "" {
		message = fmt.Sprintf("experiment %s %q has the name of another experiment of the store", folder.id, was)
	}
	return message + fmt.Sprintf(", named %q because its name is taken", exp.Name)
}

// uniqueName is name, or name with the first number from 2 that no experiment has.
func uniqueName(name string, taken map[string]bool) string {
	if !taken[name] {
		return name
	}
	for i := 2; ; i++ {
		if candidate := fmt.Sprintf("%s %d", name, i); !taken[candidate] {
			return candidate
		}
	}
}
