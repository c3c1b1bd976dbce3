// Package sources reads MLflow tracking data from the formats users have (file stores,
// MLflow databases, dumps) and streams it as Records.
//
// How to implement a source:
//  1. Open validates the location and reads nothing big: no listing of a whole store.
//  2. Next advances to the next record and returns false at the end or on a fatal error;
//     Err then tells which. Record returns the current record, valid until the next Next.
//  3. Memory stays bounded by a window of runs, never the whole input: stream metric
//     histories in chunks.
//  4. Input that cannot be read is an *InputError naming the file, line and run. When it
//     spoils one run or experiment, emit an *Invalid record and go on with the next; only
//     what makes the rest of the source unreadable ends the stream through Err.
//  5. Never write to the source: open files read-only.
//  6. Pass the conformance suite in sourcetest.
package sources

import (
	"context"
	"errors"
	"fmt"

	"github.com/mlflow-bulk/mlflow-bulk/remedy"
	"github.com/mlflow-bulk/mlflow-bulk/schema"
)

// Source is a pull iterator over the records of one input, in the shape of pgx's
// CopyFromSource. The context given at open bounds all its reads, as database/sql
// does for Rows. A Source is used by one goroutine.
type Source interface {
	// Next advances to the next record. It returns false when the stream has ended or
	// failed; Err distinguishes the two.
	Next() bool
	// Record returns the current record. It is valid until the next call to Next.
	Record() Record
	// Err returns the error that ended the stream, or nil at a clean end.
	Err() error
	// Close releases the source's resources. It is safe to call more than once.
	Close() error
	// Describe names the source for messages and reports ("file store ./mlruns").
	Describe() string
}

// Sizer is implemented by sources that can count their runs cheaply before streaming
// them (a folder listing, a COUNT), so progress can show how much is left.
type Sizer interface {
	CountRuns(ctx context.Context) (int64, error)
}

// RunStamper is implemented by sources that can tell, without reading a run, that its
// data is as it was when its Run.Stamp was taken (a file store compares its files'
// sizes and modification times). SkipUnchanged must be called before the first Next:
// from then on a run for which unchanged(runID, stamp) is true is handed over as a Run
// with Unchanged set, without its data. unchanged is called from several goroutines.
type RunStamper interface {
	SkipUnchanged(unchanged func(runID string, stamp uint64) bool)
}

// TableSource is implemented by sources whose data sits in database tables, so the
// importer can compare them with the target's before it writes anything.
type TableSource interface {
	// Unsupported lists the source's tables and columns holding data that the target's
	// tables (as Inspect describes them) have no place for.
	Unsupported(ctx context.Context, target map[string]*schema.TableInfo) ([]Unsupported, error)
}

// Revisioned is implemented by sources that are MLflow databases (or dumps of one):
// the alembic revision the source is at, as its alembic_version row says, so that an
// empty target can be created at the source's own schema.
type Revisioned interface {
	SchemaRevision() string
}

// Unsupported is data of a source the target cannot hold: a whole table (Column empty)
// or one column, with the number of rows holding a value other than its default, and
// why, where it is not that the target lacks the table or column.
type Unsupported struct {
	Table  string `json:"table"`
	Column string `json:"column,omitempty"`
	Rows   int64  `json:"rows"`
	Reason string `json:"reason,omitempty"`
}

// InputError is bad input: what is wrong and where. It unwraps to the cause.
type InputError struct {
	File  string
	Line  int    // 0 when the problem is not at a line
	RunID string // empty when not about a run
	Err   error
}

func (e *InputError) Error() string {
	loc := e.File
	if e.Line > 0 {
		loc = fmt.Sprintf("%s:%d", e.File, e.Line)
	}
	if e.RunID != "" {
		return fmt.Sprintf("%s: run %s: %v", loc, e.RunID, e.Err)
	}
	return fmt.Sprintf("%s: %v", loc, e.Err)
}

func (e *InputError) Unwrap() error { return e.Err }

// ErrNotRecognised is returned by Open when the location holds no format the source
// reads. Callers try the next format or tell the user which formats exist.
var ErrNotRecognised = errors.New("not a recognised MLflow source")

// Options are what every format takes; each format's own options embed them.
type Options struct {
	// MetricChunk is the largest number of points in one Metrics record (default 4096).
	MetricChunk int
}

// PointsPerRecord is MetricChunk, or its default where it is not set.
func (o Options) PointsPerRecord() int {
	if o.MetricChunk <= 0 {
		return 4096
	}
	return o.MetricChunk
}

// FromRecords returns a Source that streams the given records, for tests and for
// callers that already hold records in memory.
func FromRecords(name string, records []Record) Source {
	return &recordSlice{name: name, records: records, pos: -1}
}

type recordSlice struct {
	name    string
	records []Record
	pos     int
}

func (s *recordSlice) Next() bool {
	if s.pos+1 >= len(s.records) {
		s.pos = len(s.records)
		return false
	}
	s.pos++
	return true
}
func (s *recordSlice) Record() Record   { return s.records[s.pos] }
func (s *recordSlice) Err() error       { return nil }
func (s *recordSlice) Close() error     { return nil }
func (s *recordSlice) Describe() string { return s.name }

// CheckContext is how sources honour cancellation between reads.
func CheckContext(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("reading stopped: %w", err)
	}
	return nil
}

// OptionExperiments is the import's choice of experiments by name, which a reader's
// advice may name (package remedy); importer/rules keeps the filter itself.
const OptionExperiments remedy.Option = "importer.Options.Filter.Experiments"

// OptionTargetExperiment is the import's one experiment for every run, which a reader's
// notice may name.
const OptionTargetExperiment remedy.Option = "importer.Options.TargetExperiment"
