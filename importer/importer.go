// Package importer is mlflow-bulk's pipeline: it pulls records from sources, maps
// experiment ids, applies MLflow's write rules (NaN/inf, metric de-duplication,
// latest_metrics, run names), batches rows and writes them through a sink, and keeps
// the report. Sources and sinks stay dumb; every rule lives here.
//
// Transactions: the importer writes through one transaction at a time and commits only
// at run boundaries, once a batch holds BatchRows rows, so every run is committed whole
// or not at all and a crash loses at most the open batch. A run bigger than the memory
// budget is flushed to the open transaction under a savepoint, so it can still be
// dropped whole when its input turns out to be invalid.
package importer

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/mlflow-bulk/mlflow-bulk/importer/rules"
	"github.com/mlflow-bulk/mlflow-bulk/remedy"

	"github.com/google/uuid"
	"github.com/mlflow-bulk/mlflow-bulk/schema"
	"github.com/mlflow-bulk/mlflow-bulk/sinks"
	"github.com/mlflow-bulk/mlflow-bulk/sources"
)

// Options control an import.
type Options struct {
	// SkipInvalid leaves invalid runs and experiments out (reported as rejected) instead
	// of stopping the import.
	SkipInvalid bool
	// BatchRows is the number of rows after which the importer commits, at the next run
	// boundary. Default 100,000.
	BatchRows int
	// DefaultArtifactRoot is the artifact root of the Default experiment when the
	// importer creates the schema. Default "mlflow-artifacts:/", MLflow's server default.
	DefaultArtifactRoot string
	// SchemaRevision is the revision an empty target is created at (an MLflow release's,
	// so that that release opens it); nil is the newest mlflow-bulk holds. A target that
	// holds a schema keeps its own.
	SchemaRevision *schema.Revision
	// OnKeyCollision decides what happens when two keys of one run (params, tags,
	// metrics) or experiment (tags) are one key under the target's collation, as "lr"
	// and "LR" are on MySQL's case-insensitive collations: "fail" (default) treats the
	// run as invalid input; "keep-first" keeps the first key and reports the others.
	OnKeyCollision rules.CollisionPolicy
	// OnExistingRun decides what happens to a run the target already holds: "merge"
	// (default) adds what the target lacks, "skip" leaves it, "fail" stops the import.
	OnExistingRun rules.ExistingRunPolicy
	// OnParamConflict decides what happens when a merged run's param has another value
	// in the target: "fail" (default: the run is invalid input) or "keep-target".
	OnParamConflict rules.ParamConflictPolicy
	// OnModelConflict decides what happens when a registered model of the source has the
	// name of one in the target with different content: "fail" (default) stops the
	// import, "keep-target" keeps the target's and imports the rest.
	OnModelConflict rules.ModelConflictPolicy
	// SkipUnsupported goes on when a source holds tables or columns the target lacks,
	// leaving them out and listing them in the report, instead of stopping before
	// anything is written.
	SkipUnsupported bool
	// AllowTriggers writes into a target whose tables have triggers (or rules) MLflow
	// does not create, naming them in the report; without it the import stops before
	// writing. Either way a write that stores fewer rows than it wrote stops it.
	AllowTriggers bool
	// Filter chooses the experiments and runs imported.
	Filter rules.Filter
	// ArtifactMap rewrites experiment artifact locations and run artifact URIs (the
	// longest matching prefix wins), for artifacts copied to another store.
	ArtifactMap []rules.ArtifactMapping
	// CopyArtifacts, when set, copies the artifact files of the runs, logged models and
	// traces the import creates, and writes the copies' locations (ArtifactMap is then
	// not used).
	CopyArtifacts *ArtifactCopy
	// TargetExperiment puts every run into the experiment of this name (created if the
	// target lacks it), whatever experiment the sources had them in.
	TargetExperiment string
	// Workspace puts everything of the sources into this workspace of the target
	// (created when missing, with WorkspaceDescription): experiments and models merge
	// by name within it. Empty keeps each row's workspace. Into a target without
	// workspaces it merges the sources' workspaces into its one namespace.
	Workspace            string
	WorkspaceDescription string
	// DryRun reads and validates everything and writes it inside one transaction that
	// is rolled back: the report says what would be created, merged, skipped or
	// rejected, and the target is left as it was.
	DryRun bool
	// Reread reads and compares every run of the sources, also those whose files are as
	// they were when the target took them (see stamps.go).
	Reread bool
	// ScratchTarget marks a target made for a dry run alone (a scratch database): a dry
	// run may create MLflow's schema in it even where DDL cannot be rolled back.
	ScratchTarget bool
	// Progress, when set, is called after every run with the totals so far; with
	// CountRuns the sources' runs are counted beside the import, for its TotalRuns once
	// known (a file store is walked once more for it).
	Progress  func(Progress)
	CountRuns bool
}

// Phases of an import, as Progress names them.
const (
	PhaseSchema  = "creating MLflow's schema"
	PhaseImport  = "importing"
	PhaseCommit  = "committing"
	PhaseKeys    = "building metrics' keys and indexes"
	PhaseChecked = "checking the target"
)

// Progress is a snapshot of the work done.
type Progress struct {
	// Phase is what the import is doing (one of the Phase constants); the phases after
	// the rows take time of their own, which the display shows.
	Phase      string
	Source     string
	Runs       int64
	MetricRows int64
	// TotalRuns is how many runs the sources hold, 0 when they cannot tell.
	TotalRuns int64
	// KeysAfter says that metrics' keys and indexes are built once the rows are in (a
	// new PostgreSQL database): a phase that lasts in proportion to the rows.
	KeysAfter bool
	// ArtifactFiles and ArtifactBytes are what the artifact copy copied so far.
	ArtifactFiles, ArtifactBytes int64
}

func (o Options) batchRows() int {
	if o.BatchRows <= 0 {
		return 100_000
	}
	return o.BatchRows
}

// ErrDryRunNeedsSchema: a dry run into an empty database that cannot roll back DDL
// would have to create MLflow's schema there; the caller may run it in a scratch one.
var ErrDryRunNeedsSchema = errors.New("a dry run would have to create MLflow's schema")

// ErrTargetConflict marks a source whose value contradicts one the target holds where
// MLflow never changes it (a param): neither is wrong, they disagree.
var ErrTargetConflict = errors.New("conflict with the target")

// ErrForeignTriggers stops an import into a target whose tables have triggers MLflow
// does not create (without AllowTriggers).
var ErrForeignTriggers = errors.New("the target has triggers MLflow does not create")

// ErrSchemaPartlyCreated: the import stopped while creating MLflow's schema in a
// database that commits each table as it is made (MySQL, MariaDB), so part of the
// schema is there; the next import into it completes it.
var ErrSchemaPartlyCreated = errors.New("the schema was partly created")

// ErrInvalidInput wraps the input error that stopped an import (without SkipInvalid).
var ErrInvalidInput = errors.New("invalid input")

// Import reads every source in turn and writes it into the sink's database, creating
// MLflow's schema first when the database is empty.
func Import(ctx context.Context, sink sinks.Sink, srcs []sources.Source, opts Options) (*Report, error) {
	started := time.Now()
	if err := checkWorkspaceOptions(opts); err != nil {
		return nil, err
	}
	im := newImporter(sink, opts)
	for _, s := range srcs {
		im.report.Sources = append(im.report.Sources, s.Describe())
	}
	if opts.CountRuns {
		stop := im.countRunsBeside(ctx, srcs)
		defer stop()
	}
	if im.exps.mover != nil {
		im.exps.mover.serveFrom(srcs)
	}
	err := im.importAll(ctx, srcs)
	if err == nil {
		err = im.exps.checkMatched()
	}
	im.rollback(ctx, &err)
	if im.exps.mover != nil {
		im.exps.mover.close()
	}
	if err != nil && im.keysDeferred && ctx.Err() == nil {
		// Stopped by bad input, not by a cancel: what was committed is whole runs, so
		// metrics gets its keys now rather than waiting for the next import.
		if keysErr := im.buildDeferredKeys(ctx); keysErr != nil {
			err = fmt.Errorf("%w (and metrics' keys are still to be built, which the next import does: %w)", err, keysErr)
		}
		im.rollback(ctx, &err)
	}
	im.report.DryRun = opts.DryRun
	im.closingNotices()
	im.report.finish(im.committed, started, err == nil)
	return im.report, err
}

// newImporter wires the parts of one import to the base they share.
func newImporter(sink sinks.Sink, opts Options) *importer {
	report := &Report{Target: sink.Describe(), Skipped: []Note{}, Rejected: []Note{}, Experiments: []ExperimentMapping{}, Notices: []string{}, Unsupported: []UnsupportedData{}}
	b := base{session: &session{opts: opts, sink: sink, dialect: sink.Dialect()}, ledger: newLedger(report, opts.Progress)}
	locs := newLocations(opts.ArtifactMap)
	exps := newExperimentMapper(b, locs)
	widths := newColumnWidths(sink.Dialect())
	stamps := &stampKeeper{base: b}
	im := &importer{
		base:      b,
		locations: locs,
		exps:      exps,
		runs:      &runWriter{base: b, exps: exps, stamps: stamps, latest: rules.NewLatestMetrics(), seenRuns: map[string]seenRun{}},
		entities:  &entityWriter{base: b, exps: exps, widths: widths, tableColumns: map[string]map[string]schema.Column{}},
		copier:    &tableCopier{base: b, exps: exps, widths: widths},
		stamps:    stamps,
	}
	if opts.CopyArtifacts != nil {
		exps.mover = newArtifactMover(b, opts.CopyArtifacts)
		b.copied = func() (int64, int64) { s := exps.mover.copier.Stats(); return s.Files, s.Bytes }
	}
	im.runs.commit, im.copier.commit = im.commit, im.commit
	im.entities.runs, im.copier.runs = im.runs, im.runs
	return im
}

// closingNotices add to the report what the parts counted over the whole import.
func (im *importer) closingNotices() {
	if short := im.stamps.short; short > 0 {
		im.report.Notices = append(im.report.Notices, fmt.Sprintf("%d runs were read again although their sources showed them unchanged: the target held fewer of their params, tags and metric rows than when they were imported (rows deleted from it), which this import put back", short))
	}
	if im.report.UnchangedRuns > 0 {
		im.report.Notices = append(im.report.Notices, fmt.Sprintf("%d runs were not read again: their sources show them as when the target took them (a file store's files have the same sizes and modification times; a tracking server shows the same status, end time, params, tags and latest metrics), and the target still holds them (%s reads and compares them)", im.report.UnchangedRuns, remedy.Mention(OptionReread)))
	}
	if im.filteredRuns > 0 {
		im.report.Notices = append(im.report.Notices, fmt.Sprintf("%d runs left out by the filters (%s, %s, %s, %s)", im.filteredRuns,
			remedy.Mention(rules.OptionExperiments), remedy.Mention(rules.OptionExcludeExperiments), remedy.Mention(rules.OptionRunsSince), remedy.Mention(rules.OptionExcludeDeleted)))
	}
	if n := im.repeatedPoints; n > 0 {
		im.report.Notices = append(im.report.Notices, fmt.Sprintf("%d metric points were left out (counted as skipped) as repeats of a point their run already had, in the source or in the target: "+
			"MLflow keeps one row for a key, timestamp, step and value", n))
	}
	im.report.Notices = append(im.report.Notices, im.locations.notices()...)
	im.exps.reportWorkspaceLocations()
}

// rollback ends a transaction left open by an error; its own failure is reported only
// when nothing else went wrong.
func (im *importer) rollback(ctx context.Context, err *error) {
	if im.tx == nil {
		return
	}
	if rbErr := im.tx.Rollback(ctx); rbErr != nil && *err == nil {
		*err = rbErr
	}
	im.tx = nil
}

type expKey struct {
	source int
	id     string
}

type datasetKey struct {
	experiment expKey
	key        string
}

// seenRun is where a run of this import was read, to tell a run a second source holds
// (merged) from one its own source holds in two experiments (invalid).
type seenRun struct {
	source     int
	experiment string // not its file: the set grows with the runs, so each keeps little
}

// runState is the run being read.
type runState struct {
	id       string
	stamp    uint64 // the source's stamp of the run (stamps.go), 0 for none
	skip     bool   // not written: already in the target, or its experiment is not
	rejected bool   // left out as invalid input: what follows of it counts as rejected
	// read counts what the source held of the run, by entity, for the report when the
	// run is rejected.
	read      [numEntities]int64
	savepoint bool // part of it was flushed under a savepoint
	points    *rules.PointSet
	// metricKeys maps folded metric keys to the key kept, where the target's collation
	// folds; dropped holds keys left out under keep-first.
	metricKeys map[string]string
	dropped    map[string]bool
	file       string
	// source and experiment are where the run was read.
	source     int
	experiment string
	// sourceLatest is the source's own latest_metrics, compared when the run is complete.
	sourceLatest []sources.Metric
	// repeats counts points left out as repeats of one the run already has.
	repeats int64
	// merge is set when the run is already in the target and is being merged.
	merge *mergeState
	// stored is what the target held of the run, read with its window (readahead.go)
	// or when its presence was asked; nil when not known yet.
	stored *storedRunData
}

// importer runs one import: it prepares the target, hands each source's records to the
// parts below, commits batches at run boundaries and builds what is deferred to the end.
// Each part keeps its own state; what they all read (the target as detected, the open
// transaction, the report) is the base they share.
type importer struct {
	base
	locations *locations
	exps      *experimentMapper
	runs      *runWriter
	entities  *entityWriter
	copier    *tableCopier
	stamps    *stampKeeper
}

func (im *importer) importAll(ctx context.Context, srcs []sources.Source) error {
	im.phase(PhaseChecked)
	if err := im.prepareTarget(ctx, srcs); err != nil {
		return err
	}
	if err := im.copier.checkUnsupported(ctx, srcs); err != nil {
		return err
	}
	im.phase(PhaseImport)
	for i, src := range srcs {
		im.sourceName = src.Describe()
		im.progress.Source = im.sourceName
		if err := im.importSource(ctx, i, src); err != nil {
			return err
		}
	}
	im.phase(PhaseCommit)
	if err := im.commit(ctx, false); err != nil {
		return err
	}
	return im.buildDeferredKeys(ctx)
}

func (im *importer) importSource(ctx context.Context, index int, src sources.Source) error {
	h := &importHandler{im: im, source: index}
	if err := sources.Each(ctx, src, h); err != nil {
		h.abandon()
		return err
	}
	return h.closeRun(ctx)
}

// newUUID returns a random (version 4) UUID as 32 hex digits, the form MLflow's SQL
// store uses.
func newUUID() string {
	u := uuid.New()
	return hex.EncodeToString(u[:])
}

// countRunsBeside counts the sources' runs while the import goes on, for the progress
// display's total: counting first would delay the import by a walk of the whole store.
// The returned function stops the count and waits for it.
func (im *importer) countRunsBeside(ctx context.Context, srcs []sources.Source) func() {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		im.totalRuns.Store(countRuns(ctx, srcs))
	}()
	return func() {
		cancel()
		<-done
	}
}

// countRuns adds up what the sources can tell of their size; 0 when any cannot.
func countRuns(ctx context.Context, srcs []sources.Source) int64 {
	var total int64
	for _, s := range srcs {
		sizer, ok := s.(sources.Sizer)
		if !ok {
			return 0
		}
		n, err := sizer.CountRuns(ctx)
		if err != nil {
			return 0
		}
		total += n
	}
	return total
}
