package exportimport

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/mlflow-bulk/mlflow-bulk/remedy"
	"github.com/mlflow-bulk/mlflow-bulk/sources"
	"github.com/mlflow-bulk/mlflow-bulk/sources/internal/jsonfile"
)

// The reader of mlflow-export-import's JSON exports, found at any depth below the folder
// given: single and bulk experiment exports (runs as <experiment>/runs/<run_id>/run.json
// or <experiment>/<run_id>/run.json), single-run exports (a run.json with no experiment
// around it), registered models (model.json), model versions (model_version.json, with
// the version's run in run/), logged models (logged_model.json), export file versions 1
// and 2 and the older layout without the "mlflow" wrapper. Unlike that tool's importer
// it keeps run ids, start and end times, full metric histories and version numbers.

// exportImportFiles are the file names that make a folder an mlflow-export-import export.
var exportImportFiles = map[string]bool{
	"experiment.json": true, "experiments.json": true, "run.json": true, "model.json": true,
	"model_version.json": true, "logged_model.json": true, "logged_models.json": true, "trace.json": true, "prompt.json": true,
}

// Detect reports whether dir holds an mlflow-export-import export: one of its
// files with the tool's JSON in it, at any depth.
func Detect(dir string) bool {
	info, err := os.Stat(dir)
	if err != nil || !info.IsDir() {
		return false
	}
	found := false
	walkExport(dir, func(path string, d fs.DirEntry) bool {
		if exportImportFiles[d.Name()] && looksExported(path) {
			found = true
		}
		return found
	})
	return found
}

// looksExported tells the tool's JSON from any other file of the same name: it has the
// "mlflow" object, or (before tool 1.0) a run's "info" with "params".
func looksExported(path string) bool {
	data, err := os.ReadFile(path)
	if err != nil {
		return false
	}
	var probe map[string]json.RawMessage
	if json.Unmarshal(jsonfile.PythonJSON(data), &probe) != nil {
		// experiment.json may be broken (a real export has an unterminated string):
		// its name still says what it is.
		return filepath.Base(path) == "experiment.json"
	}
	_, hasMlflow := probe["mlflow"]
	_, hasInfo := probe["info"]
	_, hasParams := probe["params"]
	return hasMlflow || hasInfo && hasParams
}

// walkExport visits the files of an export tree, leaving out artifact folders (copies of
// whatever the runs logged, possibly huge) and hidden folders, until visit returns true.
func walkExport(root string, visit func(string, fs.DirEntry) bool) {
	// The visit never fails: a folder that cannot be listed is not searched further,
	// and opening what was found reports any error there.
	_ = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() {
			if path != root && (d.Name() == "artifacts" || strings.HasPrefix(d.Name(), ".")) {
				return fs.SkipDir
			}
			return nil
		}
		if visit(path, d) {
			return fs.SkipAll
		}
		return nil
	})
}

// Open opens an mlflow-export-import export folder for reading.
func Open(ctx context.Context, root string, opts sources.Options) (sources.Source, error) {
	if !Detect(root) {
		return nil, fmt.Errorf("%s: %w (no experiment.json, run.json or model.json of mlflow-export-import found)", root, sources.ErrNotRecognised)
	}
	s := &exportImport{root: root, chunk: opts.PointsPerRecord(), usedIDs: map[string]bool{}, expByFolder: map[string]string{}}
	s.Start(ctx, "mlflow-export-import export "+root, s.read)
	return s, nil
}

type exportImport struct {
	sources.Producer
	root    string
	chunk   int
	usedIDs map[string]bool
	// expByFolder maps an experiment folder to the id its records carry; consumed are
	// the run.json files read with their experiment.
	expByFolder map[string]string
	consumed    map[string]bool
}

// eiRun is a run as run.json holds it.
type eiRun struct {
	Info *struct {
		RunID          string `json:"run_id"`
		RunUUID        string `json:"run_uuid"`
		ExperimentID   string `json:"experiment_id"`
		UserID         string `json:"user_id"`
		Status         string `json:"status"`
		StartTime      *int64 `json:"start_time"`
		EndTime        *int64 `json:"end_time"`
		LifecycleStage string `json:"lifecycle_stage"`
		ArtifactURI    string `json:"artifact_uri"`
		RunName        string `json:"run_name"`
	} `json:"info"`
	Params  map[string]string `json:"params"`
	Tags    jsonfile.TagMap   `json:"tags"`
	Metrics map[string][]struct {
		Value     jsonfile.Float `json:"value"`
		Timestamp int64          `json:"timestamp"`
		Step      int64          `json:"step"`
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
}

type eiFile struct {
	Mlflow struct {
		Experiment *struct {
			ExperimentID     string          `json:"experiment_id"`
			Name             string          `json:"name"`
			ArtifactLocation string          `json:"artifact_location"`
			LifecycleStage   string          `json:"lifecycle_stage"`
			Tags             jsonfile.TagMap `json:"tags"`
			CreationTime     *int64          `json:"creation_time"`
			LastUpdateTime   *int64          `json:"last_update_time"`
		} `json:"experiment"`
		Runs        []string `json:"runs"`
		Experiments []struct {
			ID           string   `json:"id"`
			Name         string   `json:"name"`
			LoggedModels []string `json:"logged_models"`
		} `json:"experiments"`
		eiRun
	} `json:"mlflow"`
	// Run exports before the tool's 1.0 have the run at the top, without "mlflow".
	Legacy eiRun `json:"-"`
}

// readJSONInto decodes one of the export's JSON files.
func readJSONInto(path string, into any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return &sources.InputError{File: path, Err: err}
	}
	return jsonfile.Decode(path, data, into)
}

func readEIFile(path string) (*eiFile, error) {
	var f eiFile
	if err := readJSONInto(path, &f); err != nil {
		return nil, err
	}
	if f.Mlflow.Info == nil && filepath.Base(path) == "run.json" {
		if err := readJSONInto(path, &f.Legacy); err != nil {
			return nil, err
		}
		if f.Legacy.Info != nil && (f.Legacy.Info.RunID != "" || f.Legacy.Info.RunUUID != "") {
			f.Mlflow.eiRun = f.Legacy
		}
	}
	return &f, nil
}

// exportFiles are the files of an export tree, by kind.
type exportFiles struct {
	experimentDirs                                          map[string]bool
	listedNames                                             map[string]string // experiment folder -> name from experiments.json
	runs, models, loggedModels, modelLists, traces, prompts []string
}

func (s *exportImport) scan() exportFiles {
	found := exportFiles{experimentDirs: map[string]bool{}, listedNames: map[string]string{}}
	walkExport(s.root, func(path string, d fs.DirEntry) bool {
		switch d.Name() {
		case "experiment.json":
			found.experimentDirs[filepath.Dir(path)] = true
		case "experiments.json":
			// The list names experiments whose experiment.json may be missing or broken.
			if f, err := readEIFile(path); err == nil {
				for _, e := range f.Mlflow.Experiments {
					dir := filepath.Join(filepath.Dir(path), e.ID)
					found.listedNames[dir] = e.Name
					if _, err := os.Stat(dir); err == nil {
						found.experimentDirs[dir] = true
					}
				}
			}
		case "run.json":
			found.runs = append(found.runs, path)
		case "model.json", "model_version.json":
			found.models = append(found.models, path)
		case "logged_model.json":
			found.loggedModels = append(found.loggedModels, path)
		case "logged_models.json":
			found.modelLists = append(found.modelLists, path)
		case "trace.json":
			found.traces = append(found.traces, path)
		case "prompt.json":
			found.prompts = append(found.prompts, path)
		}
		return false
	})
	sort.Strings(found.runs)
	sort.Strings(found.models)
	sort.Strings(found.loggedModels)
	return found
}

// read streams experiments with their runs, then the runs exported on their own, then
// logged models and registered models (which refer to runs).
func (s *exportImport) read(ctx context.Context) error {
	found := s.scan()
	s.consumed = map[string]bool{}
	dirs := make([]string, 0, len(found.experimentDirs))
	for d := range found.experimentDirs {
		dirs = append(dirs, d)
	}
	sort.Strings(dirs)
	for _, dir := range dirs {
		if err := s.readExperiment(ctx, dir, found.listedNames[dir]); err != nil {
			return err
		}
	}
	if err := s.readLoneRuns(ctx, found.runs); err != nil {
		return err
	}
	if err := s.readLoggedModels(ctx, found.loggedModels, found.modelLists); err != nil {
		return err
	}
	if err := s.readTraces(ctx, found.traces); err != nil {
		return err
	}
	registry := make([]string, 0, len(found.models)+len(found.prompts))
	registry = append(append(registry, found.models...), found.prompts...)
	for _, path := range registry {
		if err := sources.CheckContext(ctx); err != nil {
			return err
		}
		parse := parseEIRegisteredModel
		if filepath.Base(path) == "prompt.json" {
			parse = parseEIPrompt
		}
		m, err := parse(path)
		if err != nil {
			if err := s.InvalidOrFatal(ctx, err); err != nil {
				return err
			}
			continue
		}
		if err := s.Emit(ctx, m); err != nil {
			return err
		}
	}
	return nil
}

// readLoneRuns reads the run.json files no experiment folder holds: what export-run and
// export-model-version write. A run goes into the experiment of this export with the id
// it names, or else into one made for its experiment id, which the report names.
func (s *exportImport) readLoneRuns(ctx context.Context, runs []string) error {
	made := map[string]string{} // experiment id of the run -> source id of the made experiment
	for _, path := range runs {
		if s.consumed[path] {
			continue
		}
		f, err := readEIFile(path)
		if err == nil && f.Mlflow.Info == nil {
			err = &sources.InputError{File: path, Err: errors.New("no \"info\" in it")}
		}
		if err != nil {
			if err := s.InvalidOrFatal(ctx, err); err != nil {
				return err
			}
			continue
		}
		expID := f.Mlflow.Info.ExperimentID
		sourceID, ok := s.experimentWithID(expID)
		if !ok {
			if sourceID, ok = made[expID]; !ok {
				sourceID = "run export/" + expID
				name := "Exported runs of experiment " + expID
				if expID == "" {
					name = "Exported runs"
				}
				exp := &sources.Experiment{SourceID: sourceID, Name: name, LifecycleStage: sources.LifecycleActive, Origin: sources.Origin{File: path}}
				notice := fmt.Sprintf("runs exported without their experiment (such as %s) name experiment %q only by its id: they are imported into experiment %q; "+remedy.Mention(sources.OptionTargetExperiment)+" NAME puts them into another",
					path, expID, name)
				if err := s.Emit(ctx, &sources.Notice{Path: path, Message: notice}); err != nil {
					return err
				}
				if err := s.Emit(ctx, exp); err != nil {
					return err
				}
				made[expID] = sourceID
			}
		}
		folder := filepath.Base(filepath.Dir(path))
		if err := s.emitRun(ctx, f, path, folder, sourceID); err != nil {
			return err
		}
	}
	return nil
}

// experimentWithID finds the experiment of this export that kept a source id.
func (s *exportImport) experimentWithID(id string) (string, bool) {
	if id == "" || !s.usedIDs[id] {
		return "", false
	}
	for _, sourceID := range s.expByFolder {
		if sourceID == id {
			return id, true
		}
	}
	return "", false
}

// readTraces reads trace.json files into the experiment folder they sit in
// (<experiment>/traces/<id>/), or the experiment of this export their info names.
func (s *exportImport) readTraces(ctx context.Context, files []string) error {
	told := false
	for _, path := range files {
		if err := sources.CheckContext(ctx); err != nil {
			return err
		}
		expID, ok := s.expByFolder[filepath.Dir(filepath.Dir(filepath.Dir(path)))]
		if !ok {
			var f struct {
				Mlflow struct {
					Info struct {
						ExperimentID  flexText `json:"experiment_id"`
						TraceLocation struct {
							MlflowExperiment struct {
								ExperimentID flexText `json:"experiment_id"`
							} `json:"mlflow_experiment"`
						} `json:"trace_location"`
					} `json:"info"`
				} `json:"mlflow"`
			}
			if err := readJSONInto(path, &f); err == nil {
				id := string(f.Mlflow.Info.ExperimentID)
				if id == "" {
					id = string(f.Mlflow.Info.TraceLocation.MlflowExperiment.ExperimentID)
				}
				expID, ok = s.experimentWithID(id)
			}
		}
		if !ok {
			if err := s.Skip(ctx, path, "trace outside any exported experiment: its experiment is not in this export"); err != nil {
				return err
			}
			continue
		}
		tr, err := parseEITrace(path, expID)
		if err != nil {
			if err := s.InvalidOrFatal(ctx, err); err != nil {
				return err
			}
			continue
		}
		if spans := filepath.Join(filepath.Dir(path), "traces.json"); regularFile(spans) {
			tr.ArtifactsAt = spans
		}
		if !told {
			told = true
			msg := "the spans of exported traces are files of the export (traces.json beside each trace.json): copy them to the location each trace's mlflow.artifactLocation tag names for MLflow to show them, " +
				"as an import that copies artifacts does"
			if err := s.Emit(ctx, &sources.Notice{Path: path, Message: msg}); err != nil {
				return err
			}
		}
		if err := s.Emit(ctx, tr); err != nil {
			return err
		}
	}
	return nil
}

// readLoggedModels reads logged_model.json files into the experiment folder they sit
// in; a model listed in logged_models.json whose file is missing is reported.
func (s *exportImport) readLoggedModels(ctx context.Context, files, lists []string) error {
	have := map[string]bool{}
	for _, path := range files {
		if err := sources.CheckContext(ctx); err != nil {
			return err
		}
		have[filepath.Base(filepath.Dir(path))] = true
		expID, ok := s.expByFolder[loggedModelExperiment(path)]
		if !ok {
			var f eiLoggedModelFile
			if err := readJSONInto(path, &f); err == nil {
				expID, ok = s.experimentWithID(string(f.Mlflow.ExperimentID))
			}
		}
		if !ok {
			if err := s.Skip(ctx, path, "logged model outside any exported experiment: its experiment is not in this export"); err != nil {
				return err
			}
			continue
		}
		m, err := parseEILoggedModel(path, expID)
		if err != nil {
			if err := s.InvalidOrFatal(ctx, err); err != nil {
				return err
			}
			continue
		}
		if err := s.Emit(ctx, m); err != nil {
			return err
		}
	}
	for _, list := range lists {
		f, err := readEIFile(list)
		if err != nil {
			continue // an index only; the models' own files are what is read
		}
		for _, e := range f.Mlflow.Experiments {
			for _, id := range e.LoggedModels {
				if !have[id] {
					if err := s.Skip(ctx, list, "logged model "+id+" is listed here but its logged_model.json is missing: it was not exported"); err != nil {
						return err
					}
				}
			}
		}
	}
	return nil
}

func (s *exportImport) readExperiment(ctx context.Context, dir, listedName string) error {
	if err := sources.CheckContext(ctx); err != nil {
		return err
	}
	metaPath := filepath.Join(dir, "experiment.json")
	exp := &sources.Experiment{Name: listedName, LifecycleStage: sources.LifecycleActive, Origin: sources.Origin{File: metaPath}}
	var listed []string
	f, err := readEIFile(metaPath)
	switch {
	case err == nil && f.Mlflow.Experiment != nil:
		e := f.Mlflow.Experiment
		exp.SourceID, exp.Name, exp.ArtifactLocation = e.ExperimentID, e.Name, e.ArtifactLocation
		exp.CreationTime, exp.LastUpdateTime = e.CreationTime, e.LastUpdateTime
		if e.LifecycleStage != "" {
			exp.LifecycleStage = sources.Lifecycle(e.LifecycleStage)
		}
		keys := make([]string, 0, len(e.Tags))
		for k := range e.Tags {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			exp.Tags = append(exp.Tags, sources.Tag{Key: k, Value: e.Tags[k]})
		}
		listed = f.Mlflow.Runs
	case err == nil:
		err = &sources.InputError{File: metaPath, Err: errors.New("no \"experiment\" in it")}
		fallthrough
	default:
		var inErr *sources.InputError
		if !errors.As(err, &inErr) {
			return err
		}
		if err := s.Emit(ctx, &sources.Invalid{Err: inErr}); err != nil {
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
	s.expByFolder[dir] = exp.SourceID
	if err := s.Emit(ctx, exp); err != nil {
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
			if err := s.Skip(ctx, metaPath, "run "+id+" is listed here but its run.json is missing: it was not exported"); err != nil {
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
		s.consumed[runFiles[id]] = true
		if err := s.readRun(ctx, runFiles[id], id, exp.SourceID); err != nil {
			return err
		}
	}
	return nil
}

func (s *exportImport) readRun(ctx context.Context, path, folder, expID string) error {
	f, err := readEIFile(path)
	if err == nil && f.Mlflow.Info == nil {
		err = &sources.InputError{File: path, Err: errors.New("no \"info\" in it")}
	}
	if err != nil {
		return s.InvalidOrFatal(ctx, err)
	}
	return s.emitRun(ctx, f, path, folder, expID)
}

// emitRun streams the run of a run.json, its datasets first, its metric history after.
func (s *exportImport) emitRun(ctx context.Context, f *eiFile, path, folder, expID string) error {
	info := f.Mlflow.Info
	run := &sources.Run{ExperimentSourceID: expID, Origin: sources.Origin{File: path},
		Name: info.RunName, UserID: info.UserID, Status: sources.RunStatus(strings.ToUpper(info.Status)), StartTime: info.StartTime, EndTime: info.EndTime,
		LifecycleStage: sources.Lifecycle(info.LifecycleStage), ArtifactURI: info.ArtifactURI, SourceType: sources.SourceLocal,
		// mlflow-export-import writes a run's files beside its run.json.
		ArtifactsAt: filepath.Join(filepath.Dir(path), "artifacts")}
	// The folder names the run (experiment.json lists runs by it); run.json's own id is
	// used only when the folder is not a run id.
	run.RunID = folder
	if !sources.RunIDPattern.MatchString(folder) {
		run.RunID = info.RunID
	} else if info.RunID != "" && info.RunID != folder {
		// Nothing is left out: each folder is a run, as mlflow-export-import imports it
		// (a real export holds two folders whose run.json say one run_id).
		notice := "run.json says run_id " + info.RunID + " in the folder " + folder + ": imported as run " + folder + ", the folder's name, as experiment.json lists it"
		if err := s.Emit(ctx, &sources.Notice{Path: path, Message: notice}); err != nil {
			return err
		}
	}
	if run.Status == "" {
		run.Status = sources.StatusFinished
	}
	if !run.Status.Valid() {
		return s.Emit(ctx, &sources.Invalid{Err: &sources.InputError{File: path, RunID: run.RunID, Err: fmt.Errorf("unknown run status %q", info.Status)}})
	}
	if run.LifecycleStage == "" {
		run.LifecycleStage = sources.LifecycleActive
	}
	run.Params = sortedTags(f.Mlflow.Params)
	run.Tags = sortedTags(f.Mlflow.Tags)
	for _, in := range f.Mlflow.Inputs {
		d := in.Dataset
		ds := &sources.Dataset{ExperimentSourceID: expID, Key: d.Name + "\x00" + d.Digest, Name: d.Name, Digest: d.Digest,
			SourceType: d.SourceType, Source: d.Source, Schema: d.Schema, Profile: d.Profile, Origin: sources.Origin{File: path}}
		if err := s.Emit(ctx, ds); err != nil {
			return err
		}
		input := sources.Input{SourceType: "DATASET", SourceID: ds.Key, DestinationType: "RUN", DestinationID: run.RunID}
		for _, t := range in.Tags {
			input.Tags = append(input.Tags, sources.Tag{Key: t.Key, Value: t.Value})
		}
		run.Inputs = append(run.Inputs, input)
	}
	if err := s.Emit(ctx, run); err != nil {
		return err
	}
	keys := make([]string, 0, len(f.Mlflow.Metrics))
	for k := range f.Mlflow.Metrics {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	points := make([]sources.Metric, 0, s.chunk)
	for _, k := range keys {
		for _, p := range f.Mlflow.Metrics[k] {
			points = append(points, sources.Metric{Key: k, Value: float64(p.Value), Timestamp: p.Timestamp, Step: p.Step})
			if len(points) == s.chunk {
				if err := s.Emit(ctx, &sources.Metrics{RunID: run.RunID, Points: points, Origin: sources.Origin{File: path}}); err != nil {
					return err
				}
				points = make([]sources.Metric, 0, s.chunk)
			}
		}
	}
	if len(points) > 0 {
		return s.Emit(ctx, &sources.Metrics{RunID: run.RunID, Points: points, Origin: sources.Origin{File: path}})
	}
	return nil
}

func sortedTags(m map[string]string) []sources.Tag {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]sources.Tag, 0, len(keys))
	for _, k := range keys {
		out = append(out, sources.Tag{Key: k, Value: m[k]})
	}
	return out
}

// regularFile tells whether p is a file (not a folder, not a link to elsewhere).
func regularFile(p string) bool {
	fi, err := os.Lstat(p)
	return err == nil && fi.Mode().IsRegular()
}
