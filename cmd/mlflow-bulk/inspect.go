package main

import (
	"context"
	"fmt"
	"sort"

	"github.com/mlflow-bulk/mlflow-bulk/drivers"
	"github.com/mlflow-bulk/mlflow-bulk/inspect"
	"github.com/mlflow-bulk/mlflow-bulk/sources/formats"
	"github.com/spf13/cobra"
)

// InspectOptions are the inspect command's inputs.
type InspectOptions struct {
	IO      *IOStreams
	Drivers *drivers.Registry
	Source  string
	JSON    bool
}

// NewCmdInspect builds `mlflow-bulk inspect`. runF replaces the behaviour in tests.
func NewCmdInspect(f *Factory, runF func(context.Context, *InspectOptions) error) *cobra.Command {
	opts := &InspectOptions{IO: f.IOStreams, Drivers: f.Drivers}
	cmd := &cobra.Command{
		Use:   "inspect SOURCE",
		Short: "Describe what a source holds, without a target",
		Long: `Read a source through and describe it: its format, what MLflow version wrote it (from
what it contains), counts of everything in it, and what an import will have to handle:
values over MLflow's limits, experiment ids that need new ones on PostgreSQL or MySQL,
keys that collide on MySQL's case-insensitive collations, NaN and infinite values,
duplicate points, invalid input.`,
		Example: `  mlflow-bulk inspect ./mlruns
  mlflow-bulk inspect sqlite:///mlflow.db --json
  mlflow-bulk inspect mlflow-backup.sql.gz`,
		Args: func(cmd *cobra.Command, args []string) error { return exactlyOne(cmd, args) },
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Source = args[0]
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runInspect(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the description as one JSON object")
	return cmd
}

// runInspect is the inspect command.
func runInspect(ctx context.Context, opts *InspectOptions) error {
	srcs, err := openSources(ctx, opts.Drivers, []string{opts.Source}, formats.Options{})
	defer closeSources(srcs)
	if err != nil {
		return err
	}
	in, err := inspect.Inspect(ctx, srcs[0])
	if err != nil {
		return err
	}
	wordAll(in.Anomalies)
	wordAll(in.Notes)
	if opts.JSON {
		return writeJSON(opts.IO.Out, in)
	}
	out := opts.IO.Out
	fmt.Fprintf(out, "Source: %s\n\nCounts:\n", in.Source)
	keys := make([]string, 0, len(in.Counts))
	for k := range in.Counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(out, "  %-18s %d\n", k, in.Counts[k])
	}
	if len(in.Workspaces) > 0 {
		fmt.Fprintln(out, "\nWorkspaces:")
		for _, w := range in.Workspaces {
			fmt.Fprintf(out, "  %-20s %d experiments, %d runs, %d registered models\n", w.Name, w.Experiments, w.Runs, w.RegisteredModels)
		}
	}
	fmt.Fprintln(out, "\nExperiments:")
	for _, e := range in.Experiments {
		where := ""
		if e.Workspace != "" {
			where = "  workspace " + e.Workspace
		}
		fmt.Fprintf(out, "  %s  %q  %s  %d runs%s\n", e.ID, e.Name, e.LifecycleStage, e.Runs, where)
	}
	for _, section := range []struct {
		title string
		lines []string
	}{{"Written by", in.Evidence}, {"Anomalies", in.Anomalies}, {"Notes", in.Notes}} {
		if len(section.lines) > 0 {
			fmt.Fprintf(out, "\n%s:\n", section.title)
			for _, l := range section.lines {
				fmt.Fprintf(out, "  %s\n", l)
			}
		}
	}
	return nil
}
