// Package export writes mlflow-bulk's dump format from any source: the record stream
// written down as JSON Lines, one file per entity, a manifest last. docs/dump-format.md
// describes it.
package export

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
	"unicode/utf8"

	"github.com/mlflow-bulk/mlflow-bulk/remedy"
	"github.com/mlflow-bulk/mlflow-bulk/sources"
	"github.com/mlflow-bulk/mlflow-bulk/sources/dump"
)

// Options control an export.
type Options struct {
	// Gzip compresses every entity file.
	Gzip bool
	// SkipInvalid leaves invalid runs out (listed in the manifest) instead of stopping.
	SkipInvalid bool
}

// OptionSkipInvalid is Options.SkipInvalid, as an error names it (package remedy).
const OptionSkipInvalid remedy.Option = "export.Options.SkipInvalid"

// Report is what an export wrote.
type Report struct {
	Directory string            `json:"directory"`
	Source    string            `json:"source"`
	Counts    map[string]int64  `json:"counts"`
	Skipped   []sources.Skipped `json:"skipped"`
	Rejected  []string          `json:"rejected"`
	Seconds   float64           `json:"seconds"`
}

// ErrInvalidInput wraps the input error that stopped an export.
var ErrInvalidInput = errors.New("invalid input")

type entityFile struct {
	file *os.File
	gz   *gzip.Writer
	buf  *bufio.Writer
	enc  *json.Encoder
}

// Write exports the source into dir, which must not exist or be empty. The dump is
// written into a folder beside it, dir.partial-PID, and renamed to dir once whole with
// its manifest (written last): an export that fails is removed, one that is killed
// leaves a folder whose name says it is partial, and dir is never a half dump.
func Write(ctx context.Context, src sources.Source, dir string, opts Options) (report *Report, err error) {
	started := time.Now()
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return nil, fmt.Errorf("%s is not empty; export into a new folder", dir)
	}
	partial := fmt.Sprintf("%s.partial-%d", filepath.Clean(dir), os.Getpid())
	if err := os.MkdirAll(partial, 0o755); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			_ = os.RemoveAll(partial) // our own unfinished dump
		}
	}()
	report, err = write(ctx, src, partial, opts)
	if err != nil {
		return report, err
	}
	// Renaming replaces dir where it is an empty folder.
	if err := os.Rename(partial, dir); err != nil {
		return report, fmt.Errorf("move the finished dump into %s: %w", dir, err)
	}
	report.Directory = dir
	report.Seconds = time.Since(started).Seconds()
	return report, nil
}

// write exports the source into dir, manifest last.
func write(ctx context.Context, src sources.Source, dir string, opts Options) (*Report, error) {
	w := &writer{dir: dir, opts: opts, files: map[string]*entityFile{},
		report:   &Report{Directory: dir, Source: src.Describe(), Counts: map[string]int64{}, Skipped: []sources.Skipped{}, Rejected: []string{}},
		manifest: dump.Manifest{Format: dump.FormatName, Version: dump.Version, Source: src.Describe(), Gzip: opts.Gzip}}
	err := w.writeAll(ctx, src)
	if cerr := w.closeFiles(); err == nil {
		err = cerr
	}
	if err != nil {
		return w.report, err
	}
	w.manifest.CreatedMs = time.Now().UnixMilli()
	w.manifest.Counts = w.report.Counts
	data, err := json.MarshalIndent(w.manifest, "", "  ")
	if err != nil {
		return w.report, err
	}
	if err := os.WriteFile(filepath.Join(dir, "manifest.json"), append(data, '\n'), 0o644); err != nil {
		return w.report, err
	}
	return w.report, nil
}

type writer struct {
	dir      string
	opts     Options
	files    map[string]*entityFile
	report   *Report
	manifest dump.Manifest
	runID    string
}

func (w *writer) write(entity string, v any) error {
	f, ok := w.files[entity]
	if !ok {
		file, err := os.Create(filepath.Join(w.dir, dump.FileName(entity, w.opts.Gzip)))
		if err != nil {
			return err
		}
		f = &entityFile{file: file}
		var out io.Writer = file
		if w.opts.Gzip {
			f.gz = gzip.NewWriter(file)
			out = f.gz
		}
		f.buf = bufio.NewWriterSize(out, 256*1024)
		f.enc = json.NewEncoder(f.buf)
		f.enc.SetEscapeHTML(false)
		w.files[entity] = f
	}
	// JSON carries text as UTF-8 only: the encoder would write U+FFFD for bytes that are
	// not, and the dump would hold another value than the source without a word.
	err := sources.EachText(entity, v, func(path, text string) error {
		if utf8.ValidString(text) {
			return nil
		}
		return fmt.Errorf("%s (%q) holds text that is not UTF-8, which JSON cannot carry unchanged: the dump is refused rather than altered; "+
			"fix the value in the source (MLflow keeps text as UTF-8)", path, text)
	})
	if err != nil {
		return err
	}
	w.report.Counts[entity]++
	return f.enc.Encode(v)
}

func (w *writer) closeFiles() error {
	var errs []error
	for _, f := range w.files {
		errs = append(errs, f.buf.Flush())
		if f.gz != nil {
			errs = append(errs, f.gz.Close())
		}
		errs = append(errs, f.file.Sync(), f.file.Close())
	}
	return errors.Join(errs...)
}

func (w *writer) writeAll(ctx context.Context, src sources.Source) error {
	if err := sources.Each(ctx, src, w); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	return nil
}

func (w *writer) Experiment(_ context.Context, r *sources.Experiment) error {
	return w.writeRecord("experiments", r)
}

func (w *writer) Dataset(_ context.Context, r *sources.Dataset) error {
	return w.writeRecord("datasets", r)
}

func (w *writer) Run(_ context.Context, r *sources.Run) error {
	w.runID = r.RunID
	return w.writeRecord("runs", r)
}

// writeRecord writes a record as the line of the dump's own wire type.
func (w *writer) writeRecord(entity string, r sources.Record) error {
	line, ok := dump.Line(r)
	if !ok {
		return fmt.Errorf("export: no line of %s for a %T", entity, r)
	}
	return w.write(entity, line)
}

func (w *writer) Metrics(_ context.Context, r *sources.Metrics) error {
	for _, p := range r.Points {
		if err := w.write("metrics", dump.NewMetric(r.RunID, p)); err != nil {
			return err
		}
	}
	return nil
}

func (w *writer) LoggedModel(_ context.Context, r *sources.LoggedModel) error {
	return w.writeRecord("logged_models", r)
}

func (w *writer) RegisteredModel(_ context.Context, r *sources.RegisteredModel) error {
	return w.writeRecord("registered_models", r)
}

func (w *writer) Trace(_ context.Context, r *sources.Trace) error { return w.writeRecord("traces", r) }

func (w *writer) TableChunk(_ context.Context, r *sources.TableChunk) error {
	return w.writeRecord("tables", r)
}

func (w *writer) Skipped(_ context.Context, r *sources.Skipped) error {
	w.report.Skipped = append(w.report.Skipped, *r)
	return nil
}

// Notice: how a source read ambiguous input is the reading's business, not data; the
// dump holds what was read.
func (w *writer) Notice(context.Context, *sources.Notice) error { return nil }

func (w *writer) Invalid(_ context.Context, r *sources.Invalid) error {
	if !w.opts.SkipInvalid {
		return remedy.With(fmt.Errorf("%w: %w; fix the input", ErrInvalidInput, r.Err), remedy.Remedy{Option: OptionSkipInvalid, Does: "to export everything else"})
	}
	w.report.Rejected = append(w.report.Rejected, r.Err.Error())
	if r.Err.RunID != "" && r.Err.RunID == w.runID {
		w.manifest.RejectedRuns = append(w.manifest.RejectedRuns, r.Err.RunID)
	}
	return nil
}
