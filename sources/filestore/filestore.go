package filestore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/mlflow-bulk/mlflow-bulk/remedy"
	"github.com/mlflow-bulk/mlflow-bulk/sources"

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
// or the default experiment's folder 0), and no meta.yaml of its own (an experiment's or
// a run's folder is part of a store, not one).
func Detect(dir string) bool {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	if fileExists(filepath.Join(dir, metaFile)) {
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

// Options are the file store reader's.
type Options struct {
	sources.Options
	// Workers is how many goroutines read runs side by side (records still come in
	// order); 0 or 1 reads on one.
	Workers int
	// FollowSymlinks reads files that are symbolic links to places outside the store; by
	// default they are invalid input, so a store from someone else cannot pull this
	// machine's files into the database.
	FollowSymlinks bool
}

// Open opens an MLflow file store for reading. Reading happens in a goroutine
// that stays at most a bounded number of records ahead of the consumer, so parsing
// overlaps writing and memory does not grow with the store.
func Open(ctx context.Context, root string, opts Options) (sources.Source, error) {
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
	order chan unit
	jobs  chan runJob
	// unchanged, when set, says which runs are as the consumer holds them
	// (filestore_stamp.go); runs are then stamped.
	unchanged func(runID string, stamp uint64) bool
}

type runJob struct {
	dir, folder string
	exp         experimentFolder
	out         unit
}

// experimentFolder is an experiment folder with the id its records carry: the folder's
// name, except for a trashed experiment whose id an active one also has.
type experimentFolder struct {
	dir, id, sourceID string
}

// recordEmitter is where reading code sends records: the producer itself, or a unit.
type recordEmitter func(ctx context.Context, r sources.Record) error

// read walks the store, reading runs on several goroutines when workers > 1 (units.go).
// The first error of any of them cancels the others (errgroup), so none is left blocked
// on a send.
func (s *fileStore) read(ctx context.Context) error {
	if s.workers <= 1 {
		return s.walk(ctx)
	}
	g, ctx := errgroup.WithContext(ctx)
	s.order = make(chan unit, orderWindow(s.workers))
	s.jobs = make(chan runJob)
	for i := 0; i < s.workers; i++ {
		g.Go(func() error {
			for job := range s.jobs {
				b := toUnit(job.out)
				err := s.readRun(ctx, b.add, job.dir, job.folder, job.exp)
				if err == nil {
					err = b.flush(ctx)
				}
				close(job.out)
				if err != nil {
					return err
				}
			}
			return nil
		})
	}
	g.Go(func() error { return s.emitUnits(ctx) })
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
	u := make(unit, 1)
	u <- []sources.Record{r}
	close(u)
	select {
	case s.order <- u:
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
	u := make(unit, 2)
	select {
	case s.order <- u:
	case <-ctx.Done():
		return sources.CheckContext(ctx)
	}
	select {
	case s.jobs <- runJob{dir: dir, folder: folder, exp: exp, out: u}:
		return nil
	case <-ctx.Done():
		close(u)
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

// walkItem is one entry of the store's root or trash folder as the walk meets it: an
// experiment folder to read (and, once loaded, what reading it found), or something to
// report as skipped.
type walkItem struct {
	skip    *sources.Skipped
	folder  experimentFolder
	trashed bool
	read    *experimentRead
}

// walkExperiments streams the active experiments, then the trashed ones. Both folders
// are listed first; the experiments are then read ahead side by side and sent in order.
func (s *fileStore) walkExperiments(ctx context.Context) error {
	entries, err := os.ReadDir(s.root)
	if err != nil {
		return fmt.Errorf("read file store: %w", err)
	}
	if s.models == nil { // Unsupported may have listed them already
		s.models = s.scanLoggedModels()
	}
	var items []walkItem
	skip := func(path, reason string) {
		items = append(items, walkItem{skip: &sources.Skipped{Path: path, Reason: reason}})
	}
	active := map[string]bool{}
	for _, e := range entries {
		name, path := e.Name(), filepath.Join(s.root, e.Name())
		switch {
		case name == trashFolder && e.IsDir():
			continue // read after the active experiments
		case !e.IsDir():
			skip(path, "not a folder, so not an experiment")
		case name == modelsFolder:
			continue // the model registry, read last
		case strings.HasPrefix(name, "."):
			skip(path, "hidden folder, not an experiment")
		case sources.RunIDPattern.MatchString(name) && !fileExists(filepath.Join(path, metaFile)):
			skip(path, "run-id folder outside any experiment without meta.yaml (artifacts only), not a run")
		default:
			active[name] = true
			items = append(items, walkItem{folder: experimentFolder{dir: path, id: name, sourceID: name}})
		}
	}
	trash := filepath.Join(s.root, trashFolder)
	trashed, trashErr := os.ReadDir(trash)
	if errors.Is(trashErr, fs.ErrNotExist) {
		trashErr = nil
	}
	for _, e := range trashed {
		name, path := e.Name(), filepath.Join(trash, e.Name())
		switch {
		case !e.IsDir() || strings.HasPrefix(name, "."):
			skip(path, "not an experiment folder")
		case active[name]:
			// Two experiments with one id (a store copied together from two, or ids reused
			// by an old MLflow): MLflow shows the active one, and a database can hold only
			// one of them under that id, so the trashed one gets an id of its own.
			items = append(items, walkItem{folder: experimentFolder{dir: path, id: name, sourceID: trashFolder + "/" + name}, trashed: true})
		default:
			items = append(items, walkItem{folder: experimentFolder{dir: path, id: name, sourceID: name}, trashed: true})
		}
	}
	names := map[string]bool{}
	load := func(it walkItem) walkItem {
		if it.skip == nil {
			it.read = s.loadExperiment(it.folder, it.trashed)
		}
		return it
	}
	err = inOrder(ctx, s.workers, 2*s.workers, items, load, func(it walkItem) error {
		if it.skip != nil {
			return s.send(ctx, it.skip)
		}
		return s.sendExperiment(ctx, it.read, names)
	})
	if err != nil {
		return err
	}
	if trashErr != nil {
		return fmt.Errorf("read file store trash: %w", trashErr)
	}
	return nil
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
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
			if err := sources.CheckContext(ctx); err != nil { // it runs beside the import, which may end first
				return n, err
			}
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

// Misplaced says what dir is when it is part of a file store rather than its root (an
// experiment's or a run's folder), and what to give instead, with the option that takes
// one experiment of the root; "" otherwise.
func Misplaced(dir string) (string, []remedy.Remedy) {
	data, err := os.ReadFile(filepath.Join(dir, metaFile))
	if err != nil {
		return "", nil
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		abs = dir
	}
	text := string(data)
	switch {
	case strings.Contains(text, "run_uuid:") || strings.Contains(text, "run_id:"):
		root := filepath.Dir(filepath.Dir(abs))
		return fmt.Sprintf("it is a run's folder of the file store %s: give the store's root", root),
			[]remedy.Remedy{{Option: sources.OptionExperiments, Value: "NAME", Does: "to take one experiment of it"}}
	case strings.Contains(text, "experiment_id:"):
		root := filepath.Dir(abs)
		return fmt.Sprintf("it is an experiment's folder of the file store %s: give the store's root", root),
			[]remedy.Remedy{{Option: sources.OptionExperiments, Value: "NAME", Does: "to import this experiment alone"}}
	}
	return "", nil
}

// OptionFollowSymlinks is Options.FollowSymlinks, as an error names it (package remedy).
const OptionFollowSymlinks remedy.Option = "filestore.Options.FollowSymlinks"
