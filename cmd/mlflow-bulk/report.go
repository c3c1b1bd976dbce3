package main

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/mlflow-bulk/mlflow-bulk/importer"
	"github.com/mlflow-bulk/mlflow-bulk/internal/progress"
)

// printReport writes the human summary of an import to Out.
func printReport(io *IOStreams, r *importer.Report) {
	out := io.Out
	verb := "Imported into"
	if r.DryRun {
		verb = "Dry run into" // the counts are what an import would do
	}
	fmt.Fprintf(out, "%s %s (schema %s", verb, r.Target, r.Revision)
	switch {
	case r.SchemaCreated && r.DryRun:
		fmt.Fprint(out, ", which the import would create")
	case r.SchemaCreated:
		fmt.Fprint(out, ", created")
	}
	fmt.Fprintf(out, ") in %.1fs", r.Seconds)
	// A rate over a second or two of work says nothing but noise.
	if m := r.Count("metrics"); m.Created >= 10_000 && r.Seconds >= 2 {
		fmt.Fprintf(out, ", %.0f metric rows/s", float64(m.Created)/r.Seconds)
	}
	fmt.Fprint(out, "\n\n")
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "entity\tread\tcreated\tmerged\tskipped\trejected\t")
	for _, c := range r.Counts {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t\n", c.Entity, c.Read, c.Created, c.Merged, c.Skipped, c.Rejected)
	}
	tw.Flush()
	if len(r.Experiments) > 0 {
		fmt.Fprintln(out, "\nExperiment ids (source -> target):")
		for _, m := range r.Experiments {
			note := ""
			if m.IDChanged {
				note = "  (id changed)"
			}
			fmt.Fprintf(out, "  %s  %s -> %d  %s %q%s\n", m.Source, m.SourceID, m.TargetID, m.Action, m.Name, note)
		}
	}
	if len(r.Skipped) > 0 {
		fmt.Fprintln(out, "\nSkipped:")
		for _, n := range r.Skipped {
			path := n.Path
			if path == "" {
				path = n.Source
			}
			fmt.Fprintf(out, "  %s: %s\n", path, n.Reason)
		}
		if r.SkippedMore > 0 {
			fmt.Fprintf(out, "  … and %d more\n", r.SkippedMore)
		}
	}
	if len(r.LatestMetricDifferences) > 0 {
		fmt.Fprintln(out, "\nLatest metrics that differ from the source's own (the one recomputed from the history was written):")
		for _, d := range r.LatestMetricDifferences {
			fmt.Fprintf(out, "  run %s key %q: source step %d time %d value %v, recomputed step %d time %d value %v\n", d.RunID, d.Key,
				d.SourceValue.Step, d.SourceValue.Timestamp, d.SourceValue.Value, d.Recomputed.Step, d.Recomputed.Timestamp, d.Recomputed.Value)
		}
	}
	printArtifacts(out, r)
	if len(r.Notices) > 0 {
		fmt.Fprintln(out, "\nNotes:")
		for _, n := range r.Notices {
			fmt.Fprintf(out, "  %s\n", n)
		}
	}
	if len(r.Rejected) > 0 {
		fmt.Fprintln(out, "\nRejected (invalid input):")
		for _, n := range r.Rejected {
			fmt.Fprintf(out, "  %s\n", n.Reason)
		}
	}
	printClosing(out, r)
}

// printClosing is the report's last line where the counts alone would not say it: a dry
// run, or an import that found nothing new.
func printClosing(out io.Writer, r *importer.Report) {
	switch {
	case r.DryRun:
		fmt.Fprintln(out, "\nDry run: nothing was written.")
	case r.NothingNew() && r.KeysFinished:
		fmt.Fprintln(out, "\nNothing new to import; this run finished what an interrupted import left undone: metrics' keys and indexes, which MLflow needs, are built now.")
	case r.NothingNew() && r.UnchangedRuns > 0:
		fmt.Fprintf(out, "\nNothing new: the target already held everything; %d runs were not read again, as their sources show them as when they were imported (--reread reads and compares them, and finds what was changed in the target since).\n", r.UnchangedRuns)
	case r.NothingNew():
		fmt.Fprintln(out, "\nNothing new: the target already held everything.")
	}
}

// printArtifacts says what --copy-artifacts copied, and names the locations it could
// not read.
func printArtifacts(out io.Writer, r *importer.Report) {
	a := r.Artifacts
	if a == nil {
		return
	}
	verb := "copied"
	if r.DryRun {
		verb = "would be copied"
	}
	rate := ""
	if !r.DryRun && a.Files > 0 && r.Seconds >= 1 {
		rate = ", " + progress.Bytes(a.BytesPerSecond) + "/s"
	}
	fmt.Fprintf(out, "\nArtifacts into %s: %d files %s (%s%s); %d files (%s) were there already with the same size and MD5\n",
		a.Destination, a.Files, verb, progress.Bytes(a.Bytes), rate, a.SameFiles, progress.Bytes(a.SameBytes))
	if len(a.NotCopied) > 0 {
		fmt.Fprintf(out, "Not copied (%d locations mlflow-bulk cannot read; these moved with their locations as they were):\n", len(a.NotCopied))
		for _, n := range a.NotCopied {
			fmt.Fprintf(out, "  run %s: %s: %s\n", n.RunID, n.Path, n.Reason)
		}
	}
}
