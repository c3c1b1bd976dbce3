package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/mlflow-bulk/mlflow-bulk/drivers"
	"github.com/mlflow-bulk/mlflow-bulk/importer/rules"
	"github.com/mlflow-bulk/mlflow-bulk/internal/progress"
	"github.com/mlflow-bulk/mlflow-bulk/sinks"
	"github.com/mlflow-bulk/mlflow-bulk/sources"
	"github.com/mlflow-bulk/mlflow-bulk/sources/formats"
	"github.com/mlflow-bulk/mlflow-bulk/verify"
	"github.com/spf13/cobra"
)

// errDifferences is returned when verify found the target lacking what a source holds.
var errDifferences = errors.New("the target does not match the sources")

// VerifyOptions are the verify command's inputs.
type VerifyOptions struct {
	Selection
	IO           *IOStreams
	Drivers      *drivers.Registry
	Sources      []string
	Target       string
	PasswordFile string
	Progress     string
	JSON         bool
	// Accept is what the import's options accepted (--skip-unsupported, the conflict
	// policies); the selection fills the rest at run time.
	Accept verify.Options
}

// NewCmdVerify builds `mlflow-bulk verify`. runF replaces the behaviour in tests.
func NewCmdVerify(f *Factory, runF func(context.Context, *VerifyOptions) error) *cobra.Command {
	opts := &VerifyOptions{IO: f.IOStreams, Drivers: f.Drivers, Progress: "auto",
		Accept: verify.Options{OnModelConflict: rules.ModelConflictFail, OnParamConflict: rules.ParamConflictFail}}
	cmd := &cobra.Command{
		Use:   "verify SOURCE... --to URI",
		Short: "Check that a database holds exactly what the sources hold, changing nothing",
		Long: `Compare an MLflow database with the sources, read-only and both ways: every field
of every run of the sources, its params, tags and every point of its metric history
(a digest per run and key names the histories that differ), what the target holds of
those runs beyond the sources, and the target's latest_metrics against its own history;
experiments, datasets, logged models, the registry, traces and every table copied as
rows, by primary key. Give it the selection the import took (--experiment,
--rename-experiment, --artifact-root-map, ...) so that it looks for exactly that, and
the import's --skip-unsupported, --on-param-conflict and --on-model-conflict, so that it
accepts what they left out or kept, and counts it.

Exit code 0 when the target matches the sources, 3 with a list of differences per run
otherwise.`,
		Example: `  mlflow-bulk verify ./mlruns --to postgresql://user:pw@host:5432/mlflow
  mlflow-bulk verify ./mlruns --to sqlite:///mlflow.db --experiment 'churn*' --json
  mlflow-bulk verify https://mlflow.example.com --to postgresql://user:pw@host:5432/mlflow`,
		Args: minArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Sources = args
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runVerify(cmd.Context(), opts)
		},
	}
	flags := cmd.Flags()
	flags.StringVar(&opts.Target, "to", defaultTargetURI(os.Getenv), "MLflow database URI to check")
	flags.BoolVar(&opts.JSON, "json", false, "print the result as one JSON object")
	addPasswordFile(flags, &opts.PasswordFile)
	flags.Var(newChoice("progress", &opts.Progress, progress.Modes), "progress", progressHelp)
	opts.addFlags(flags, "verify")
	flags.BoolVar(&opts.Accept.SkipInvalid, "skip-invalid", false, "the import left out what the sources hold that is invalid input: accept its absence, and count it")
	flags.BoolVar(&opts.Accept.SkipUnsupported, "skip-unsupported", false, "the import left out tables the target lacks: accept their rows' absence, and count them")
	flags.Var(newChoice("on-param-conflict", &opts.Accept.OnParamConflict, opts.Accept.OnParamConflict.Values()), "on-param-conflict",
		"as the import was given: keep-target accepts params whose target value differs, and counts them")
	flags.Var(newChoice("on-model-conflict", &opts.Accept.OnModelConflict, opts.Accept.OnModelConflict.Values()), "on-model-conflict",
		"as the import was given: keep-target accepts registry rows the target kept, and counts them")
	return cmd
}

// runVerify is the verify command.
func runVerify(ctx context.Context, opts *VerifyOptions) error {
	opts.noteRetiredFlags(opts.IO.ErrOut)
	filter, artifactMap, srcOpts, err := opts.resolve()
	if err != nil {
		return err
	}
	password, err := readPasswordFile(opts.PasswordFile)
	if err != nil {
		return err
	}
	shown := opts.IO.Progress(opts.Progress).Start()
	shown.Update(progress.Snapshot{Phase: progress.PhaseVerify})
	accept := opts.Accept
	accept.TargetExperiment, accept.Filter, accept.ArtifactMap = opts.TargetExperiment, filter, artifactMap
	if accept.CopyArtifacts, err = opts.artifactLayout(); err != nil {
		return err
	}
	if accept.Workspace, err = opts.workspace(); err != nil {
		return err
	}
	report, err := verifyTarget(ctx, opts.Drivers, opts.Sources, opts.Target, password, srcOpts, accept)
	shown.Finish()
	if err != nil {
		return redactError(err, opts.Target)
	}
	return printVerify(opts.IO, report, opts.JSON)
}

func verifyTarget(ctx context.Context, registry *drivers.Registry, locations []string, target, password string, srcOpts formats.Options, opts verify.Options) (*verify.Report, error) {
	srcs, err := openSources(ctx, registry, locations, srcOpts)
	defer closeSources(srcs)
	if err != nil {
		return nil, err
	}
	sink, err := registry.Open(ctx, target, sinks.Options{ReadOnly: true, Password: password})
	if err != nil {
		return nil, err
	}
	defer sink.Close()
	report, err := verify.Verify(ctx, sink, srcs, opts)
	if report != nil {
		wordAll(report.Notices)
	}
	return report, err
}

func printVerify(io *IOStreams, r *verify.Report, asJSON bool) error {
	if asJSON {
		if err := writeJSON(io.Out, r); err != nil {
			return err
		}
	} else {
		writeVerify(io.Out, r)
	}
	if len(r.Differences) > 0 {
		return errDifferences
	}
	return nil
}

func writeVerify(out io.Writer, r *verify.Report) {
	fmt.Fprintf(out, "Verified %d runs and %d metric histories against %s in %.1fs: ", r.Runs, r.MetricKeys, r.Target, r.Seconds)
	if len(r.Differences) == 0 {
		fmt.Fprintln(out, "the target matches the sources.")
	} else {
		fmt.Fprintf(out, "%d differences.\n", len(r.Differences))
	}
	if len(r.Tables) > 0 {
		var parts []string
		for _, c := range r.Tables {
			parts = append(parts, fmt.Sprintf("%s (%d)", c.Table, c.Rows))
		}
		fmt.Fprintf(out, "Rows compared by primary key: %s.\n", strings.Join(parts, ", "))
	}
	if r.ArtifactFiles > 0 {
		fmt.Fprintf(out, "Artifact files the same (name, size, MD5) at the target's locations as in the sources: %d.\n", r.ArtifactFiles)
	}
	for _, n := range r.Notices {
		fmt.Fprintf(out, "Note: %s.\n", n)
	}
	if len(r.NotChecked) > 0 {
		fmt.Fprintf(out, "Not compared: %s.\n", strings.Join(r.NotChecked, ", "))
	}
	if a := r.Accepted; a.Total() > 0 {
		var parts []string
		for _, p := range []struct {
			n    int64
			what string
		}{
			{a.KeysLeftOut, "keys left out as another key under the target's collation (--on-key-collision keep-first)"},
			{a.ValuesTruncated, "values cut to MLflow's limit"},
			{a.UnsupportedRows, "rows of tables the target lacks (--skip-unsupported)"},
			{a.ParamsKept, "params whose target value was kept (--on-param-conflict keep-target)"},
			{a.RegistryRowsKept, "registry rows kept as the target had them (--on-model-conflict keep-target)"},
			{a.InvalidLeftOut, "invalid runs and records left out (--skip-invalid)"},
		} {
			if p.n > 0 {
				parts = append(parts, fmt.Sprintf("%d %s", p.n, p.what))
			}
		}
		fmt.Fprintf(out, "Accepted as the import left them: %s.\n", strings.Join(parts, "; "))
	}
	// A few of each kind are shown; the JSON has them all.
	shown, more := map[string]int{}, map[string]int{}
	var kinds []string
	for _, d := range r.Differences {
		if shown[d.Kind] >= differencesShownPerKind {
			if more[d.Kind] == 0 {
				kinds = append(kinds, d.Kind)
			}
			more[d.Kind]++
			continue
		}
		shown[d.Kind]++
		where := "experiment"
		switch {
		case d.Kind == verify.KindArtifactFile && d.RunID != "":
			where = fmt.Sprintf("run %s, file %s", d.RunID, d.Key)
		case d.Kind == verify.KindArtifactFile:
			where = d.Key
		case d.RunID != "" && d.Key != "":
			where = fmt.Sprintf("run %s, key %q", d.RunID, d.Key)
		case d.RunID != "":
			where = "run " + d.RunID
		case strings.HasPrefix(d.Kind, "row") || strings.HasPrefix(d.Kind, "table"):
			where = "table " + d.Key
		}
		fmt.Fprintf(out, "  %s: %s: %s\n", where, d.Kind, d.Detail)
	}
	for _, kind := range kinds {
		fmt.Fprintf(out, "  … and %d more %q (--json lists every difference)\n", more[kind], kind)
	}
	if r.RereadCanHelp {
		fmt.Fprintln(out, "A nightly import does not read again the runs whose files have not changed: `mlflow-bulk import --reread` reads every run and puts back what the target lost.")
	}
}

// differencesShownPerKind bounds the lines of one kind of difference in the text.
const differencesShownPerKind = 20

func openSources(ctx context.Context, registry *drivers.Registry, locations []string, opts formats.Options) ([]sources.Source, error) {
	opts.Database.Drivers = registry
	// A tracking server's credentials are in the variables MLflow's client reads.
	opts.Server.Getenv = environment
	var srcs []sources.Source
	for _, loc := range locations {
		src, err := formats.Open(ctx, loc, opts)
		if err != nil {
			if errors.Is(err, sources.ErrNotRecognised) {
				return srcs, &usageError{err}
			}
			return srcs, err
		}
		srcs = append(srcs, src)
	}
	return srcs, nil
}

func closeSources(srcs []sources.Source) {
	for _, s := range srcs {
		s.Close()
	}
}
