package formats

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/mlflow-bulk/mlflow-bulk/internal/dburi"
	"github.com/mlflow-bulk/mlflow-bulk/remedy"
	"github.com/mlflow-bulk/mlflow-bulk/sources"
	"github.com/mlflow-bulk/mlflow-bulk/sources/csvfile"
	"github.com/mlflow-bulk/mlflow-bulk/sources/database"
	"github.com/mlflow-bulk/mlflow-bulk/sources/dump"
	"github.com/mlflow-bulk/mlflow-bulk/sources/exportimport"
	"github.com/mlflow-bulk/mlflow-bulk/sources/filestore"
	"github.com/mlflow-bulk/mlflow-bulk/sources/sqldump"
	"github.com/mlflow-bulk/mlflow-bulk/sources/trackingserver"
)

// Options are every format's options together, as a command gathers them from its
// flags; Open hands each format its own.
type Options struct {
	sources.Options
	FileStore filestore.Options
	Database  database.Options
	CSV       csvfile.Options
	Server    trackingserver.Options
}

// Format is one input format mlflow-bulk reads.
type Format struct {
	Name string
	// Detect reports whether the location holds this format. It must be cheap.
	Detect func(location string) bool
	Open   func(ctx context.Context, location string, opts Options) (sources.Source, error)
}

// database is the options of the readers of MLflow databases (live, or a dump of one).
func (o Options) database() database.Options {
	own := o.Database
	own.Options = o.Options
	return own
}

// Formats is the explicit table of input formats, tried in order.
func Formats() []Format {
	return []Format{
		{Name: "MLflow tracking server (http://, https://, databricks, databricks://PROFILE, a SageMaker ARN, azureml://)", Detect: trackingserver.Detect,
			Open: func(ctx context.Context, loc string, o Options) (sources.Source, error) {
				own := o.Server
				own.Options = o.Options
				return trackingserver.Open(ctx, loc, own)
			}},
		{Name: "MLflow database (sqlite:///mlflow.db, a .db file, postgresql://, mysql://)", Detect: database.Detect,
			Open: func(ctx context.Context, loc string, o Options) (sources.Source, error) {
				return database.Open(ctx, loc, o.database())
			}},
		{Name: "SQL dump of an MLflow database (mysqldump, pg_dump plain, sqlite3 .dump; .sql or .sql.gz)", Detect: sqldump.Detect,
			Open: func(ctx context.Context, loc string, o Options) (sources.Source, error) {
				return sqldump.Open(ctx, loc, o.database())
			}},
		{Name: "mlflow-bulk dump (manifest.json)", Detect: dump.Detect,
			Open: func(ctx context.Context, loc string, o Options) (sources.Source, error) {
				return dump.Open(ctx, loc, o.Options)
			}},
		{Name: "MLflow file store (mlruns)", Detect: filestore.Detect,
			Open: func(ctx context.Context, loc string, o Options) (sources.Source, error) {
				own := o.FileStore
				own.Options = o.Options
				return filestore.Open(ctx, loc, own)
			}},
		{Name: "mlflow-export-import export (experiment.json, run.json)", Detect: exportimport.Detect,
			Open: func(ctx context.Context, loc string, o Options) (sources.Source, error) {
				return exportimport.Open(ctx, loc, o.Options)
			}},
		{Name: "CSV (a runs CSV, the UI's Download CSV, or run_id,key,value,timestamp,step)", Detect: csvfile.Detect,
			Open: func(ctx context.Context, loc string, o Options) (sources.Source, error) {
				own := o.CSV
				own.Options = o.Options
				return csvfile.Open(ctx, loc, own)
			}},
	}
}

// Open opens a source location with the first format that recognises it. MLflow's
// file-store URIs (file:///path/mlruns) are accepted as well as plain paths.
func Open(ctx context.Context, location string, opts Options) (sources.Source, error) {
	path := location
	if strings.HasPrefix(location, "file://") {
		path = strings.TrimPrefix(location, "file://")
	}
	for _, f := range Formats() {
		if f.Detect(path) {
			src, err := f.Open(ctx, path, opts)
			if errors.Is(err, fs.ErrNotExist) && !strings.HasPrefix(location, "file://") {
				return nil, &missingSourceError{location} // sqlite:///nope.db
			}
			return src, err
		}
	}
	if !strings.Contains(path, "://") { // a plain path, or a file:// one
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			return nil, &missingSourceError{location}
		}
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("cannot read %s: %w", dburi.Redact(location), err) // permission denied, say
		}
		f.Close()
	}
	if hint, remedies := whatIsThere(path); hint != "" {
		return nil, remedy.With(fmt.Errorf("%s: %w: %s", dburi.Redact(location), sources.ErrNotRecognised, hint), remedies...)
	}
	var names []string
	for _, f := range Formats() {
		names = append(names, f.Name)
	}
	return nil, fmt.Errorf("%s: %w; mlflow-bulk reads: %s", dburi.Redact(location), sources.ErrNotRecognised, strings.Join(names, ", "))
}

// whatIsThere says, of a folder no format recognises, what it holds that one would: a
// part of a file store (an experiment's or a run's folder), or sources one level down
// (a project folder that holds mlruns/, a folder that holds mlflow.db). "" when nothing.
func whatIsThere(path string) (string, []remedy.Remedy) {
	if hint, remedies := filestore.Misplaced(path); hint != "" {
		return hint, remedies
	}
	if jsonl, _ := filepath.Glob(filepath.Join(path, "*.jsonl*")); len(jsonl) > 0 {
		if _, err := os.Stat(filepath.Join(path, "manifest.json")); err != nil {
			return "it looks like an mlflow-bulk dump without its manifest.json, which an export writes last: the export that wrote it did not finish; export again", nil
		}
	}
	entries, err := os.ReadDir(path)
	if err != nil {
		return "", nil
	}
	var found []string
	for _, e := range entries {
		child := filepath.Join(path, e.Name())
		for _, f := range Formats() {
			if f.Detect(child) {
				found = append(found, fmt.Sprintf("%s (%s)", child, f.Name))
				break
			}
		}
		if len(found) == 5 {
			break
		}
	}
	if len(found) == 0 {
		return "", nil
	}
	return "it is not a source itself, but holds " + strings.Join(found, ", ") + ": give that instead (several sources go in one command)", nil
}

// missingSourceError is a source path that names nothing. It counts as a source not
// recognised (a usage error) but says what is wrong.
type missingSourceError struct{ location string }

func (e *missingSourceError) Error() string {
	return dburi.Redact(e.location) + " does not exist: give the path of a file store (mlruns), an MLflow database, a dump, an export or a CSV"
}

func (e *missingSourceError) Unwrap() error { return sources.ErrNotRecognised }
