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

	"github.com/mlflow-bulk/mlflow-bulk/sources"
	"github.com/mlflow-bulk/mlflow-bulk/sources/pyvalue"

	"golang.org/x/sync/errgroup"
)

// The file store ("mlruns") reader. Layout and formats: every MLflow version's, mixed in
// one store (1.x run meta with `name: ''`, 1.30+ `run_name`, 3.x without `run_uuid`;
// experiment ids as ints before 1.0; metric lines of 2 to 6 fields).

const (
	trashFolder  = ".trash"
	modelsFolder = "models"
	metaFile     = "meta.yaml"
)

// experimentChildren are the folders inside an experiment that are not runs; the walk
// reads logged models and traces after all runs.
var experimentChildren = map[string]bool{"tags": true, "datasets": true, "traces": true, "models": true}

// Detect reports whether dir looks like an MLflow file store root: a directory
// holding at least one experiment folder (a folder with meta.yaml, or the trash folder,
// or the default experiment's folder 0).
func Detect(dir string) bool {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		if e.Name() == trashFolder || e.Name() == "0" {
			return true
		}
		if _, err := os.Stat(filepath.Join(dir, e.Name(), metaFile)); err == nil {
			return true
		}
	}
	return false
}

// Open opens an MLflow file store for reading. Reading happens in a goroutine
// that stays at most a bounded number of records ahead of the consumer, so parsing
// overlaps writing and memory does not grow with the store.
func Open(ctx context.Context, root string, opts sources.Options) (sources.Source, error) {
	info, err := os.Stat(root)
	if err != nil {
		return nil, fmt.Errorf("open file store: %w", err)
	}
	if !info.IsDir() || !Detect(root) {
		return nil, fmt.Errorf("%s: %w (no experiment folders found)", root, sources.ErrNotRecognised)
	}
	s := &fileStore{root: root, chunk: opts.PointsPerRecord(), workers: opts.Workers, files: newStoreFiles(root, opts.FollowSymlinks)}
	s.Start(ctx, "file store "+root, s.read)
	return s, nil
}

type fileStore struct {
	sources.Producer
	files   storeFiles
	root    string
	chunk   int
	workers int
	// experiments are those the walk streamed, in walk order, for the logged models and
	// traces read after all runs; models are the ids of the logged models the store holds,
	// which run inputs and outputs may name.
	experiments []experimentFolder
	models      map[string]bool
	// With several workers every record travels in a unit: the records of one run, or a
	// single record of the walk. Units are emitted in walk order, while workers fill the
	// units of the runs ahead side by side.
	order chan chan sources.Record
	jobs  chan runJob
	// unchanged, when set, says which runs are as the consumer holds them
	// (filestore_stamp.go); runs are then stamped.
	unchanged func(runID string, stamp uint64) bool
}

type runJob struct {
	dir, folder string
	exp         experimentFolder
	out         chan sources.Record
}

// experimentFolder is an experiment folder with the id its records carry: the folder's
// name, except for a trashed experiment whose id an active one also has.
type experimentFolder struct {
	dir, id, sourceID string
}

// recordEmitter is where reading code sends records: the producer itself, or a unit.
type recordEmitter func(ctx context.Context, r sources.Record) error

// read walks the store, reading runs on several goroutines when workers > 1. The walk
// puts a unit (a channel of records) in order for each thing it meets, in walk order;
// workers fill the units of runs; one goroutine empties the units in order into the
// stream. The first error of any of them cancels the others (errgroup), so none is left
// blocked on a send.
func (s *fileStore) read(ctx context.Context) error {
	if s.workers <= 1 {
		return s.walk(ctx)
	}
	g, ctx := errgroup.WithContext(ctx)
	s.order = make(chan chan sources.Record, 2*s.workers)
	s.jobs = make(chan runJob)
	for i := 0; i < s.workers; i++ {
		g.Go(func() error {
			for job := range s.jobs {
				err := s.readRun(ctx, func(ctx context.Context, r sources.Record) error {
					select {
					case job.out <- r:
						return nil
					case <-ctx.Done():
						return sources.CheckContext(ctx)
					}
				}, job.dir, job.folder, job.exp)
				close(job.out)
				if err != nil {
					return err
				}
			}
			return nil
		})
	}
	g.Go(func() error {
		for unit := range s.order {
			for r := range unit {
				if err := s.Emit(ctx, r); err != nil {
					return err
				}
			}
		}
		return nil
	})
	walkErr := s.walk(ctx)
	// The walk is the only sender on both: nothing is sent after this.
	close(s.jobs)
	close(s.order)
	if err := g.Wait(); err != nil {
		return err // a worker's or the stream's error; the walk's is then the cancel it caused
	}
	return walkErr
}

// send emits a record of the walk: straight to the consumer, or as a unit of its own.
func (s *fileStore) send(ctx context.Context, r sources.Record) error {
	if s.order == nil {
		return s.Emit(ctx, r)
	}
	unit := make(chan sources.Record, 1)
	unit <- r
	close(unit)
	select {
	case s.order <- unit:
		return nil
	case <-ctx.Done():
		return sources.CheckContext(ctx)
	}
}

// dispatchRun reads a run now, or hands it to a worker with its place in the order.
func (s *fileStore) dispatchRun(ctx context.Context, dir, folder string, exp experimentFolder) error {
	if s.order == nil {
		return s.readRun(ctx, s.Emit, dir, folder, exp)
	}
	unit := make(chan sources.Record, 8)
	select {
	case s.order <- unit:
	case <-ctx.Done():
		return sources.CheckContext(ctx)
	}
	select {
	case s.jobs <- runJob{dir: dir, folder: folder, exp: exp, out: unit}:
		return nil
	case <-ctx.Done():
		close(unit)
		return sources.CheckContext(ctx)
	}
}

// walk streams the store: active experiments with their runs, then trashed ones, then
// the logged models and traces of every experiment streamed, then the model registry.
func (s *fileStore) walk(ctx context.Context) error {
	if err := s.walkExperiments(ctx); err != nil {
		return err
	}
	for _, exp := range s.experiments {
		if err := s.readLoggedModels(ctx, exp); err != nil {
			return err
		}
	}
	for _, exp := range s.experiments {
		if err := s.readTraces(ctx, exp); err != nil {
			return err
		}
	}
	return s.readRegistry(ctx, filepath.Join(s.root, modelsFolder))
}

func (s *fileStore) walkExperiments(ctx context.Context) error {
	entries, err := os.ReadDir(s.root)
	if err != nil {
		return fmt.Errorf("read file store: %w", err)
	}
	s.models = s.scanLoggedModels()
	active := map[string]bool{}
	names := map[string]bool{}
	for _, e := range entries {
		name, path := e.Name(), filepath.Join(s.root, e.Name())
		switch {
		case name == trashFolder && e.IsDir():
			continue // read after the active experiments
		case !e.IsDir():
			if err := s.sendSkip(ctx, path, "not a folder, so not an experiment"); err != nil {
				return err
			}
		case name == modelsFolder:
			continue // the model registry, read last
		case strings.HasPrefix(name, "."):
			if err := s.sendSkip(ctx, path, "hidden folder, not an experiment"); err != nil {
				return err
			}
		case sources.RunIDPattern.MatchString(name) && !fileExists(filepath.Join(path, metaFile)):
			if err := s.sendSkip(ctx, path, "run-id folder outside any experiment without meta.yaml (artifacts only), not a run"); err != nil {
				return err
			}
		default:
			active[name] = true
			if err := s.readExperiment(ctx, experimentFolder{dir: path, id: name, sourceID: name}, false, names); err != nil {
				return err
			}
		}
	}
	trash := filepath.Join(s.root, trashFolder)
	trashed, err := os.ReadDir(trash)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read file store trash: %w", err)
	}
	for _, e := range trashed {
		name, path := e.Name(), filepath.Join(trash, e.Name())
		switch {
		case !e.IsDir() || strings.HasPrefix(name, "."):
			if err := s.sendSkip(ctx, path, "not an experiment folder"); err != nil {
				return err
			}
		case active[name]:
			// Two experiments with one id (a store copied together from two, or ids reused
			// by an old MLflow): MLflow shows the active one, and a database can hold only
			// one of them under that id, so the trashed one gets an id of its own.
			if err := s.readExperiment(ctx, experimentFolder{dir: path, id: name, sourceID: trashFolder + "/" + name}, true, names); err != nil {
				return err
			}
		default:
			if err := s.readExperiment(ctx, experimentFolder{dir: path, id: name, sourceID: name}, true, names); err != nil {
				return err
			}
		}
	}
	return nil
}

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
		value, err := os.ReadFile(path)
		if err != nil {
			return &sources.InputError{File: path, Err: err}
		}
		out = append(out, sources.Tag{Key: filepath.ToSlash(rel), Value: string(value)})
		return nil
	})
	return out, err
}

// readMetrics streams every metric file of a run, key by key in name order, each in
// logging (line) order.
func (s *fileStore) readMetrics(ctx context.Context, emit recordEmitter, dir, runID string) error {
	type metricFile struct {
		path  string
		entry fs.DirEntry
	}
	var files []metricFile
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && path == dir {
				return fs.SkipDir
			}
			return err
		}
		if !d.IsDir() {
			files = append(files, metricFile{path, d})
		}
		return nil
	})
	if err != nil {
		return emit(ctx, &sources.Invalid{Err: &sources.InputError{File: dir, RunID: runID, Err: err}})
	}
	sort.Slice(files, func(i, j int) bool { return files[i].path < files[j].path })
	for _, f := range files {
		rel, _ := filepath.Rel(dir, f.path)
		if err := s.readMetricFile(ctx, emit, f.path, f.entry, filepath.ToSlash(rel), runID); err != nil {
			return err
		}
	}
	return nil
}

// minMetricLine is the shortest line of a metric file ("0 0\n"), which bounds the
// points a file of a given size can hold.
const minMetricLine = 4

func (s *fileStore) readMetricFile(ctx context.Context, emit recordEmitter, path string, entry fs.DirEntry, key, runID string) error {
	if err := s.files.checkEntry(path, entry); err != nil {
		return emit(ctx, &sources.Invalid{Err: &sources.InputError{File: path, RunID: runID, Err: err}})
	}
	f, err := os.Open(path)
	if err != nil {
		return emit(ctx, &sources.Invalid{Err: &sources.InputError{File: path, RunID: runID, Err: err}})
	}
	defer f.Close()
	// Most metric files are small: buffers sized for the file, not for the largest one,
	// keep a store of many short runs from allocating (and clearing) memory it never uses.
	bufSize, chunk := 64*1024, s.chunk
	if info, err := f.Stat(); err == nil {
		bufSize = int(min(info.Size()+1, int64(bufSize)))
		chunk = int(min(info.Size()/minMetricLine+1, int64(chunk)))
	}
	scanner := bufio.NewScanner(f)
	scanner.Buffer(make([]byte, 0, bufSize), 1024*1024)
	points := make([]sources.Metric, 0, chunk)
	line, first := 0, 1
	for scanner.Scan() {
		line++
		text := scanner.Text()
		if strings.TrimSpace(text) == "" {
			// MLflow's reader fails on a blank line, so the run cannot be shown there.
			return emit(ctx, &sources.Invalid{Err: &sources.InputError{File: path, Line: line, RunID: runID, Err: errors.New("malformed metric file: a blank line, which MLflow cannot read")}})
		}
		p, err := ParseMetricLine(key, text)
		if err != nil {
			return emit(ctx, &sources.Invalid{Err: &sources.InputError{File: path, Line: line, RunID: runID, Err: err}})
		}
		points = append(points, p)
		if len(points) == s.chunk {
			if err := emit(ctx, &sources.Metrics{RunID: runID, Points: points, Origin: sources.Origin{File: path, Line: first}}); err != nil {
				return err
			}
			points, first = make([]sources.Metric, 0, chunk), line+1
		}
	}
	if err := scanner.Err(); err != nil {
		return emit(ctx, &sources.Invalid{Err: &sources.InputError{File: path, Line: line + 1, RunID: runID, Err: err}})
	}
	if line == 0 {
		return emit(ctx, &sources.Invalid{Err: &sources.InputError{File: path, RunID: runID, Err: errors.New("malformed metric file: no data")}})
	}
	if len(points) > 0 {
		return emit(ctx, &sources.Metrics{RunID: runID, Points: points, Origin: sources.Origin{File: path, Line: first}})
	}
	return nil
}

// ParseMetricLine parses one line of a run's metric file, as MLflow's file store reads
// it (the line stripped, then split at single spaces):
//
//	<timestamp> <value>                                         (before MLflow 1.0; step 0)
//	<timestamp> <value> <step>
//	<timestamp> <value> <step> <dataset_name> <dataset_digest>  (3.x, metric tied to a dataset)
//
// Values are what Python's float() reads (nan, inf and -inf included, digits grouped
// with _; not hexadecimal), timestamps and steps what its int() reads. The dataset
// fields are not part of MLflow's metrics table and are dropped, as MLflow's converter
// does. A negative timestamp is refused, as MLflow refuses to log one.
func ParseMetricLine(key, line string) (sources.Metric, error) {
	fields := strings.Split(strings.TrimSpace(line), " ")
	if n := len(fields); n != 2 && n != 3 && n != 5 {
		return sources.Metric{}, fmt.Errorf("malformed metric line: %d fields, expected 2, 3 or 5 (timestamp value [step [dataset_name dataset_digest]])", n)
	}
	return parseMetricFields(key, fields)
}

// parseMetricFields reads the timestamp, value and step of a metric line's fields.
func parseMetricFields(key string, fields []string) (sources.Metric, error) {
	ts, ok := pyvalue.Int(fields[0])
	if !ok {
		return sources.Metric{}, fmt.Errorf("malformed metric line: timestamp %q is not an integer", fields[0])
	}
	if ts < 0 {
		return sources.Metric{}, fmt.Errorf("metric %q has a negative timestamp %d, which MLflow refuses", key, ts)
	}
	value, ok := pyvalue.Float(fields[1])
	if !ok {
		return sources.Metric{}, fmt.Errorf("malformed metric line: value %q is not a number", fields[1])
	}
	var step int64
	if len(fields) >= 3 {
		if step, ok = pyvalue.Int(fields[2]); !ok {
			return sources.Metric{}, fmt.Errorf("malformed metric line: step %q is not an integer", fields[2])
		}
	}
	return sources.Metric{Key: key, Value: value, Timestamp: ts, Step: step}, nil
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
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

// CountRuns counts run folders (those with a meta.yaml), active and in the trash.
func (s *fileStore) CountRuns(ctx context.Context) (int64, error) {
	var n int64
	for _, parent := range []string{s.root, filepath.Join(s.root, trashFolder)} {
		exps, _ := os.ReadDir(parent)
		for _, e := range exps {
			if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
				continue
			}
			runs, _ := os.ReadDir(filepath.Join(parent, e.Name()))
			for _, r := range runs {
				if r.IsDir() && fileExists(filepath.Join(parent, e.Name(), r.Name(), metaFile)) {
					n++
				}
			}
		}
		if err := sources.CheckContext(ctx); err != nil {
			return n, err
		}
	}
	return n, nil
}

func (s *fileStore) sendSkip(ctx context.Context, path, reason string) error {
	return s.send(ctx, &sources.Skipped{Path: path, Reason: reason})
}

func (s *fileStore) sendInvalidOrFatal(ctx context.Context, err error) error {
	var inErr *sources.InputError
	if errors.As(err, &inErr) {
		return s.send(ctx, &sources.Invalid{Err: inErr})
	}
	return err
}
