package importer

import (
	"context"
	"fmt"

	"github.com/mlflow-bulk/mlflow-bulk/importer/rules"
	"github.com/mlflow-bulk/mlflow-bulk/schema"
	"github.com/mlflow-bulk/mlflow-bulk/sinks"
)

// rowsWritten is how many rows of this tally went into buffers or the transaction.
func (t *tally) rowsWritten() int {
	n := 0
	for _, c := range t.entities {
		n += int(c.Created)
	}
	for _, c := range t.tables {
		n += int(c.Created)
	}
	return n
}

// wrapStore lets a test see what the importer asks the target; it is the identity.
var wrapStore = func(s Store) Store { return s }

// refreshTargetState reads what decides the fast paths: whether the target holds runs
// (else no run needs looking up), and whether it is still empty of data, in which case
// the Default experiment takes the attributes of the source's Default as if MLflow had
// made it from the source (also after a crash that left only the schema).
func (im *importer) refreshTargetState(ctx context.Context) error {
	hasRuns, experiments, maxID, err := im.store.TargetState(ctx)
	if err != nil {
		return err
	}
	im.targetHasRuns = hasRuns
	im.runs.stored = nil // read before another import wrote: ask again
	im.exps.freshDefault = !hasRuns && experiments == 1 && maxID == 0
	return nil
}

// commit writes all buffered rows and commits; reopen starts the next transaction. A
// dry run only writes: its one transaction is rolled back at the end.
func (im *importer) commit(ctx context.Context, reopen bool) error {
	if err := im.runs.flushAll(ctx); err != nil {
		return err
	}
	if err := im.exps.advanceExperimentIDs(ctx); err != nil {
		return err
	}
	if im.exps.mover != nil {
		// The batch's rows commit once its files are copied.
		if err := im.exps.mover.wait(); err != nil {
			return err
		}
	}
	im.committed.merge(im.batch)
	im.batch.reset()
	im.report.addRunIDs(im.runs.batchCreated, im.runs.batchMerged)
	im.runs.batchCreated, im.runs.batchMerged = im.runs.batchCreated[:0], im.runs.batchMerged[:0]
	im.batchRows = 0
	if im.opts.DryRun {
		return nil
	}
	if err := im.tx.Commit(ctx); err != nil {
		return err
	}
	im.tx = nil
	if !reopen {
		return nil
	}
	tx, err := im.sink.Begin(ctx)
	if err != nil {
		return err
	}
	im.tx = newPendingTx(tx)
	// Another import wrote in between: what was read of the target may be stale.
	if tx.Waited() {
		im.exps.forgetExperiments()
		return im.refreshTargetState(ctx)
	}
	return nil
}

// runBuffers are the buffers of the tables written run by run, in foreign-key order,
// with their lengths when the current run started: what is before a mark belongs to
// complete runs.
type runBuffers struct {
	runs      *buffer[rules.RunRow]
	params    *buffer[keyValueRow]
	tags      *buffer[keyValueRow]
	metrics   *buffer[metricRow]
	latest    *buffer[metricRow]
	inputs    *buffer[inputRow]
	inputTags *buffer[inputTagRow]
	flushers  []flusher
	marks     []int
}

// newRunBuffers makes the buffers of the tables written run by run, for revision rev.
func newRunBuffers(rev *schema.Revision) *runBuffers {
	b := &runBuffers{
		runs:      newBuffer(rev, "runs", runColumns),
		params:    newBuffer(rev, "params", keyValueColumns),
		tags:      newBuffer(rev, "tags", keyValueColumns),
		metrics:   newBuffer(rev, "metrics", metricColumns),
		latest:    newBuffer(rev, "latest_metrics", metricColumns),
		inputs:    newBuffer(rev, "inputs", inputColumns),
		inputTags: newBuffer(rev, "input_tags", inputTagColumns),
	}
	b.flushers = []flusher{b.runs, b.params, b.tags, b.metrics, b.latest, b.inputs, b.inputTags}
	b.marks = make([]int, len(b.flushers))
	return b
}

// mark notes where the current run starts.
func (b *runBuffers) mark() {
	for i, f := range b.flushers {
		b.marks[i] = f.len()
	}
}

// dropCurrent drops what the current run buffered.
func (b *runBuffers) dropCurrent() {
	for i, f := range b.flushers {
		f.truncate(b.marks[i])
	}
}

// flushAll writes every buffered row.
func (b *runBuffers) flushAll(ctx context.Context, tx sinks.Tx) error {
	for _, f := range b.flushers {
		if _, err := f.flush(ctx, tx, 0, f.len()); err != nil {
			return err
		}
		f.truncate(0)
	}
	clear(b.marks)
	return nil
}

func (b *runBuffers) len() int {
	n := 0
	for _, f := range b.flushers {
		n += f.len()
	}
	return n
}

// memoryRows bounds the rows buffered in memory; past it the current run is flushed
// into the open transaction before it is complete.
func (w *runWriter) memoryRows() int { return 2 * w.opts.batchRows() }

// flushRunEarly writes the buffers while a run is open: complete runs first, then a
// savepoint, then the open run's rows, so the run can still be dropped whole.
func (w *runWriter) flushRunEarly(ctx context.Context) error {
	b := w.buf
	for i, f := range b.flushers {
		if _, err := f.flush(ctx, w.tx, 0, b.marks[i]); err != nil {
			return err
		}
	}
	if !w.cur.savepoint {
		if _, err := w.tx.Exec(ctx, "SAVEPOINT mlflow_bulk_run"); err != nil {
			return fmt.Errorf("savepoint: %w", err)
		}
		w.cur.savepoint = true
	}
	for i, f := range b.flushers {
		if _, err := f.flush(ctx, w.tx, b.marks[i], f.len()); err != nil {
			return err
		}
	}
	for _, f := range b.flushers {
		f.truncate(0)
	}
	clear(b.marks)
	return nil
}
