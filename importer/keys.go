package importer

import (
	"context"
	"fmt"
	"time"

	"github.com/mlflow-bulk/mlflow-bulk/schema"
	"github.com/mlflow-bulk/mlflow-bulk/schema/live"
	"github.com/mlflow-bulk/mlflow-bulk/sinks"
)

// buildDeferredKeys gives metrics its primary key, foreign key and indexes, with
// MLflow's names, once the bulk load into a new database is complete.
func (im *importer) buildDeferredKeys(ctx context.Context) error {
	if !im.keysDeferred || im.opts.DryRun {
		return nil
	}
	im.phase(PhaseKeys)
	dedupe := false
	for attempt := 1; ; attempt++ {
		err := im.tryBuildKeys(ctx, dedupe)
		if err != nil && !dedupe && schema.DedupeDeferred(im.dialect) != "" && im.sink.Classify(err) == sinks.UniqueViolation {
			// A row stored twice while the key was off: the same point, so one copy goes.
			dedupe = true
			im.rollback(ctx, &err)
			continue
		}
		if err == nil {
			return nil
		}
		switch kind := im.sink.Classify(err); {
		case (kind == sinks.LockTimeout || kind == sinks.Deadlock) && attempt < keyLockAttempts:
			// Another session (a live MLflow server) holds runs or metrics: give it the
			// moment it needs and take the locks again, rather than fail.
			if attempt == 1 {
				im.report.Notices = append(im.report.Notices, "building metrics' keys waited for another session using runs or metrics (an MLflow server writing): retried until the locks were free")
			}
			select {
			case <-ctx.Done():
				im.rollback(ctx, &err)
				return err
			case <-time.After(time.Duration(attempt) * 200 * time.Millisecond):
			}
		default:
			return err
		}
		im.rollback(ctx, &err)
	}
}

// keyLockAttempts bounds how often building the keys waits for the locks it needs
// (about two minutes in all).
const keyLockAttempts = 40

// tryBuildKeys builds metrics' keys in a transaction of its own, removing rows that
// repeat another on MLflow's whole key first when dedupe is set.
func (im *importer) tryBuildKeys(ctx context.Context, dedupe bool) error {
	tx, err := im.sink.Begin(ctx)
	if err != nil {
		return err
	}
	im.tx = tx
	// Parallel imports (--shard) into the same new database each get here; the first
	// one builds the keys, the others find them built.
	still, err := live.KeysDeferred(ctx, tx, im.dialect)
	if err != nil {
		return err
	}
	_, add := schema.DeferKeys(im.dialect, im.rev)
	if !still {
		add = nil
	}
	if still {
		if err := im.lockForKeys(ctx, tx); err != nil {
			return err
		}
	}
	if dedupe && still {
		n, err := tx.Exec(ctx, schema.DedupeDeferred(im.dialect))
		if err != nil {
			return fmt.Errorf("remove repeated metric rows before building the keys: %w", err)
		}
		im.report.Notices = append(im.report.Notices, fmt.Sprintf("%d metric rows were in the target twice, equal on MLflow's whole key (key, timestamp, step, run, value, is_nan), "+
			"left while the keys were off (a second writer, or an import killed at the wrong moment): the extra copies were removed, as MLflow stores a point once", n))
	}
	for _, stmt := range add {
		if _, err := tx.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("build metrics' keys after the load: %w", err)
		}
	}
	if query := schema.OrphanMetrics(im.dialect); query != "" && still {
		orphans, err := live.Count(ctx, tx, query)
		if err != nil {
			return fmt.Errorf("check metrics' runs after the load: %w", err)
		}
		if orphans > 0 {
			return fmt.Errorf("metric rows of %s name %d runs that are not in runs (another program deleted them while the import ran), so metrics' foreign key cannot be built; "+
				"delete those rows or start again with a new database", im.sink.Describe(), orphans)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return err
	}
	im.tx = nil
	im.keysDeferred = false
	im.report.KeysFinished = still && !im.report.SchemaCreated
	return nil
}

// lockForKeys takes the locks building the keys needs, as the database's descriptor
// lists them (each waiting a bounded time, where the database can, so that it never
// holds one while waiting on a writer that waits on it).
func (im *importer) lockForKeys(ctx context.Context, tx sinks.Tx) error {
	for _, stmt := range schema.LockForKeys(im.dialect) {
		if _, err := tx.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("take the locks to build metrics' keys: %w", err)
		}
	}
	return nil
}

// indexForResume prepares an import that resumes an interrupted first import: that one
// looks up the runs it wrote before in metrics, a scan per run without an index. The
// index is one of the keys to build anyway, so it is built now.
func (im *importer) indexForResume(ctx context.Context, tx sinks.Tx) error {
	if !im.keysDeferred || !im.targetHasRuns {
		return nil
	}
	for _, stmt := range schema.ResumeIndexes(im.dialect) {
		if _, err := tx.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("index metrics by run to resume the load: %w", err)
		}
	}
	return nil
}
