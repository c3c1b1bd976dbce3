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

// readExperiment streams one experiment folder: the experiment, its datasets, its runs.
// It returns only fatal errors; bad input is emitted as Invalid. names are the names of
// the experiments streamed before, which a trashed experiment with a reused id must not
// take (an import merges experiments by name).
func (s *fileStore) readExperiment(ctx context.Context, folder experimentFolder, trashed bool, names map[string]bool) error {
	if err := sources.CheckContext(ctx); err != nil {
		return err
	}
	dir, id := folder.dir, folder.id
	exp, err := s.parseExperiment(dir, id, trashed)
	if errors.Is(err, errEmptyMeta) {
		if id != "0" {
			return s.sendSkip(ctx, dir, "no meta.yaml, so not an experiment")
		}
		// MLflow creates experiment 0 when it creates the store; stores copied around
		// often lose its meta.yaml while keeping its runs.
		exp = &sources.Experiment{SourceID: "0", Name: "Default", LifecycleStage: sources.LifecycleActive, Origin: sources.Origin{File: dir}}
		if err := s.sendSkip(ctx, filepath.Join(dir, metaFile), "missing; folder 0 read as MLflow's Default experiment"); err != nil {
			return err
		}
	} else if err != nil {
		var inErr *sources.InputError
		if errors.As(err, &inErr) {
			return s.send(ctx, &sources.Invalid{Err: inErr})
		}
		return err
	}
	if exp == nil { // its meta.yaml names another experiment
		return s.sendSkip(ctx, dir, "experiment_id in meta.yaml differs from the folder name; MLflow ignores this experiment")
	}
	if exp.Tags, err = readKeyValueFiles(s.files, filepath.Join(dir, "tags")); err != nil {
		return s.sendInvalidOrFatal(ctx, err)
	}
	if message := s.ownName(exp, folder, trashed, names); message != "" {
		if err := s.send(ctx, &sources.Notice{Path: dir, Message: message}); err != nil {
			return err
		}
	}
	names[exp.Name] = true
	if err := s.send(ctx, exp); err != nil {
		return err
	}
	s.experiments = append(s.experiments, folder)
	if err := s.readDatasets(ctx, dir, folder.sourceID); err != nil {
		return err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("read experiment folder: %w", err)
	}
	for _, e := range entries {
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

func (s *fileStore) readDatasets(ctx context.Context, expDir, expID string) error {
	dir := filepath.Join(expDir, "datasets")
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read datasets: %w", err)
	}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		ds, err := parseDataset(s.files, filepath.Join(dir, e.Name(), metaFile), expID, e.Name())
		if errors.Is(err, errEmptyMeta) {
			if err := s.sendSkip(ctx, filepath.Join(dir, e.Name()), "dataset folder without meta.yaml"); err != nil {
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
		if err := s.send(ctx, ds); err != nil {
			return err
		}
	}
	return nil
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
