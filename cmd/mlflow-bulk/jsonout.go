package main

import (
	"encoding/json"
	"io"
	"time"

	"github.com/mlflow-bulk/mlflow-bulk/importer"
	"github.com/mlflow-bulk/mlflow-bulk/verify"
)

// writeJSON writes v as one line of JSON: --json output is one line per invocation, so
// a cron job appending it to a .jsonl file keeps a file of JSON lines.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// importJSON is what `import --json` prints: the report, with the verification that
// --verify ran, or the error that ended the command and what was committed before it.
type importJSON struct {
	*importer.Report
	// StartedAt and FinishedAt bound the command, in UTC (RFC 3339): a nightly log of
	// JSON lines tells its runs apart by them.
	StartedAt  string `json:"started_at"`
	FinishedAt string `json:"finished_at"`
	// NothingNew: the target already held everything (a re-import with nothing to do).
	NothingNew bool           `json:"nothing_new"`
	Verify     *verify.Report `json:"verify,omitempty"`
	Error      string         `json:"error,omitempty"`
	ExitCode   ExitCode       `json:"exit_code"`
}

// newImportJSON is what --json prints of an import that ended with err (nil: success).
// Lists are [] rather than null when empty, so that a script can iterate any of them.
func newImportJSON(opts *ImportOptions, report *importer.Report, vr *verify.Report, err error) importJSON {
	for _, list := range []*[]string{&report.Sources, &report.Notices, &report.CreatedRuns, &report.MergedRuns} {
		if *list == nil {
			*list = []string{}
		}
	}
	if report.Counts == nil {
		report.Counts = []importer.EntityCount{}
	}
	if report.Experiments == nil {
		report.Experiments = []importer.ExperimentMapping{}
	}
	if report.Skipped == nil {
		report.Skipped = []importer.Note{}
	}
	if report.Rejected == nil {
		report.Rejected = []importer.Note{}
	}
	if report.LatestMetricDifferences == nil {
		report.LatestMetricDifferences = []importer.LatestDifference{}
	}
	if report.Unsupported == nil {
		report.Unsupported = []importer.UnsupportedData{}
	}
	started := opts.invocation.startedAt
	if started.IsZero() {
		started = opts.IO.Clock.Now()
	}
	out := importJSON{Report: report, Verify: vr, ExitCode: exitCodeFor(err),
		StartedAt: started.UTC().Format(time.RFC3339), FinishedAt: opts.IO.Clock.Now().UTC().Format(time.RFC3339),
		NothingNew: err == nil && report.Complete && !report.DryRun && report.NothingNew()}
	if err != nil {
		out.Error = errorText(err)
	}
	return out
}
