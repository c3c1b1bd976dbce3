package sources

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// Format is one input format mlflow-bulk reads.
type Format struct {
	Name string
	// Detect reports whether the location holds this format. It must be cheap.
	Detect func(location string) bool
	Open   Opener
}

// Formats is the explicit table of input formats, tried in order.
func Formats() []Format {
	return []Format{
		{Name: "MLflow database (sqlite:///mlflow.db, a .db file, postgresql://, mysql://)", Detect: IsDatabase, Open: OpenDatabase},
		{Name: "mlflow-bulk dump (manifest.json)", Detect: IsDump, Open: OpenDump},
		{Name: "MLflow file store (mlruns)", Detect: IsFileStore, Open: OpenFileStore},
		{Name: "mlflow-export-import export (experiment.json, run.json)", Detect: IsExportImport, Open: OpenExportImport},
		{Name: "CSV (a runs CSV, the UI's Download CSV, or run_id,key,value,timestamp,step)", Detect: IsCSV, Open: OpenCSV},
	}
}

// Open opens a source location with the first format that recognises it. MLflow's
// file-store URIs (file:///path/mlruns) are accepted as well as plain paths.
func Open(ctx context.Context, location string, opts Options) (Source, error) {
	path := location
	if strings.HasPrefix(location, "file://") {
		path = strings.TrimPrefix(location, "file://")
	}
	for _, f := range Formats() {
		if f.Detect(path) {
			return f.Open(ctx, path, opts)
		}
	}
	if !strings.Contains(location, "://") {
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			return nil, &missingSourceError{location}
		}
	}
	var names []string
	for _, f := range Formats() {
		names = append(names, f.Name)
	}
	return nil, fmt.Errorf("%s: %w; mlflow-bulk reads: %s", location, ErrNotRecognised, strings.Join(names, ", "))
}

// missingSourceError is a source path that names nothing. It counts as a source not
// recognised (a usage error) but says what is wrong.
type missingSourceError struct{ location string }

func (e *missingSourceError) Error() string {
	return e.location + " does not exist: give the path of a file store (mlruns), an MLflow database, a dump, an export or a CSV"
}

func (e *missingSourceError) Unwrap() error { return ErrNotRecognised }
