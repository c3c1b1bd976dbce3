package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/mlflow-bulk/mlflow-bulk/drivers"
	"github.com/mlflow-bulk/mlflow-bulk/dryrun"
	"github.com/mlflow-bulk/mlflow-bulk/importer"
	"github.com/mlflow-bulk/mlflow-bulk/importer/rules"
	"github.com/mlflow-bulk/mlflow-bulk/internal/dburi"
	"github.com/mlflow-bulk/mlflow-bulk/internal/progress"
	"github.com/mlflow-bulk/mlflow-bulk/schema"
	"github.com/mlflow-bulk/mlflow-bulk/sinks"
	"github.com/mlflow-bulk/mlflow-bulk/sources/formats"
	"github.com/mlflow-bulk/mlflow-bulk/verify"
	"github.com/spf13/cobra"
)

// defaultTarget is MLflow's own default tracking database since 3.7.
const defaultTarget = "sqlite:///mlflow.db"

// ImportOptions are the import command's inputs.
type ImportOptions struct {
	Selection
	IO                  *IOStreams
	Drivers             *drivers.Registry
	Sources             []string
	Target              string
	SkipInvalid         bool
	JSON                bool
	BatchRows           int
	DefaultArtifactRoot string
	MLflowVersion       string
	Progress            string
	OnKeyCollision      rules.CollisionPolicy
	SkipUnsupported     bool
	AllowTriggers       bool
	OnModelConflict     rules.ModelConflictPolicy
	OnExistingRun       rules.ExistingRunPolicy
	OnParamConflict     rules.ParamConflictPolicy
	DryRun              bool
	Reread              bool
	PasswordFile        string
	Workers             int
	Verify              bool
	LockTimeout         time.Duration
	// Copying is how --copy-artifacts copies.
	Copying ArtifactCopying

	// invocation is what the command line said beyond the flags' values.
	invocation invocation
}

// ArtifactCopying is how --copy-artifacts copies: files side by side, and what it does
// at a location it cannot read.
type ArtifactCopying struct {
	Workers    int
	Unreadable string
}

// placement is where the import puts what it writes: the one workspace --workspace
// names ("" for each row's own), and the copy --copy-artifacts asks for (nil without it).
func (opts *ImportOptions) placement() (string, *importer.ArtifactCopy, error) {
	workspace, err := opts.workspace()
	if err != nil {
		return "", nil, err
	}
	layout, err := opts.artifactLayout()
	if err != nil || layout == nil {
		return workspace, nil, err
	}
	return workspace, &importer.ArtifactCopy{Layout: *layout, Workers: opts.Copying.Workers, StopOnUnreadable: opts.Copying.Unreadable == "stop"}, nil
}

// sourceFormatsHelp lists the formats sources.Open reads, from its own table.
func sourceFormatsHelp() string {
	var b strings.Builder
	for _, f := range formats.Formats() {
		b.WriteString("  - " + f.Name + "\n")
	}
	return b.String()
}

// NewCmdImport builds `mlflow-bulk import`. runF replaces the behaviour in tests.
func NewCmdImport(f *Factory, runF func(context.Context, *ImportOptions) error) *cobra.Command {
	io := f.IOStreams
	opts := &ImportOptions{IO: io, Drivers: f.Drivers, Copying: ArtifactCopying{Unreadable: "keep-location"}}
	cmd := &cobra.Command{
		Use:   "import SOURCE... [--to URI]",
		Short: "Import MLflow tracking data into an MLflow database",
		Long: `Import one or more sources into an MLflow database, in one run.

A SOURCE is any of these, recognised by what it holds, and opened read-only:
` + sourceFormatsHelp() + `
Everything MLflow keeps with runs moves: experiments and tags, runs, params, tags,
metric histories, datasets and inputs, logged models, traces and assessments, and the
model registry (merged by model name).

The target (--to) takes MLflow's backend-store URI forms:
  sqlite:///relative/mlflow.db   sqlite:////absolute/mlflow.db   ./mlflow.db
  postgresql://user:password@host:5432/db   (also postgresql+psycopg2://, postgres://)
  mysql://user:password@host:3306/db        (also mysql+pymysql://, mysql+mysqldb://, mariadb://;
                                             ?charset=utf8mb4; ?x-local-infile=false forces INSERTs)
An empty database gets MLflow's complete schema first; a non-empty one is written at its
own revision (one newer than mlflow-bulk knows by what its tables hold).

Experiments are matched by name: a source experiment whose name the target has is merged
into it (the source's Default into the target's Default, id 0); others keep their id
when it fits and is free, or get the next one. Runs keep their ids; a run the target
already holds is merged (its new metric points, params and tags added, its status and
end moved forward; --on-existing-run), so importing the same source twice changes nothing.

Each run is committed whole or not at all. Invalid input stops the import before
anything of the bad run is committed, unless --skip-invalid.

` + exitCodesHelp,
		Example: `  mlflow-bulk import ./mlruns
  mlflow-bulk import ./mlruns --to postgresql://user:pw@host:5432/mlflow --dry-run
  mlflow-bulk import ./mlruns --to postgresql://user:pw@host:5432/mlflow --verify
  mlflow-bulk import https://mlflow.example.com --to postgresql://user:pw@host:5432/mlflow
  mlflow-bulk import ./a/mlruns ./b/mlruns --to sqlite:////abs/path/mlflow.db --json`,
		Args: minArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Sources = args
			opts.invocation = invocationOf(cmd, opts)
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runImport(cmd.Context(), opts)
		},
	}
	flags := cmd.Flags()
	flags.StringVar(&opts.Target, "to", defaultTargetURI(os.Getenv), "target MLflow database URI (MLFLOW_TRACKING_URI when it names a database)")
	opts.addFlags(flags, "import")
	flags.IntVar(&opts.Workers, "workers", runtime.NumCPU(), "goroutines reading a file store's runs, or requests to a tracking server, side by side (the machine's CPUs unless given)")
	addPasswordFile(flags, &opts.PasswordFile)
	flags.BoolVar(&opts.SkipInvalid, "skip-invalid", false, "leave invalid runs and experiments out, report them and go on (exit code 4)")
	flags.BoolVar(&opts.JSON, "json", false, "print the report as one JSON object on stdout")
	flags.IntVar(&opts.BatchRows, "batch-size", 100_000, "commit after about this many rows, at a run boundary")
	flags.StringVar(&opts.DefaultArtifactRoot, "default-artifact-root", "mlflow-artifacts:/", "artifact root of the Default experiment when the schema is created")
	flags.StringVar(&opts.MLflowVersion, "mlflow-version", "", "into an empty target, create the schema this MLflow release uses, e.g. 2.9 (default: "+schema.Newest().String()+", or a database source's own where newer)")
	flags.Var(newChoice("progress", &opts.Progress, progress.Modes), "progress", progressHelp)
	flags.BoolVar(&opts.DryRun, "dry-run", false, "read and validate everything and report what would be created, merged, skipped or rejected; write nothing")
	flags.BoolVar(&opts.Reread, "reread", false, "read and compare every run, also those whose files have the sizes and modification times they had when the target took them (by default these are skipped unread)")
	flags.BoolVar(&opts.Verify, "verify", false, "after the import, verify the target against the sources (exit code 3 on differences)")
	flags.IntVar(&opts.Copying.Workers, "artifact-workers", 8, "artifact files copied side by side with --copy-artifacts")
	flags.Var(newChoice("artifacts-unreadable", &opts.Copying.Unreadable, []string{"keep-location", "stop"}), "artifacts-unreadable",
		"with --copy-artifacts, a location mlflow-bulk cannot read (HDFS, dbfs:, a server's mlflow-artifacts:): keep-location (the run moves with its location as it was, named in the report) or stop")
	flags.DurationVar(&opts.LockTimeout, "lock-timeout", 10*time.Minute, "how long to wait while another mlflow-bulk import writes to the target (0: give up at once)")
	flags.Var(newChoice("on-existing-run", &opts.OnExistingRun, opts.OnExistingRun.Values()), "on-existing-run",
		"a run the target already holds: merge (add its new metric points, params and tags; move status and end time forward), skip, or fail")
	flags.Var(newChoice("on-param-conflict", &opts.OnParamConflict, opts.OnParamConflict.Values()), "on-param-conflict",
		"a merged run's param with another value in the target (MLflow never changes a param): fail (the run is invalid input) or keep-target")
	flags.Var(newChoice("on-model-conflict", &opts.OnModelConflict, opts.OnModelConflict.Values()), "on-model-conflict",
		"a registered model whose name the target has, with a version or alias that differs: fail, or keep-target (keep the target's, import the rest, report it)")
	flags.BoolVar(&opts.AllowTriggers, "allow-triggers", false, "write into a target whose tables have triggers (or PostgreSQL rules) MLflow does not create; without it the import names them and stops before writing. A row a trigger drops still stops the import")
	flags.BoolVar(&opts.SkipUnsupported, "skip-unsupported", false, "when a source holds tables or columns the target lacks, leave them out and list them in the report instead of stopping before writing")
	flags.Var(newChoice("on-key-collision", &opts.OnKeyCollision, opts.OnKeyCollision.Values()), "on-key-collision",
		"keys of one run that the target's collation treats as one (\"lr\"/\"LR\" on MySQL's case-insensitive collations): fail (the run is invalid input) or keep-first (keep the first, report the rest)")
	return cmd
}

func runImport(ctx context.Context, opts *ImportOptions) error {
	if !opts.JSON {
		return importCommand(ctx, opts)
	}
	// Under --json every invocation prints one JSON object, a failure before the import
	// began (a bad flag value, a target that refuses the connection) included.
	out := &countingWriter{w: opts.IO.Out}
	io := *opts.IO
	io.Out = out
	withCount := *opts
	withCount.IO = &io
	err := importCommand(ctx, &withCount)
	if err != nil && out.n == 0 {
		return failedJSON(opts, nil, nil, err)
	}
	return err
}

// countingWriter counts what is written through it.
type countingWriter struct {
	w interface{ Write([]byte) (int, error) }
	n int
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += n
	return n, err
}

// checkForgottenTarget stops an import whose sources name a database server while no
// --to names the target: more likely a forgotten --to than a wish to read that server
// into ./mlflow.db, which --to sqlite:///mlflow.db says plainly.
func (opts *ImportOptions) checkForgottenTarget() error {
	if opts.invocation.targetGiven {
		return nil
	}
	for _, src := range opts.Sources {
		if u, err := dburi.Parse(src); err == nil && u.URL != nil {
			return &usageError{fmt.Errorf("%s is a database server among the sources, and no --to names the target: did you mean --to %s?\n"+
				"Without --to the target is %s; to read that server into it, give --to %s", u.Redacted(), u.Redacted(), defaultTarget, defaultTarget)}
		}
	}
	return nil
}

// targetSettings checks that the target was not forgotten, reads its password file and
// resolves --mlflow-version to the revision an empty target is created at (nil without
// the flag: the newest).
func (opts *ImportOptions) targetSettings() (password string, rev *schema.Revision, err error) {
	if err := opts.checkForgottenTarget(); err != nil {
		return "", nil, err
	}
	if password, err = readPasswordFile(opts.PasswordFile); err != nil || opts.MLflowVersion == "" {
		return password, nil, err
	}
	if rev, err = schema.ForRelease(opts.MLflowVersion); err != nil {
		return "", nil, &usageError{err}
	}
	if !schema.Creatable(rev) {
		return "", nil, &usageError{schema.UpgradePath(fmt.Errorf("mlflow-bulk knows MLflow %s's revision %s but does not create it", opts.MLflowVersion, rev.ID))}
	}
	return password, rev, nil
}

func importCommand(ctx context.Context, opts *ImportOptions) error {
	opts.invocation.startedAt = opts.IO.Clock.Now()
	opts.noteRetiredFlags(opts.IO.ErrOut)
	filter, artifactMap, srcOpts, err := opts.resolve()
	if err != nil {
		return err
	}
	password, schemaRevision, err := opts.targetSettings()
	if err != nil {
		return err
	}
	workspace, copyArtifacts, err := opts.placement()
	if err != nil {
		return err
	}
	srcOpts.FileStore.Workers = opts.Workers
	srcOpts.Server.Workers = opts.invocation.serverWorkers
	srcs, err := openSources(ctx, opts.Drivers, opts.Sources, srcOpts)
	defer closeSources(srcs)
	if err != nil {
		return err
	}
	lockTimeout := opts.LockTimeout
	if lockTimeout <= 0 {
		lockTimeout = time.Millisecond // 0: give up at once when another import writes
	}
	if opts.DryRun {
		// A dry run writes nothing: not even the empty file opening a new SQLite target
		// makes.
		defer removeIfCreated(opts.Target)()
	}
	waiting := progress.NewLockWait(opts.IO.ErrOut, sinks.Redact(opts.Target), lockTimeout, opts.IO.Clock)
	sink, err := opts.Drivers.Open(ctx, opts.Target, sinks.Options{LockTimeout: lockTimeout, Password: password, LockPerTransaction: filter.ShardCount > 1,
		OnLockWait: waiting.Start})
	waiting.Stop()
	if err != nil {
		return redactError(opts.targetFrom(err), opts.Target)
	}
	defer sink.Close()

	shown := opts.IO.Progress(opts.Progress).Start()
	shown.VerifyAfter(opts.Verify && !opts.DryRun)
	impOpts := importer.Options{
		Workspace:            workspace,
		WorkspaceDescription: opts.WorkspaceDescription,
		SkipInvalid:          opts.SkipInvalid,
		BatchRows:            opts.BatchRows,
		DefaultArtifactRoot:  opts.DefaultArtifactRoot,
		SchemaRevision:       schemaRevision,
		OnKeyCollision:       opts.OnKeyCollision,
		SkipUnsupported:      opts.SkipUnsupported,
		AllowTriggers:        opts.AllowTriggers,
		OnModelConflict:      opts.OnModelConflict,
		OnExistingRun:        opts.OnExistingRun,
		DryRun:               opts.DryRun,
		Reread:               opts.Reread,
		TargetExperiment:     opts.TargetExperiment,
		Filter:               filter,
		ArtifactMap:          artifactMap,
		CopyArtifacts:        copyArtifacts,
		OnParamConflict:      opts.OnParamConflict,
		Progress:             func(p importer.Progress) { shown.Update(snapshotOf(p)) },
		CountRuns:            shown.Shows(),
	}
	report, err := importer.Import(ctx, sink, srcs, impOpts)
	if errors.Is(err, importer.ErrDryRunNeedsSchema) {
		report, err = dryrun.InScratch(ctx, sink, password, srcs, impOpts)
	}
	shown.Finish()
	wordReport(report)
	if err != nil {
		err = redactError(redactPassword(err, password), opts.Target)
		if !opts.JSON && !opts.DryRun && report != nil && report.Count("runs").Created > 0 {
			fmt.Fprintln(opts.IO.ErrOut, "mlflow-bulk: "+committedBefore(report.Count("runs").Created, ctx.Err() != nil))
		}
		return failedJSON(opts, report, nil, err)
	}
	var vr *verify.Report
	if opts.Verify && !opts.DryRun {
		sink.Close()
		srcOpts.FileStore.Workers = 0
		shown := opts.IO.Progress(opts.Progress).Start()
		shown.Update(progress.Snapshot{Phase: progress.PhaseVerify})
		vr, err = verifyTarget(ctx, opts.Drivers, opts.Sources, opts.Target, password, srcOpts,
			verify.Options{Workspace: workspace, TargetExperiment: opts.TargetExperiment, Filter: filter, ArtifactMap: artifactMap, CopyArtifacts: copyArtifacts.LayoutOrNil(),
				SkipUnsupported: opts.SkipUnsupported, OnModelConflict: opts.OnModelConflict, OnParamConflict: opts.OnParamConflict,
				SkipInvalid: opts.SkipInvalid, RejectedRuns: report.RejectedRuns()})
		shown.Finish()
		if err != nil {
			if !opts.JSON {
				printReport(opts.IO, report)
			}
			return failedJSON(opts, report, nil, redactError(err, opts.Target))
		}
	}
	switch {
	case vr != nil && len(vr.Differences) > 0:
		err = errDifferences
	case len(report.Rejected) > 0:
		err = errSkippedInvalid
	}
	if opts.JSON {
		if werr := writeJSON(opts.IO.Out, newImportJSON(opts, report, vr, err)); werr != nil {
			return werr
		}
		return err
	}
	printReport(opts.IO, report)
	if vr != nil {
		fmt.Fprintln(opts.IO.Out)
		writeVerify(opts.IO.Out, vr)
	}
	return err
}

// failedJSON prints, under --json, the error that ended the import and what was
// committed before it, so a cron log is never empty; it returns err.
func failedJSON(opts *ImportOptions, report *importer.Report, vr *verify.Report, err error) error {
	if !opts.JSON {
		return err
	}
	if report == nil {
		report = &importer.Report{Target: sinks.Redact(opts.Target)}
		for _, s := range opts.Sources {
			report.Sources = append(report.Sources, sinks.Redact(s))
		}
	}
	if werr := writeJSON(opts.IO.Out, newImportJSON(opts, report, vr, err)); werr != nil {
		return errors.Join(err, werr)
	}
	return err
}

// redactError makes sure no password of the target URI survives in a message; a target
// that does not parse is masked as a URI-like string.
func redactError(err error, target string) error {
	if err == nil {
		return nil
	}
	uri, perr := sinks.ParseURI(target)
	if perr != nil {
		return redacted(err, redactWords)
	}
	return uri.RedactError(err)
}

// redactWords masks the password of every URI-like word of a message: a whole message
// is not one URI (it may name several, such as the forms a usage error lists).
func redactWords(msg string) string {
	words := strings.Split(msg, " ")
	for i, w := range words {
		words[i] = sinks.Redact(w)
	}
	return strings.Join(words, " ")
}

// redactedError masks secrets in an error's message and unwraps to the error itself,
// so errors.Is and errors.As (exit codes, lock timeouts) still see the whole chain.
type redactedError struct {
	err  error
	mask func(string) string
}

func (e *redactedError) Error() string { return e.mask(e.err.Error()) }
func (e *redactedError) Unwrap() error { return e.err }

// redacted wraps err in a redactedError where mask changes its message.
func redacted(err error, mask func(string) string) error {
	if err == nil || mask(err.Error()) == err.Error() {
		return err
	}
	return &redactedError{err: err, mask: mask}
}

// redactPassword hides a password that came from a file rather than the URI.
func redactPassword(err error, password string) error {
	if len(password) < 3 {
		return err
	}
	return redacted(err, func(msg string) string { return strings.ReplaceAll(msg, password, "xxxxx") })
}

// removeIfCreated returns a function that removes the SQLite file of target if it did
// not exist now and is empty then; it does nothing for other targets.
func removeIfCreated(target string) func() {
	uri, err := sinks.ParseURI(target)
	if err != nil || uri.Path == "" { // a server, not a file
		return func() {}
	}
	if _, err := os.Stat(uri.Path); err == nil {
		return func() {}
	}
	return func() {
		if info, err := os.Stat(uri.Path); err == nil && info.Size() == 0 {
			_ = os.Remove(uri.Path) // the command's own empty file; nothing else is there
		}
	}
}

// committedBefore says what an import that stopped left committed: an interruption (Ctrl-C,
// SIGTERM) is not a failure, and the same command finishes the job.
func committedBefore(runs int64, interrupted bool) string {
	if interrupted {
		return fmt.Sprintf("%d runs were committed before the interruption; the same command finishes the import, skipping them", runs)
	}
	return fmt.Sprintf("%d runs were committed before the failure; re-running the import skips them", runs)
}

// targetFrom says, of an error about the target, that the target came from
// MLFLOW_TRACKING_URI when it did: the user gave no --to to look at.
func (opts *ImportOptions) targetFrom(err error) error {
	if !opts.invocation.targetFromEnv {
		return err
	}
	return fmt.Errorf("%w\n(the target is MLFLOW_TRACKING_URI's, as no --to was given)", err)
}

// invocation is what the command line said of an import beyond the flags' values.
type invocation struct {
	// startedAt is when the command began, for --json.
	startedAt time.Time
	// targetGiven: --to (or MLFLOW_TRACKING_URI naming a database) chose the target;
	// targetFromEnv: the target is MLFLOW_TRACKING_URI's, which its errors say.
	targetGiven, targetFromEnv bool
	// serverWorkers is --workers when given, for a tracking server (0: its default:
	// requests wait on the network, not on the CPUs).
	serverWorkers int
}

func invocationOf(cmd *cobra.Command, opts *ImportOptions) invocation {
	inv := invocation{
		targetGiven:   cmd.Flags().Changed("to") || opts.Target != defaultTarget,
		targetFromEnv: !cmd.Flags().Changed("to") && opts.Target != defaultTarget,
	}
	if cmd.Flags().Changed("workers") {
		inv.serverWorkers = opts.Workers
	}
	return inv
}
