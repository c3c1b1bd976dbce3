package main

import (
	"errors"
	"fmt"

	"github.com/mlflow-bulk/mlflow-bulk/export"
	"github.com/mlflow-bulk/mlflow-bulk/sources"
	"github.com/spf13/cobra"
)

// NewCmdExport builds `mlflow-bulk export`.
func NewCmdExport(f *Factory) *cobra.Command {
	io := f.IOStreams
	var dir, passwordFile string
	var opts export.Options
	var asJSON bool
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
			if dir == "" {
				return &usageError{errors.New("name the dump folder with --to DIR")}
			}
			password, err := readPasswordFile(passwordFile)
			if err != nil {
				return err
			}
			srcs, err := openSources(cmd.Context(), f.Drivers, args, sources.Options{Password: password})
			defer closeSources(srcs)
			if err != nil {
				return err
			}
			report, err := export.Write(cmd.Context(), srcs[0], dir, opts)
			if err != nil {
				return err
			}
			if asJSON {
				if err := writeJSON(io.Out, report); err != nil {
					return err
				}
			} else {
				fmt.Fprintf(io.Out, "Exported %s to %s in %.1fs:", report.Source, report.Directory, report.Seconds)
				for _, e := range []string{"experiments", "datasets", "runs", "metrics", "logged_models", "registered_models", "traces"} {
					if n := report.Counts[e]; n > 0 {
						fmt.Fprintf(io.Out, " %d %s", n, e)
					}
				}
				fmt.Fprintln(io.Out)
				for _, r := range report.Rejected {
					fmt.Fprintf(io.Out, "  rejected: %s\n", r)
				}
			}
			if len(report.Rejected) > 0 {
				return errSkippedInvalid
			}
			return nil
		},
	}
	flags := cmd.Flags()
	flags.StringVar(&dir, "to", "", "folder to write the dump into (new or empty)")
	flags.BoolVar(&opts.Gzip, "gzip", false, "gzip-compress every file")
	flags.BoolVar(&opts.SkipInvalid, "skip-invalid", false, "leave invalid runs out, list them and go on (exit code 4)")
	flags.BoolVar(&asJSON, "json", false, "print the report as one JSON object")
	flags.StringVar(&passwordFile, "password-file", "", "read the source database's password from this file's first line (PostgreSQL also reads PGPASSWORD and ~/.pgpass)")
	return cmd
}
