package filestore

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"sort"
	"strings"

	"github.com/mlflow-bulk/mlflow-bulk/sources"
	"github.com/mlflow-bulk/mlflow-bulk/sources/pyvalue"
)

// readMetrics streams every metric file of a run, key by key in name order, each in
// logging (line) order.
func (s *fileStore) readMetrics(ctx context.Context, emit recordEmitter, dir, runID string) error {
	type metricFile struct {
		path  string
		entry fs.DirEntry
	}
	var files []metricFile
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && path == dir {
				return fs.SkipDir
			}
			return err
		}
		if !d.IsDir() {
			files = append(files, metricFile{path, d})
		}
		return nil
	})
	if err != nil {
		return emit(ctx, &sources.Invalid{Err: &sources.InputError{File: dir, RunID: runID, Err: err}})
	}
	sort.Slice(files, func(i, j int) bool { return files[i].path < files[j].path })
	for _, f := range files {
		rel, _ := filepath.Rel(dir, f.path)
		if err := s.readMetricFile(ctx, emit, f.path, f.entry, filepath.ToSlash(rel), runID); err != nil {
			return err
		}
	}
	return nil
}

// typicalMetricLine is about the length of a line of a metric file as MLflow writes it
// ("1700000000000 0.123456789 12\n").
const typicalMetricLine = 28

func (s *fileStore) readMetricFile(ctx context.Context, emit recordEmitter, path string, entry fs.DirEntry, key, runID string) error {
	if err := s.files.checkEntry(path, entry); err != nil {
		return emit(ctx, &sources.Invalid{Err: &sources.InputError{File: path, RunID: runID, Err: err}})
	}
	f, err := openForRead(path)
	if err != nil {
		return emit(ctx, &sources.Invalid{Err: &sources.InputError{File: path, RunID: runID, Err: err}})
	}
	defer f.Close()
	// Most metric files are small: buffers sized for the file, not for the largest one,
	// keep a store of many short runs from allocating (and clearing) memory it never uses.
	bufSize, chunk := 64*1024, s.chunk
	if size := f.size(); size >= 0 {
		bufSize = int(min(size+1, int64(bufSize)))
		// Sized for lines of a usual length rather than the shortest possible: records
		// wait in the window ahead of the import, and points allocated but never used
		// were most of its memory. Longer files grow the slice as they are read.
		chunk = int(min(size/typicalMetricLine+16, int64(chunk)))
	}
	scanner := bufio.NewScanner(f)
	scanner.Buffer(make([]byte, 0, bufSize), 1024*1024)
	points := make([]sources.Metric, 0, chunk)
	line, first := 0, 1
	for scanner.Scan() {
		line++
		text := scanner.Text()
		if strings.TrimSpace(text) == "" {
			// MLflow's reader fails on a blank line, so the run cannot be shown there.
			return emit(ctx, &sources.Invalid{Err: &sources.InputError{File: path, Line: line, RunID: runID, Err: errors.New("malformed metric file: a blank line, which MLflow cannot read")}})
		}
		p, err := ParseMetricLine(key, text)
		if err != nil {
			return emit(ctx, &sources.Invalid{Err: &sources.InputError{File: path, Line: line, RunID: runID, Err: err}})
		}
		points = append(points, p)
		if len(points) == s.chunk {
			if err := emit(ctx, &sources.Metrics{RunID: runID, Points: points, Origin: sources.Origin{File: path, Line: first}}); err != nil {
				return err
			}
			points, first = make([]sources.Metric, 0, chunk), line+1
		}
	}
	if err := scanner.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			err = errors.New("malformed metric file: a line over 1 MiB, where a metric line is a few dozen bytes")
		}
		return emit(ctx, &sources.Invalid{Err: &sources.InputError{File: path, Line: line + 1, RunID: runID, Err: err}})
	}
	if line == 0 {
		return emit(ctx, &sources.Invalid{Err: &sources.InputError{File: path, RunID: runID, Err: errors.New("malformed metric file: no data")}})
	}
	if len(points) > 0 {
		return emit(ctx, &sources.Metrics{RunID: runID, Points: points, Origin: sources.Origin{File: path, Line: first}})
	}
	return nil
}

// ParseMetricLine parses one line of a run's metric file, as MLflow's file store reads
// it (the line stripped, then split at single spaces):
//
//	<timestamp> <value>                                         (before MLflow 1.0; step 0)
//	<timestamp> <value> <step>
//	<timestamp> <value> <step> <dataset_name> <dataset_digest>  (3.x, metric tied to a dataset)
//
// Values are what Python's float() reads (nan, inf and -inf included, digits grouped
// with _; not hexadecimal), timestamps and steps what its int() reads. The dataset
// fields are not part of MLflow's metrics table and are dropped, as MLflow's converter
// does. A negative timestamp is refused, as MLflow refuses to log one.
func ParseMetricLine(key, line string) (sources.Metric, error) {
	fields := strings.Split(strings.TrimSpace(line), " ")
	if n := len(fields); n != 2 && n != 3 && n != 5 {
		return sources.Metric{}, fmt.Errorf("malformed metric line: %d fields, expected 2, 3 or 5 (timestamp value [step [dataset_name dataset_digest]])", n)
	}
	return parseMetricFields(key, fields)
}

// parseMetricFields reads the timestamp, value and step of a metric line's fields.
func parseMetricFields(key string, fields []string) (sources.Metric, error) {
	ts, ok := pyvalue.Int(fields[0])
	if !ok {
		return sources.Metric{}, fmt.Errorf("malformed metric line: timestamp %q is not an integer", fields[0])
	}
	if ts < 0 {
		return sources.Metric{}, fmt.Errorf("metric %q has a negative timestamp %d, which MLflow refuses", key, ts)
	}
	value, ok := pyvalue.Float(fields[1])
	if !ok {
		return sources.Metric{}, fmt.Errorf("malformed metric line: value %q is not a number", fields[1])
	}
	var step int64
	if len(fields) >= 3 {
		if step, ok = pyvalue.Int(fields[2]); !ok {
			return sources.Metric{}, fmt.Errorf("malformed metric line: step %q is not an integer", fields[2])
		}
	}
	return sources.Metric{Key: key, Value: value, Timestamp: ts, Step: step}, nil
}
