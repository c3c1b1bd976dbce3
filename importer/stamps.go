package importer

import (
	"context"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"

	"github.com/mlflow-bulk/mlflow-bulk/importer/rules"
	"github.com/mlflow-bulk/mlflow-bulk/schema/live"

	"github.com/mlflow-bulk/mlflow-bulk/schema"
	"github.com/mlflow-bulk/mlflow-bulk/sinks"
	"github.com/mlflow-bulk/mlflow-bulk/sources"
)

// A nightly re-import of an unchanged store must not cost what the first import did.
// The target keeps, beside MLflow's tables, the stamp of every run the importer wrote or
// found whole (sources.Run.Stamp: its files' sizes and modification times), written in
// the same transaction as the run; a source that can stamp runs (sources.RunStamper)
// then skips reading a run whose stamp is the one kept. Only runs the target still holds
// count, so a run deleted from it since is imported again. --reread turns this off.

// runStamps are the stamps the target keeps, by run id.
type runStamps map[[16]byte]uint64

// runKey is a run id as a map key; false for ids that are not 32 hex digits (never a
// file store's).
func runKey(id string) ([16]byte, bool) {
	var k [16]byte
	if len(id) != 32 {
		return k, false
	}
	_, err := hex.Decode(k[:], []byte(id))
	return k, err == nil
}

// stampRow is a row of the stamps table; rows is -1 where it is not known.
type stampRow struct {
	runUUID string
	stamp   uint64
	rows    int64
}

// stampBuffer holds the stamps of runs until they are written with the runs' rows.
type stampBuffer struct{ rows []stampRow }

func (b *stampBuffer) len() int       { return len(b.rows) }
func (b *stampBuffer) truncate(n int) { b.rows = b.rows[:n] }

// flush replaces the stamps of rows[from:to]'s runs.
func (b *stampBuffer) flush(ctx context.Context, tx sinks.Tx, from, to int) (int64, error) {
	for start := from; start < to; start += stampDeleteChunk {
		end := min(start+stampDeleteChunk, to)
		ids := make([]any, 0, end-start)
		for _, r := range b.rows[start:end] {
			ids = append(ids, r.runUUID)
		}
		query := fmt.Sprintf("DELETE FROM %s WHERE run_uuid IN (%s)", schema.RunStampsTable, strings.TrimSuffix(strings.Repeat("?, ", len(ids)), ", "))
		if _, err := tx.Exec(ctx, query, ids...); err != nil {
			return 0, fmt.Errorf("write run stamps: %w", err)
		}
	}
	if from >= to {
		return 0, nil
	}
	src := &bufferSource[stampRow]{rows: b.rows[from:to], getters: stampGetters, pos: -1, values: make([]any, len(stampGetters))}
	return tx.CopyFrom(ctx, schema.RunStampsTable, []string{"run_uuid", "stamp", schema.RunStampsRows}, src)
}

// stampDeleteChunk bounds the ids of one DELETE.
const stampDeleteChunk = 500

// The stamp is kept as the signed 64-bit integer of the same bits: every database has one.
var stampGetters = []func(*stampRow) any{
	func(r *stampRow) any { return r.runUUID },
	func(r *stampRow) any { return int64(r.stamp) },
	func(r *stampRow) any {
		if r.rows < 0 {
			return nil
		}
		return r.rows
	},
}

// stampKeeper keeps the stamps of the runs written (a run's stamp sums up its source
// files), so that a re-import skips runs whose files have not changed.
type stampKeeper struct {
	base
	// buf buffers the stamps of the runs written, nil when unused; salt is mixed into
	// them: the options the runs were imported under.
	buf  *stampBuffer
	salt uint64
	// short counts stamped runs the target holds fewer rows of than it did when they
	// were stamped: read again.
	short int64
}

// prepare sets up stamps for the sources that can stamp runs: it makes the
// target's stamps table if it has none and reads the stamps of the runs it holds. A dry
// run uses the stamps but writes none; --reread and --on-existing-run fail use none (a
// run found whole must then be seen).
func (sk *stampKeeper) prepare(ctx context.Context, srcs []sources.Source, buf *runBuffers) error {
	var stampers []sources.RunStamper
	for _, src := range srcs {
		if s, ok := src.(sources.RunStamper); ok {
			stampers = append(stampers, s)
		}
	}
	if len(stampers) == 0 || sk.opts.Reread || sk.opts.OnExistingRun == rules.ExistingRunFail {
		return nil
	}
	exists, err := live.HasRunStamps(ctx, sk.tx, sk.dialect)
	if err != nil {
		return err
	}
	if !exists && sk.opts.DryRun {
		return nil
	}
	if !exists {
		if _, err := sk.tx.Exec(ctx, schema.RunStampsDDL(sk.dialect)); err != nil {
			return fmt.Errorf("%s: create %s: %w", sk.sink.Describe(), schema.RunStampsTable, err)
		}
	}
	hasRows := !exists
	if exists {
		if hasRows, err = sk.upgradeStamps(ctx); err != nil {
			return err
		}
	}
	kept := runStamps{}
	if exists && sk.targetHasRuns {
		if err := sk.readStamps(ctx, kept, hasRows); err != nil {
			return fmt.Errorf("%s: read %s: %w", sk.sink.Describe(), schema.RunStampsTable, err)
		}
	}
	sk.buf = &stampBuffer{}
	if !sk.opts.DryRun {
		buf.flushers = append(buf.flushers, sk.buf)
		buf.marks = make([]int, len(buf.flushers))
	}
	sk.salt = sk.optionsStamp()
	unchanged := func(runID string, stamp uint64) bool {
		k, ok := runKey(runID)
		return ok && kept[k] == stamp^sk.salt
	}
	for _, s := range stampers {
		s.SkipUnchanged(unchanged)
	}
	return nil
}

// unchangedRun counts a run the source left unread, its files as the target's stamp
// says they were when it was imported: the target holds it whole. It returns false for
// any other run, and for an unread run of an experiment left out or rejected, or of
// another shard, or a second copy of a run, which startRun counts as it counts any
// run of those.
func (w *runWriter) unchangedRun(source int, r *sources.Run) bool {
	if _, ok := w.exps.expIDs[expKey{source, r.ExperimentSourceID}]; !r.Unchanged || !ok || !w.opts.Filter.InShard(r.RunID) {
		return false
	}
	if _, seen := w.seenRuns[r.RunID]; seen {
		return false // a second copy of a run this import took: startRun rejects it
	}
	w.committed.of(entityRuns).Read++
	w.committed.of(entityRuns).Skipped++
	w.report.UnchangedRuns++
	w.seenRuns[r.RunID] = seenRun{source: source, experiment: r.ExperimentSourceID}
	w.progress.Runs++
	w.notifyProgress()
	return true
}

// keepStamp buffers the stamp of a run the target now holds whole, with the params,
// tags and metric rows it holds of it (-1 where that is not known).
func (sk *stampKeeper) keepStamp(id string, stamp uint64, rows int64) {
	if sk.buf != nil && stamp != 0 && !sk.opts.DryRun {
		sk.buf.rows = append(sk.buf.rows, stampRow{runUUID: id, stamp: stamp ^ sk.salt, rows: rows})
	}
}

// upgradeStamps adds the rows column to a stamps table an earlier version made (not in
// a dry run, which reads the table as it is), and reports whether the table has it.
func (sk *stampKeeper) upgradeStamps(ctx context.Context) (bool, error) {
	cols, err := live.InsertableColumns(ctx, sk.tx, sk.dialect, schema.RunStampsTable)
	if err != nil {
		return false, err
	}
	for _, c := range cols {
		if strings.EqualFold(c.Name, schema.RunStampsRows) {
			return true, nil
		}
	}
	if sk.opts.DryRun {
		return false, nil
	}
	if _, err := sk.tx.Exec(ctx, schema.AddRunStampsRows()); err != nil {
		return false, fmt.Errorf("%s: add %s to %s: %w", sk.sink.Describe(), schema.RunStampsRows, schema.RunStampsTable, err)
	}
	return true, nil
}

// readStamps reads the stamps of the runs the target holds. A run whose params, tags
// and metric rows are now fewer than when it was stamped (rows deleted from the target
// behind the stamp) is left out: it is read again and what the target lost goes back.
// The counts are read through the run id indexes (MLflow 1.25 on).
func (sk *stampKeeper) readStamps(ctx context.Context, kept runStamps, hasRows bool) error {
	held := "NULL"
	if sk.rev.AtLeast("bd07f7e963c5") && hasRows {
		held = "s." + schema.RunStampsRows
	}
	count := func(table string) string {
		return fmt.Sprintf("(SELECT COUNT(*) FROM %s x WHERE x.run_uuid = s.run_uuid)", table)
	}
	now := "0"
	if held != "NULL" {
		now = count("params") + " + " + count("tags") + " + " + count("metrics")
	}
	query := fmt.Sprintf("SELECT s.run_uuid, s.stamp, %s, CASE WHEN %s IS NULL THEN 0 ELSE %s END FROM %s s JOIN runs r ON r.run_uuid = s.run_uuid",
		held, held, now, schema.RunStampsTable)
	return live.EachRow(ctx, sk.tx, query, nil, func(scan func(...any) error) error {
		var id string
		var stamp int64
		var rows *int64
		var holds int64
		if err := scan(&id, &stamp, &rows, &holds); err != nil {
			return err
		}
		if rows != nil && holds < *rows {
			sk.short++
			return nil
		}
		if k, ok := runKey(id); ok {
			kept[k] = uint64(stamp)
		}
		return nil
	})
}

// optionsStamp sums up the options that change what a run becomes in the target, so
// that a run imported under other ones is read again.
func (sk *stampKeeper) optionsStamp() uint64 {
	h := fnv.New64a()
	fmt.Fprintf(h, "%q|%q|%q|%q|%v|%v", sk.opts.TargetExperiment, sk.opts.OnKeyCollision, sk.opts.OnParamConflict, sk.opts.OnExistingRun, sk.opts.ArtifactMap, sortedRename(sk.opts.Filter.Rename))
	if sk.opts.Workspace != "" {
		// Only when given, so that the stamps of imports without it stay as they were.
		fmt.Fprintf(h, "|workspace %q", sk.opts.Workspace)
	}
	if c := sk.opts.CopyArtifacts; c != nil {
		fmt.Fprintf(h, "|artifacts %q %q", c.Layout.Root.String(), c.Layout.Served)
	}
	return h.Sum64()
}

func sortedRename(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k, v := range m {
		out = append(out, k+"\x00"+v)
	}
	slices.Sort(out)
	return out
}
