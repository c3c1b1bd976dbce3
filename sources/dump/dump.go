package dump

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/mlflow-bulk/mlflow-bulk/sources"
	"github.com/mlflow-bulk/mlflow-bulk/sources/internal/jsonfile"
)

// mlflow-bulk's own dump: a folder of JSON Lines files, one per entity, optionally
// gzip-compressed, and a manifest.json written last. The format is documented in
// docs/dump-format.md so that other tools can write it.

// FormatName and Version identify the format in manifest.json.
const (
	FormatName = "mlflow-bulk-dump"
	Version    = 1
)

// Files are the entity files of a dump, in the order they are read.
var Files = []string{"experiments", "datasets", "runs", "metrics", "logged_models", "registered_models", "traces", "tables"}

// Manifest is manifest.json.
type Manifest struct {
	Format    string           `json:"format"`
	Version   int              `json:"version"`
	CreatedMs int64            `json:"created_ms"`
	Source    string           `json:"source"`
	Gzip      bool             `json:"gzip"`
	Counts    map[string]int64 `json:"counts"`
	// RejectedRuns are runs whose lines were written before their input turned out
	// invalid (an export with --skip-invalid): readers leave them out.
	RejectedRuns []string `json:"rejected_runs,omitempty"`
}

// Metric is a line of metrics.jsonl.
type Metric struct {
	RunID     string         `json:"run_id"`
	Key       string         `json:"key"`
	Value     jsonfile.Float `json:"value"`
	Timestamp int64          `json:"timestamp"`
	Step      int64          `json:"step"`
}

// NewMetric makes the line of one point.
func NewMetric(runID string, m sources.Metric) Metric {
	return Metric{RunID: runID, Key: m.Key, Value: jsonfile.Float(m.Value), Timestamp: m.Timestamp, Step: m.Step}
}

// FileName is the file of an entity.
func FileName(entity string, gz bool) string {
	if gz {
		return entity + ".jsonl.gz"
	}
	return entity + ".jsonl"
}

// Detect reports whether dir holds an mlflow-bulk dump.
func Detect(dir string) bool {
	data, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		return false
	}
	// mlflow-export-import writes a manifest.json of its own (with "system" and
	// "mlflow"); a broken one is left to the dump reader, which says what is wrong.
	var probe map[string]json.RawMessage
	if json.Unmarshal(data, &probe) != nil {
		return true
	}
	_, format := probe["format"]
	_, system := probe["system"]
	return format || !system
}

// Open opens a dump folder for reading.
func Open(ctx context.Context, dir string, opts sources.Options) (sources.Source, error) {
	path := filepath.Join(dir, "manifest.json")
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, sources.ErrNotRecognised)
	}
	var m Manifest
	if err := jsonfile.Decode(path, data, &m); err != nil {
		return nil, err
	}
	switch {
	case m.Format != FormatName:
		return nil, fmt.Errorf("%s: format %q is not %s: %w", path, m.Format, FormatName, sources.ErrNotRecognised)
	case m.Version > Version:
		return nil, fmt.Errorf("%s: dump format version %d is newer than this mlflow-bulk reads (%d); upgrade mlflow-bulk", path, m.Version, Version)
	}
	s := &dumpSource{dir: dir, manifest: m, chunk: opts.PointsPerRecord(), rejected: map[string]bool{}}
	for _, id := range m.RejectedRuns {
		s.rejected[id] = true
	}
	s.Start(ctx, "mlflow-bulk dump "+dir, s.read)
	return s, nil
}

type dumpSource struct {
	sources.Producer
	dir      string
	manifest Manifest
	chunk    int
	rejected map[string]bool
}

// lines reads one entity file line by line; a missing file is an empty entity.
type lines struct {
	path   string
	file   *os.File
	gz     *gzip.Reader
	scan   *bufio.Scanner
	line   int
	peeked []byte
}

func (s *dumpSource) open(entity string) (*lines, error) {
	path := filepath.Join(s.dir, FileName(entity, s.manifest.Gzip))
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	l := &lines{path: path, file: f}
	var r io.Reader = f
	if s.manifest.Gzip {
		if l.gz, err = gzip.NewReader(f); err != nil {
			f.Close()
			return nil, &sources.InputError{File: path, Err: err}
		}
		r = l.gz
	}
	l.scan = bufio.NewScanner(r)
	l.scan.Buffer(make([]byte, 0, 1<<20), 256<<20)
	return l, nil
}

// next returns the next non-empty line, or nil at the end.
func (l *lines) next() ([]byte, error) {
	if l.peeked != nil {
		b := l.peeked
		l.peeked = nil
		return b, nil
	}
	for l.scan.Scan() {
		l.line++
		if b := l.scan.Bytes(); len(b) > 0 {
			return append([]byte(nil), b...), nil
		}
	}
	if err := l.scan.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			err = errors.New("a line over 256 MiB: a dump line holds one record, and no record of MLflow's is that large")
		}
		return nil, &sources.InputError{File: l.path, Line: l.line + 1, Err: err}
	}
	return nil, nil
}

func (l *lines) close() {
	if l.gz != nil {
		l.gz.Close()
	}
	l.file.Close()
}

// decode returns the concrete type: every caller attaches the run it was reading.
func (l *lines) decode(b []byte, into any) *sources.InputError {
	if text := jsonfile.CheckText(b); text != nil {
		return &sources.InputError{File: l.path, Line: l.line, Err: text}
	}
	dec := json.NewDecoder(jsonfile.BytesReader(jsonfile.PythonJSON(b)))
	dec.UseNumber()
	if err := dec.Decode(into); err != nil {
		return &sources.InputError{File: l.path, Line: l.line, Err: fmt.Errorf("invalid JSON: %w", err)}
	}
	return nil
}

func (s *dumpSource) read(ctx context.Context) error {
	for _, entity := range []string{"experiments", "datasets", "runs", "logged_models", "registered_models", "traces", "tables"} {
		var err error
		if entity == "runs" {
			err = s.readRuns(ctx)
		} else {
			err = s.readEach(ctx, entity)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// readEach emits every line of an entity file as a record.
func (s *dumpSource) readEach(ctx context.Context, entity string) error {
	l, err := s.open(entity)
	if err != nil || l == nil {
		return err
	}
	defer l.close()
	for {
		b, err := l.next()
		if err != nil {
			return s.InvalidOrFatal(ctx, err)
		}
		if b == nil {
			return nil
		}
		rec, inErr := recordOf(entity, func(into any) *sources.InputError { return l.decode(b, into) })
		if inErr != nil {
			if err := s.InvalidOrFatal(ctx, inErr); err != nil {
				return err
			}
			continue
		}
		setOrigin(rec, sources.Origin{File: l.path, Line: l.line})
		switch r := rec.(type) {
		case *sources.Trace:
			for _, t := range r.Tables {
				numbersToValues(t.Rows)
			}
		case *sources.TableChunk:
			if r.Table == nil {
				err := &sources.InputError{File: l.path, Line: l.line, Err: errors.New("a line of tables.jsonl without its table")}
				if err := s.InvalidOrFatal(ctx, err); err != nil {
					return err
				}
				continue
			}
			numbersToValues(r.Rows)
			if err := bytesOfBinaryColumns(r); err != nil {
				if err := s.InvalidOrFatal(ctx, &sources.InputError{File: l.path, Line: l.line, Err: err}); err != nil {
					return err
				}
				continue
			}
		}
		if err := s.Emit(ctx, rec); err != nil {
			return err
		}
	}
}

func setOrigin(r sources.Record, o sources.Origin) {
	switch x := r.(type) {
	case *sources.Experiment:
		x.Origin = o
	case *sources.Dataset:
		x.Origin = o
	case *sources.Run:
		x.Origin = o
	case *sources.LoggedModel:
		x.Origin = o
	case *sources.RegisteredModel:
		x.Origin = o
	case *sources.Trace:
		x.Origin = o
	case *sources.TableChunk:
		x.Origin = o
	}
}

// numbersToValues turns the JSON numbers of rows into int64 where they are whole and
// float64 otherwise, as the databases gave them.
func numbersToValues(rows [][]any) {
	for _, row := range rows {
		for i, v := range row {
			if n, ok := v.(json.Number); ok {
				if x, err := n.Int64(); err == nil {
					row[i] = x
				} else if f, err := n.Float64(); err == nil {
					row[i] = f
				}
			}
		}
	}
}

// bytesOfBinaryColumns turns the base64 text JSON holds for binary columns back into
// bytes.
func bytesOfBinaryColumns(c *sources.TableChunk) error {
	for i, name := range c.Columns {
		col := c.Table.Column(name)
		if col == nil || !col.Binary {
			continue
		}
		for _, row := range c.Rows {
			if i >= len(row) {
				return fmt.Errorf("table %s: a row of %d values for %d columns", c.Table.Name, len(row), len(c.Columns))
			}
			text, ok := row[i].(string)
			if !ok {
				continue
			}
			b, err := base64.StdEncoding.DecodeString(text)
			if err != nil {
				return fmt.Errorf("table %s column %s: not base64: %w", c.Table.Name, name, err)
			}
			row[i] = b
		}
	}
	return nil
}

// readRuns streams runs.jsonl with the lines of metrics.jsonl that follow each run in
// the same order: a run's points are contiguous and come in runs.jsonl's order.
func (s *dumpSource) readRuns(ctx context.Context) error {
	runs, err := s.open("runs")
	if err != nil || runs == nil {
		return err
	}
	defer runs.close()
	metrics, err := s.open("metrics")
	if err != nil {
		return err
	}
	if metrics != nil {
		defer metrics.close()
	}
	for {
		b, err := runs.next()
		if err != nil {
			return s.InvalidOrFatal(ctx, err)
		}
		if b == nil {
			break
		}
		var w wireRun
		if err := runs.decode(b, &w); err != nil {
			return s.InvalidOrFatal(ctx, err)
		}
		run := w.record()
		run.Origin = sources.Origin{File: runs.path, Line: runs.line}
		drop := s.rejected[run.RunID]
		if !drop {
			if err := s.Emit(ctx, run); err != nil {
				return err
			}
		}
		if metrics != nil {
			if err := s.readRunMetrics(ctx, metrics, run.RunID, drop); err != nil {
				return err
			}
		}
	}
	if metrics != nil {
		if b, _ := metrics.next(); b != nil {
			var m Metric
			_ = metrics.decode(b, &m) // for the run id only; the message is about the line's place
			return s.Emit(ctx, &sources.Invalid{Err: &sources.InputError{File: metrics.path, Line: metrics.line, RunID: m.RunID,
				Err: errors.New("metric of a run that runs.jsonl does not list at this point: a run's points must follow in runs.jsonl's order")}})
		}
	}
	return nil
}

func (s *dumpSource) readRunMetrics(ctx context.Context, l *lines, runID string, drop bool) error {
	points := make([]sources.Metric, 0, s.chunk)
	first := 0
	flush := func() error {
		if len(points) == 0 || drop {
			points = points[:0]
			return nil
		}
		err := s.Emit(ctx, &sources.Metrics{RunID: runID, Points: points, Origin: sources.Origin{File: l.path, Line: first}})
		points = make([]sources.Metric, 0, s.chunk)
		return err
	}
	for {
		b, err := l.next()
		if err != nil {
			return s.InvalidOrFatal(ctx, err)
		}
		if b == nil {
			return flush()
		}
		var m Metric
		if err := l.decode(b, &m); err != nil {
			err.RunID = runID
			return s.Emit(ctx, &sources.Invalid{Err: err})
		}
		if m.RunID != runID {
			l.peeked = b
			return flush()
		}
		if len(points) == 0 {
			first = l.line
		}
		points = append(points, sources.Metric{Key: m.Key, Value: float64(m.Value), Timestamp: m.Timestamp, Step: m.Step})
		if len(points) == s.chunk {
			if err := flush(); err != nil {
				return err
			}
		}
	}
}
