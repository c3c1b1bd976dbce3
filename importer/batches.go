package importer

import (
	"context"
	"fmt"
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
	im.stored = nil // read before another import wrote: ask again
	im.freshDefault = !hasRuns && experiments == 1 && maxID == 0
	return nil
}

// commit writes all buffered rows and commits; reopen starts the next transaction. A
// dry run only writes: its one transaction is rolled back at the end.
func (im *importer) commit(ctx context.Context, reopen bool) error {
	if err := im.flushAll(ctx); err != nil {
		return err
	}
	if err := im.advanceExperimentIDs(ctx); err != nil {
		return err
	}
	im.committed.merge(im.batch)
	im.batch.reset()
	im.report.addRunIDs(im.batchCreated, im.batchMerged)
	im.batchCreated, im.batchMerged = im.batchCreated[:0], im.batchMerged[:0]
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
	im.tx = tx
	// Another import wrote in between: what was read of the target may be stale.
	if tx.Waited() {
		im.forgetExperiments()
		return im.refreshTargetState(ctx)
	}
	return nil
}

func (im *importer) flushAll(ctx context.Context) error {
	for _, f := range im.flushers {
		if _, err := f.flush(ctx, im.tx, 0, f.len()); err != nil {
			return err
		}
		f.truncate(0)
	}
	clear(im.marks)
	return nil
}

// memoryRows bounds the rows buffered in memory; past it the current run is flushed
// into the open transaction before it is complete.
func (im *importer) memoryRows() int { return 2 * im.opts.batchRows() }

func (im *importer) buffered() int {
	n := 0
	for _, f := range im.flushers {
		n += f.len()
	}
	return n
}

// flushRunEarly writes the buffers while a run is open: complete runs first, then a
// savepoint, then the open run's rows, so the run can still be dropped whole.
func (im *importer) flushRunEarly(ctx context.Context) error {
	for i, f := range im.flushers {
		if _, err := f.flush(ctx, im.tx, 0, im.marks[i]); err != nil {
			return err
		}
	}
	if !im.cur.savepoint {
		if _, err := im.tx.Exec(ctx, "SAVEPOINT mlflow_bulk_run"); err != nil {
			return fmt.Errorf("savepoint: %w", err)
		}
		im.cur.savepoint = true
	}
	for i, f := range im.flushers {
		if _, err := f.flush(ctx, im.tx, im.marks[i], f.len()); err != nil {
			return err
		}
	}
	for _, f := range im.flushers {
		f.truncate(0)
	}
	clear(im.marks)
	return nil
}
