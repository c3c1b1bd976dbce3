package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/mlflow-bulk/mlflow-bulk/drivers"
	"github.com/mlflow-bulk/mlflow-bulk/export"
	"github.com/mlflow-bulk/mlflow-bulk/sources/database"
	"github.com/mlflow-bulk/mlflow-bulk/sources/formats"
	"github.com/spf13/cobra"
)

// ExportOptions are the export command's inputs.
type ExportOptions struct {
	IO           *IOStreams
	Drivers      *drivers.Registry
	Source       string
	Dir          string
	PasswordFile string
	JSON         bool
	Dump         export.Options
}

// NewCmdExport builds `mlflow-bulk export`. runF replaces the behaviour in tests.
func NewCmdExport(f *Factory, runF func(context.Context, *ExportOptions) error) *cobra.Command {
	opts := &ExportOptions{IO: f.IOStreams, Drivers: f.Drivers}
	cmd := &cobra.Command{
		Use:   "export SOURCE --to DIR",
		Short: "Write a source as an mlflow-bulk dump (JSON Lines), which import reads back",
		Long: `Write any source mlflow-bulk reads (a file store, an MLflow database, a dump, an
mlflow-export-import export, a CSV) as an mlflow-bulk dump: a folder of JSON Lines files,
one per entity, optionally gzip-compressed, and a manifest written last. The format is
documented in docs/dump-format.md so that other tools can write it; 'mlflow-bulk import
DIR' reads it back, NaN and infinities included. It streams: a database bigger than
memory exports in constant memory.`,
		Example: `  mlflow-bulk export sqlite:///mlflow.db --to ./mlflow-dump --gzip
  mlflow-bulk import ./mlflow-dump --to postgresql://user:pw@host:5432/mlflow`,
		Args: func(cmd *cobra.Command, args []string) error { return exactlyOne(cmd, args) },
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Source = args[0]
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runExport(cmd.Context(), opts)
		},
	}
	flags := cmd.Flags()
	flags.StringVar(&opts.Dir, "to", "", "folder to write the dump into (new or empty)")
	flags.BoolVar(&opts.Dump.Gzip, "gzip", false, "gzip-compress every file")
	flags.BoolVar(&opts.Dump.SkipInvalid, "skip-invalid", false, "leave invalid runs out, list them and go on (exit code 4)")
	flags.BoolVar(&opts.JSON, "json", false, "print the report as one JSON object")
	flags.StringVar(&opts.PasswordFile, "password-file", "", "read the source database's password from this file's first line (PostgreSQL also reads PGPASSWORD and ~/.pgpass)")
	return cmd
}

// runExport is the export command.
func runExport(ctx context.Context, opts *ExportOptions) error {
	if opts.Dir == "" {
		return &usageError{errors.New("name the dump folder with --to DIR")}
	}
	password, err := readPasswordFile(opts.PasswordFile)
	if err != nil {
		return err
	}
	srcs, err := openSources(ctx, opts.Drivers, []string{opts.Source}, formats.Options{Database: database.Options{Password: password}})
	defer closeSources(srcs)
	if err != nil {
		return err
	}
	report, err := export.Write(ctx, srcs[0], opts.Dir, opts.Dump)
	if err != nil {
		return err
	}
	wordAll(report.Rejected)
	for i := range report.Skipped {
		report.Skipped[i].Reason = wordText(report.Skipped[i].Reason)
	}
	out := opts.IO.Out
	if opts.JSON {
		if err := writeJSON(out, report); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(out, "Exported %s to %s in %.1fs:", report.Source, report.Directory, report.Seconds)
		for _, e := range []string{"experiments", "datasets", "runs", "metrics", "logged_models", "registered_models", "traces"} {
			if n := report.Counts[e]; n > 0 {
				fmt.Fprintf(out, " %d %s", n, e)
			}
		}
		fmt.Fprintln(out)
		for _, r := range report.Rejected {
			fmt.Fprintf(out, "  rejected: %s\n", r)
		}
	}
	if len(report.Rejected) > 0 {
		return errSkippedInvalid
	}
	return nil
}
