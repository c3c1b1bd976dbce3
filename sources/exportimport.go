package sources

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// The reader of mlflow-export-import's JSON exports: single and bulk exports, runs as
// <experiment>/runs/<run_id>/run.json or <experiment>/<run_id>/run.json, export file
// versions 1 and 2. Unlike that tool's importer it keeps run ids, start and end times
// and full metric histories.

// exportImportDepth is how deep below the given folder experiment folders are looked for
// (bulk/models/experiments/<id> is three levels down from bulk).
const exportImportDepth = 4

// IsExportImport reports whether dir holds an mlflow-export-import export.
func IsExportImport(dir string) bool {
	info, err := os.Stat(dir)
	if err != nil || !info.IsDir() {
		return false
	}
	found := false
	walkDepth(dir, exportImportDepth, func(path string, d fs.DirEntry) {
		if !d.IsDir() && (d.Name() == "experiment.json" || d.Name() == "experiments.json") {
			found = true
		}
	})
	return found
}

func walkDepth(root string, depth int, visit func(string, fs.DirEntry)) {
	// The visit never fails: a folder that cannot be listed is not searched further,
	// and opening what was found reports any error there.
	_ = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() && rel != "." && strings.Count(rel, string(filepath.Separator)) >= depth {
			return fs.SkipDir
		}
		visit(path, d)
		return nil
	})
}

// OpenExportImport opens an mlflow-export-import export folder for reading.
func OpenExportImport(ctx context.Context, root string, opts Options) (Source, error) {
	if !IsExportImport(root) {
		return nil, fmt.Errorf("%s: %w (no experiment.json found)", root, ErrNotRecognised)
	}
	s := &exportImport{root: root, chunk: opts.metricChunk(), usedIDs: map[string]bool{}}
	s.start(ctx, "mlflow-export-import export "+root, s.read)
	return s, nil
}

type exportImport struct {
	producer
	root    string
	chunk   int
	usedIDs map[string]bool
}

type eiFile struct {
	Mlflow struct {
		Experiment *struct {
			ExperimentID     string `json:"experiment_id"`
			Name             string `json:"name"`
			ArtifactLocation string `json:"artifact_location"`
			LifecycleStage   string `json:"lifecycle_stage"`
			Tags             tagMap `json:"tags"`
			CreationTime     *int64 `json:"creation_time"`
			LastUpdateTime   *int64 `json:"last_update_time"`
		} `json:"experiment"`
		Runs        []string `json:"runs"`
		Experiments []struct {
			ID   string `json:"id"`
			Name string `json:"name"`
		} `json:"experiments"`
		Info *struct {
			RunID          string `json:"run_id"`
			RunUUID        string `json:"run_uuid"`
			UserID         string `json:"user_id"`
			Status         string `json:"status"`
			StartTime      *int64 `json:"start_time"`
			EndTime        *int64 `json:"end_time"`
			LifecycleStage string `json:"lifecycle_stage"`
			ArtifactURI    string `json:"artifact_uri"`
			RunName        string `json:"run_name"`
		} `json:"info"`
		Params  map[string]string `json:"params"`
		Tags    tagMap            `json:"tags"`
		Metrics map[string][]struct {
			Value     jsonFloat `json:"value"`
			Timestamp int64     `json:"timestamp"`
			Step      int64     `json:"step"`
		} `json:"metrics"`
		Inputs []struct {
			Dataset struct {
				Name       string  `json:"name"`
				Digest     string  `json:"digest"`
				SourceType string  `json:"source_type"`
				Source     string  `json:"source"`
				Schema     *string `json:"schema"`
				Profile    *string `json:"profile"`
			} `json:"dataset"`
			Tags []struct {
				Key   string `json:"key"`
				Value string `json:"value"`
			} `json:"tags"`
		} `json:"inputs"`
	} `json:"mlflow"`
}

func readEIFile(path string) (*eiFile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &InputError{File: path, Err: err}
	}
	var f eiFile
	if err := decodeJSONFile(path, data, &f); err != nil {
		return nil, err
	}
	return &f, nil
}

func (s *exportImport) read(ctx context.Context) error {
	// Experiment folders: those with an experiment.json, and those experiments.json
	// lists (their experiment.json may be missing or broken; the list still names them).
	names := map[string]string{} // experiment folder -> name from experiments.json
	folders := map[string]bool{}
	var other []string
	walkDepth(s.root, exportImportDepth, func(path string, d fs.DirEntry) {
		switch {
		case d.IsDir():
		case d.Name() == "experiment.json":
			folders[filepath.Dir(path)] = true
		case d.Name() == "experiments.json":
			if f, err := readEIFile(path); err == nil {
				for _, e := range f.Mlflow.Experiments {
					dir := filepath.Join(filepath.Dir(path), e.ID)
					names[dir] = e.Name
					if _, err := os.Stat(dir); err == nil {
						folders[dir] = true
					}
				}
			}
		case d.Name() == "models.json" || d.Name() == "model.json" || d.Name() == "logged_models.json" || d.Name() == "manifest.json":
			other = append(other, path)
		}
	})
	for _, path := range other {
		if err := s.skip(ctx, path, "model exports are not imported from mlflow-export-import (the runs are)"); err != nil {
			return err
		}
	}
	dirs := make([]string, 0, len(folders))
	for d := range folders {
		dirs = append(dirs, d)
	}
	sort.Strings(dirs)
	for _, dir := range dirs {
		if err := s.readExperiment(ctx, dir, names[dir]); err != nil {
			return err
		}
	}
	return nil
}

func (s *exportImport) readExperiment(ctx context.Context, dir, listedName string) error {
	if err := checkContext(ctx); err != nil {
		return err
	}
	metaPath := filepath.Join(dir, "experiment.json")
	exp := &Experiment{Name: listedName, LifecycleStage: LifecycleActive, Origin: Origin{File: metaPath}}
	var listed []string
	f, err := readEIFile(metaPath)
	switch {
	case err == nil && f.Mlflow.Experiment != nil:
		e := f.Mlflow.Experiment
		exp.SourceID, exp.Name, exp.ArtifactLocation = e.ExperimentID, e.Name, e.ArtifactLocation
		exp.CreationTime, exp.LastUpdateTime = e.CreationTime, e.LastUpdateTime
		if e.LifecycleStage != "" {
			exp.LifecycleStage = Lifecycle(e.LifecycleStage)
		}
		keys := make([]string, 0, len(e.Tags))
		for k := range e.Tags {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			exp.Tags = append(exp.Tags, Tag{Key: k, Value: e.Tags[k]})
		}
		listed = f.Mlflow.Runs
	case err == nil:
		err = &InputError{File: metaPath, Err: errors.New("no \"experiment\" in it")}
		fallthrough
	default:
		var inErr *InputError
		if !errors.As(err, &inErr) {
			return err
		}
		if err := s.emit(ctx, &Invalid{Err: inErr}); err != nil {
			return err
		}
		if listedName == "" {
			// Without a name the runs cannot be placed: they are left out with it.
			return nil
		}
	}
	// Experiment ids are kept where this export has each once; a second folder with the
	// same id (bulk exports repeat experiments under models/) gets its path instead.
	rel, _ := filepath.Rel(s.root, dir)
	if exp.SourceID == "" || s.usedIDs[exp.SourceID] {
		exp.SourceID = filepath.ToSlash(rel)
	}
	s.usedIDs[exp.SourceID] = true
	if err := s.emit(ctx, exp); err != nil {
		return err
	}
	runFiles := map[string]string{} // run id (folder) -> run.json
	for _, pattern := range []string{filepath.Join(dir, "runs", "*", "run.json"), filepath.Join(dir, "*", "run.json")} {
		matches, _ := filepath.Glob(pattern)
		for _, m := range matches {
			runFiles[filepath.Base(filepath.Dir(m))] = m
		}
	}
	for _, id := range listed {
		if _, ok := runFiles[id]; !ok {
			if err := s.skip(ctx, metaPath, "run "+id+" is listed here but its run.json is missing: it was not exported"); err != nil {
				return err
			}
		}
	}
	ids := make([]string, 0, len(runFiles))
	for id := range runFiles {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		if err := s.readRun(ctx, runFiles[id], id, exp.SourceID); err != nil {
			return err
		}
	}
	return nil
}

func (s *exportImport) readRun(ctx context.Context, path, folder, expID string) error {
	f, err := readEIFile(path)
	if err == nil && f.Mlflow.Info == nil {
		err = &InputError{File: path, Err: errors.New("no \"info\" in it")}
	}
	if err != nil {
		return s.invalidOrFatal(ctx, err)
	}
	info := f.Mlflow.Info
	run := &Run{ExperimentSourceID: expID, Origin: Origin{File: path},
		Name: info.RunName, UserID: info.UserID, Status: RunStatus(strings.ToUpper(info.Status)), StartTime: info.StartTime, EndTime: info.EndTime,
		LifecycleStage: Lifecycle(info.LifecycleStage), ArtifactURI: info.ArtifactURI, SourceType: SourceLocal}
	// The folder names the run (experiment.json lists runs by it); run.json's own id is
	// used only when the folder is not a run id.
	run.RunID = folder
	if !runIDPattern.MatchString(folder) {
		run.RunID = info.RunID
	} else if info.RunID != "" && info.RunID != folder {
		if err := s.skip(ctx, path, "run.json says run_id "+info.RunID+"; the folder name "+folder+" is used, as experiment.json lists it"); err != nil {
			return err
		}
	}
	if run.Status == "" {
		run.Status = StatusFinished
	}
	if !run.Status.Valid() {
		return s.emit(ctx, &Invalid{Err: &InputError{File: path, RunID: run.RunID, Err: fmt.Errorf("unknown run status %q", info.Status)}})
	}
	if run.LifecycleStage == "" {
		run.LifecycleStage = LifecycleActive
	}
	run.Params = sortedTags(f.Mlflow.Params)
	run.Tags = sortedTags(f.Mlflow.Tags)
	for _, in := range f.Mlflow.Inputs {
		d := in.Dataset
		ds := &Dataset{ExperimentSourceID: expID, Key: d.Name + "\x00" + d.Digest, Name: d.Name, Digest: d.Digest,
			SourceType: d.SourceType, Source: d.Source, Schema: d.Schema, Profile: d.Profile, Origin: Origin{File: path}}
		if err := s.emit(ctx, ds); err != nil {
			return err
		}
		input := Input{SourceType: "DATASET", SourceID: ds.Key, DestinationType: "RUN", DestinationID: run.RunID}
		for _, t := range in.Tags {
			input.Tags = append(input.Tags, Tag{Key: t.Key, Value: t.Value})
		}
		run.Inputs = append(run.Inputs, input)
	}
	if err := s.emit(ctx, run); err != nil {
		return err
	}
	keys := make([]string, 0, len(f.Mlflow.Metrics))
	for k := range f.Mlflow.Metrics {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	points := make([]Metric, 0, s.chunk)
	for _, k := range keys {
		for _, p := range f.Mlflow.Metrics[k] {
			points = append(points, Metric{Key: k, Value: float64(p.Value), Timestamp: p.Timestamp, Step: p.Step})
			if len(points) == s.chunk {
				if err := s.emit(ctx, &Metrics{RunID: run.RunID, Points: points, Origin: Origin{File: path}}); err != nil {
					return err
				}
				points = make([]Metric, 0, s.chunk)
			}
		}
	}
	if len(points) > 0 {
		return s.emit(ctx, &Metrics{RunID: run.RunID, Points: points, Origin: Origin{File: path}})
	}
	return nil
}

func sortedTags(m map[string]string) []Tag {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]Tag, 0, len(keys))
	for _, k := range keys {
		out = append(out, Tag{Key: k, Value: m[k]})
	}
	return out
}

// invalidOrFatal emits bad input as Invalid and returns other errors.
func (p *producer) invalidOrFatal(ctx context.Context, err error) error {
	var inErr *InputError
	if errors.As(err, &inErr) {
		return p.emit(ctx, &Invalid{Err: inErr})
	}
	return err
}
