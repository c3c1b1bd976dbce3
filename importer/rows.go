package importer

import (
	"context"
	"errors"
	"fmt"

	"github.com/mlflow-bulk/mlflow-bulk/importer/rules"

	"github.com/mlflow-bulk/mlflow-bulk/schema"
	"github.com/mlflow-bulk/mlflow-bulk/sinks"
)

// Row types of the tables the importer bulk-loads, and how each column of each table
// is read from them. Which columns are written is the target revision's business
// (schema.Revision.Columns); a column the revision lacks is simply not asked for.

type keyValueRow struct{ key, value, runUUID string }

type metricRow struct {
	rules.MetricPoint
	runUUID string
}

type inputRow struct {
	inputUUID, sourceType, sourceID, destinationType, destinationID string
	step                                                            int64
}

type inputTagRow struct{ inputUUID, name, value string }

func optional(v *int64) any {
	if v == nil {
		return nil
	}
	return *v
}

var runColumns = map[string]func(*rules.RunRow) any{
	"run_uuid":         func(r *rules.RunRow) any { return r.RunUUID },
	"name":             func(r *rules.RunRow) any { return r.Name },
	"source_type":      func(r *rules.RunRow) any { return r.SourceType },
	"source_name":      func(r *rules.RunRow) any { return r.SourceName },
	"entry_point_name": func(r *rules.RunRow) any { return r.EntryPointName },
	"user_id":          func(r *rules.RunRow) any { return r.UserID },
	"status":           func(r *rules.RunRow) any { return r.Status },
	"start_time":       func(r *rules.RunRow) any { return optional(r.StartTime) },
	"end_time":         func(r *rules.RunRow) any { return optional(r.EndTime) },
	"source_version":   func(r *rules.RunRow) any { return r.SourceVersion },
	"lifecycle_stage":  func(r *rules.RunRow) any { return r.LifecycleStage },
	"artifact_uri":     func(r *rules.RunRow) any { return r.ArtifactURI },
	"experiment_id":    func(r *rules.RunRow) any { return r.ExperimentID },
	"deleted_time":     func(r *rules.RunRow) any { return optional(r.DeletedTime) },
}

var keyValueColumns = map[string]func(*keyValueRow) any{
	"key":      func(r *keyValueRow) any { return r.key },
	"value":    func(r *keyValueRow) any { return r.value },
	"run_uuid": func(r *keyValueRow) any { return r.runUUID },
}

var metricColumns = map[string]func(*metricRow) any{
	"key":       func(r *metricRow) any { return r.Key },
	"value":     func(r *metricRow) any { return r.Value },
	"timestamp": func(r *metricRow) any { return r.Timestamp },
	"run_uuid":  func(r *metricRow) any { return r.runUUID },
	"step":      func(r *metricRow) any { return r.Step },
	"is_nan":    func(r *metricRow) any { return r.IsNaN },
}

var inputColumns = map[string]func(*inputRow) any{
	"input_uuid":       func(r *inputRow) any { return r.inputUUID },
	"source_type":      func(r *inputRow) any { return r.sourceType },
	"source_id":        func(r *inputRow) any { return r.sourceID },
	"destination_type": func(r *inputRow) any { return r.destinationType },
	"destination_id":   func(r *inputRow) any { return r.destinationID },
	"step":             func(r *inputRow) any { return r.step },
}

var inputTagColumns = map[string]func(*inputTagRow) any{
	"input_uuid": func(r *inputTagRow) any { return r.inputUUID },
	"name":       func(r *inputTagRow) any { return r.name },
	"value":      func(r *inputTagRow) any { return r.value },
}

// flusher is a buffer of one table's rows that can write itself and forget them.
type flusher interface {
	len() int
	flush(ctx context.Context, tx sinks.Tx, from, to int) (int64, error)
	truncate(n int)
}

// buffer holds rows of one table until the importer writes them.
type buffer[T any] struct {
	name    string
	columns []string
	getters []func(*T) any
	rows    []T
}

func newBuffer[T any](rev *schema.Revision, table string, all map[string]func(*T) any) *buffer[T] {
	b := &buffer[T]{name: table, columns: rev.Columns(table)}
	for _, c := range b.columns {
		get, ok := all[c]
		if !ok {
			panic(fmt.Sprintf("importer: no value for column %s.%s", table, c))
		}
		b.getters = append(b.getters, get)
	}
	return b
}

func (b *buffer[T]) len() int       { return len(b.rows) }
func (b *buffer[T]) add(row T)      { b.rows = append(b.rows, row) }
func (b *buffer[T]) truncate(n int) { clear(b.rows[n:]); b.rows = b.rows[:n] }

// flush writes rows[from:to] through the transaction.
func (b *buffer[T]) flush(ctx context.Context, tx sinks.Tx, from, to int) (int64, error) {
	if from >= to || b.columns == nil {
		return 0, nil
	}
	src := &bufferSource[T]{rows: b.rows[from:to], getters: b.getters, pos: -1, values: make([]any, len(b.getters))}
	n, err := tx.CopyFrom(ctx, b.name, b.columns, src)
	if err == nil {
		err = checkStored(b.name, int64(to-from), n)
	}
	return n, err
}

// ErrRowsNotStored: the target stored fewer rows than were written, without an error (a
// trigger or rule of the target's own that drops rows): the import stops rather than
// report rows that are not there.
var ErrRowsNotStored = errors.New("the target did not store every row written")

// checkStored compares what a write stored with what it wrote.
func checkStored(table string, written, stored int64) error {
	if stored == written {
		return nil
	}
	return fmt.Errorf("%w: %s stored %d of %d rows; a trigger or rule of the target's drops or diverts rows (MLflow creates none that do). "+
		"Nothing of this batch was committed: remove it from the target and run the same command again", ErrRowsNotStored, table, stored, written)
}

// bufferSource streams buffered rows as a sinks.RowSource without copying them.
type bufferSource[T any] struct {
	rows    []T
	getters []func(*T) any
	pos     int
	values  []any
}

func (s *bufferSource[T]) Next() bool {
	s.pos++
	return s.pos < len(s.rows)
}

func (s *bufferSource[T]) Values() ([]any, error) {
	row := &s.rows[s.pos]
	for i, get := range s.getters {
		s.values[i] = get(row)
	}
	return s.values, nil
}

func (s *bufferSource[T]) Err() error { return nil }
