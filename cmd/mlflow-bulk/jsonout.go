package main

import (
	"encoding/json"
	"io"

	"github.com/mlflow-bulk/mlflow-bulk/importer"
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
	Verify   *importer.VerifyReport `json:"verify,omitempty"`
	Error    string                 `json:"error,omitempty"`
	ExitCode ExitCode               `json:"exit_code"`
}
