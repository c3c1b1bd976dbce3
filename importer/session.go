package importer

import (
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/mlflow-bulk/mlflow-bulk/importer/rules"
	"github.com/mlflow-bulk/mlflow-bulk/remedy"
	"github.com/mlflow-bulk/mlflow-bulk/schema"
	"github.com/mlflow-bulk/mlflow-bulk/sinks"
	"github.com/mlflow-bulk/mlflow-bulk/sources"
)

// session is what every part of one import reads of its target: the options, the
// target as prepareTarget detected it, and the open transaction they all write through.
// Only the importer changes it (prepareTarget, commit).
type session struct {
	opts      Options
	sink      sinks.Sink
	dialect   schema.Dialect
	rev       *schema.Revision
	collation schema.Collation
	// asm assembles runs by MLflow's rules for the target; keys folds keys as the
	// target's collation compares them (collation.go).
	asm  rules.Assembler
	keys *keyFolder
	// store is the target in MLflow's terms (store.go); the bulk paths use tx.
	store Store
	tx    sinks.Tx
	// targetTables is the target's schema as it describes itself.
	targetTables map[string]*schema.TableInfo
	// targetHasRuns: runs read must be looked up in the target (else none can be there).
	targetHasRuns bool
	// keysDeferred: metrics has no keys or indexes yet (a bulk load into a new
	// database); they are built at the end.
	keysDeferred bool
}

// ledger is what the import tells: the report, the counts of what the target holds, the
// open batch and the current run, and the progress display.
type ledger struct {
	report *Report
	// committed counts what is in the target; batch what the open transaction holds;
	// run what the current run adds (merged into batch when the run is complete).
	committed, batch, run *tally
	notedOnce             map[string]bool
	sourceName            string
	progress              Progress
	onProgress            func(Progress)
	// totalRuns is the sources' runs as counted beside the import; 0 until known.
	totalRuns atomic.Int64
	// countedBeforeWriting is how many entries of report.Unsupported the check before
	// writing made; lacking adds to the others as it meets their rows.
	countedBeforeWriting int
	// batchRows counts the rows written since the last commit (of complete runs, and of
	// tables copied as rows).
	batchRows int
	// filteredRuns counts the runs the filters left out.
	filteredRuns int
	// repeatedPoints counts the metric points of complete runs left out as repeats.
	repeatedPoints int64
	// copied tells the files and bytes the artifact copy copied so far, when there is one.
	copied func() (files, bytes int64)
}

func newLedger(report *Report, onProgress func(Progress)) *ledger {
	return &ledger{report: report, committed: newTally(), batch: newTally(), run: newTally(), notedOnce: map[string]bool{}, onProgress: onProgress}
}

// base is what the parts of an import share: each embeds it and keeps its own state
// beside it.
type base struct {
	*session
	*ledger
}

func (s *session) targetHasWorkspaces() bool { return s.rev.HasColumn("experiments", "workspace") }

// phase tells the progress display what the import does now.
func (l *ledger) phase(name string) {
	l.progress.Phase = name
	l.notifyProgress()
}

// notifyProgress hands the totals so far to the progress display, if any.
func (l *ledger) notifyProgress() {
	if l.onProgress != nil {
		if l.copied != nil {
			l.progress.ArtifactFiles, l.progress.ArtifactBytes = l.copied()
		}
		l.progress.TotalRuns = l.totalRuns.Load()
		l.onProgress(l.progress)
	}
}

func (l *ledger) noteSkipped(path, reason string) {
	if len(l.report.Skipped) >= maxNotes {
		l.report.SkippedMore++
		return
	}
	l.report.Skipped = append(l.report.Skipped, Note{Source: l.sourceName, Path: path, Reason: reason})
}

// noteOnce records a limitation of the target once per import.
func (l *ledger) noteOnce(reason string) {
	if !l.notedOnce[reason] {
		l.notedOnce[reason] = true
		l.noteSkipped("", reason)
	}
}

// noticeOnce adds a line to the report's notes, once per import.
func (l *ledger) noticeOnce(notice string) {
	if !l.notedOnce[notice] {
		l.notedOnce[notice] = true
		l.report.Notices = append(l.report.Notices, notice)
	}
}

// reject handles bad input: it stops the import, or (SkipInvalid) names what is left out
// in the report and returns nil.
func (b base) reject(inErr *sources.InputError) error {
	if !b.opts.SkipInvalid {
		if errors.Is(inErr, ErrTargetConflict) {
			return remedy.With(fmt.Errorf("%w\nNothing of the run was committed. The input is not wrong: the target holds another value (changed there since the last import?)", inErr),
				skipInvalid("to leave the run out"))
		}
		return remedy.With(fmt.Errorf("%w: %w\nNothing of the invalid run or experiment was committed; fix the input", ErrInvalidInput, inErr),
			skipInvalid("to import everything else"))
	}
	b.report.Rejected = append(b.report.Rejected, Note{Source: b.sourceName, Path: inErr.File, Reason: inErr.Error(), RunID: inErr.RunID})
	return nil
}

// invalid handles bad input outside runs (the current run is complete by then): stop,
// or leave out what it spoils and go on.
func (b base) invalid(inErr *sources.InputError) error {
	if err := b.reject(inErr); err != nil {
		return err
	}
	if inErr.RunID != "" {
		b.committed.of(entityRuns).Rejected++
	}
	return nil
}
