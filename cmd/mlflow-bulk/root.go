package main

import (
	"context"
	"errors"
	"fmt"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/mlflow-bulk/mlflow-bulk/importer"
)

// version is set at build time (-ldflags "-X main.version=…").
var version = "dev"

// Main runs the command line and returns the exit code.
func Main(args []string, io *IOStreams) ExitCode {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	out := &countingWriter{w: io.Out}
	counted := *io
	counted.Out = out
	root := NewCmdRoot(NewFactory(&counted))
	root.SetArgs(args)
	_, err := root.ExecuteContextC(ctx)
	if err != nil && strings.HasPrefix(err.Error(), "unknown command") {
		err = &usageError{fmt.Errorf("%w\nRun 'mlflow-bulk --help' for the commands", err)}
	}
	if err != nil && !errors.Is(err, errSkippedInvalid) && !errors.Is(err, errDifferences) {
		msg := errorText(err)
		if ctx.Err() != nil {
			msg = interruptedText(args, err)
		}
		fmt.Fprintln(io.ErrOut, "mlflow-bulk: "+strings.TrimSpace(msg))
	}
	code := exitCodeFor(err)
	if err != nil && ctx.Err() != nil {
		code = ExitInterrupted
	}
	if err != nil && out.n == 0 && wantsJSON(args) {
		// A failure before the command could answer (a wrong flag, say): --json still
		// prints its one line, so a log of JSON lines is never short of one.
		_ = writeJSON(io.Out, struct {
			Error    string   `json:"error"`
			ExitCode ExitCode `json:"exit_code"`
		}{errorText(err), code})
	}
	return code
}

// interruptedText says what an interruption left: a command that writes to a target
// committed whole batches, which a re-run finishes; one that only reads, or a dry run,
// changed nothing.
func interruptedText(args []string, err error) string {
	if errors.Is(err, importer.ErrSchemaPartlyCreated) {
		return "interrupted while creating MLflow's schema: this database commits each table as it is made, so part of the schema was committed, and no run; " +
			"run the same command again to complete it and import"
	}
	command := ""
	for _, a := range args {
		if a == "--dry-run" || a == "--dry-run=true" {
			return "interrupted: the dry run wrote nothing"
		}
		if command == "" && !strings.HasPrefix(a, "-") {
			command = a
		}
	}
	switch command {
	case "import":
		return "interrupted: nothing of the open batch was committed; run the same command again to finish"
	case "export":
		return "interrupted: no dump was written (its folder is only renamed into place once whole); run the same command again"
	case "schema":
		return "interrupted: run the same command again to finish (a schema creation resumes where it stopped)"
	}
	return "interrupted: nothing was changed"
}

// wantsJSON reports whether the arguments ask for --json output.
func wantsJSON(args []string) bool {
	for _, a := range args {
		if a == "--" {
			return false
		}
		if a == "--json" || a == "--json=true" {
			return true
		}
	}
	return false
}

// NewCmdRoot builds the command tree.
func NewCmdRoot(f *Factory) *cobra.Command {
	io := f.IOStreams
	root := &cobra.Command{
		Use:   "mlflow-bulk",
		Short: "Move MLflow tracking data in bulk, fast and exactly",
		Long: `mlflow-bulk moves MLflow tracking data (experiments, runs, params, tags, metric
histories, datasets, logged models, the model registry, traces) from file stores and
MLflow databases into MLflow's own SQL schema on PostgreSQL, MySQL/MariaDB or SQLite,
and recomputes latest_metrics exactly as MLflow does.

` + exitCodesHelp,
		Version:       versionText(),
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.SetOut(io.Out)
	root.SetErr(io.ErrOut)
	root.SetFlagErrorFunc(flagError)
	root.AddCommand(NewCmdImport(f, nil))
	root.AddCommand(NewCmdSchema(f))
	root.AddCommand(NewCmdVerify(f, nil))
	root.AddCommand(NewCmdExport(f, nil))
	root.AddCommand(NewCmdInspect(f, nil))
	root.AddCommand(NewCmdGenerate(f))
	return root
}
