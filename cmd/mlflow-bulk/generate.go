package main

import (
	"fmt"

	"github.com/mlflow-bulk/mlflow-bulk/internal/synth"
	"github.com/spf13/cobra"
)

// NewCmdGenerate builds `mlflow-bulk generate`, which writes synthetic file
// stores for tests and benchmarks.
func NewCmdGenerate(f *Factory) *cobra.Command {
	io := f.IOStreams
	var o synth.Options
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "generate DIR",
		Short: "Write a synthetic MLflow file store (for tests and benchmarks)",
		Args:  func(cmd *cobra.Command, args []string) error { return exactlyOne(cmd, args) },
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := synth.Write(cmd.Context(), args[0], o)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(io.Out, st)
			}
			fmt.Fprintf(io.Out, "Wrote %s: %d experiments, %d runs, %d params, %d tags, %d metric lines (%d distinct metric rows)\n",
				args[0], st.Experiments, st.Runs, st.Params, st.Tags, st.MetricLines, st.Metrics)
			return nil
		},
	}
	flags := cmd.Flags()
	flags.IntVar(&o.Experiments, "experiments", 2, "experiments besides Default")
	flags.IntVar(&o.Runs, "runs", 10, "runs")
	flags.IntVar(&o.MetricKeys, "metrics", 3, "metric keys per run")
	flags.IntVar(&o.Steps, "steps", 10, "points per metric key")
	flags.IntVar(&o.Params, "params", 5, "params per run")
	flags.IntVar(&o.Tags, "tags", 3, "tags per run besides mlflow.runName")
	flags.Uint64Var(&o.Seed, "seed", 1, "random seed")
	flags.BoolVar(&o.Special, "special", false, "include NaN/inf values and duplicate lines")
	flags.BoolVar(&asJSON, "json", false, "print the counts as one JSON object")
	flags.StringVar(&o.ArtifactRoot, "artifact-root", "", "artifact root the experiments name (default: the store's folder as a file URI)")
	return cmd
}
