package progress

import "time"

// The time left that the progress shows counts the phases after the rows too: on a new
// PostgreSQL database metrics' keys and indexes are built once the rows are in, in time
// proportional to the metric rows; --verify reads the sources and the target again, in
// about the time the rows took. Both figures were measured on the benchmark machine
// (BENCHMARKS.md, "Time left"); once the keys are being built, the estimate counts down
// from what was predicted.
const (
	keysRowsPerSecond = 265_000
	verifyShare       = 1.2
)

// timeLeft follows the phases of an import to estimate what is left of it.
type timeLeft struct {
	verify    bool // --verify follows the import
	rowsStart time.Time
	rowsTook  time.Duration // set when the rows are done
	keysStart time.Time
	keysAfter bool
	// metricRows is the metric rows imported, once the rows are done.
	metricRows int64
}

// observe notes a change of phase at now.
func (t *timeLeft) observe(pr Snapshot, previous Snapshot, now time.Time) {
	if pr.Phase == previous.Phase {
		return
	}
	switch {
	case pr.Stage == StageRows && t.rowsStart.IsZero():
		t.rowsStart = now
	case previous.Stage == StageRows:
		t.rowsTook, t.metricRows = now.Sub(t.rowsStart), pr.MetricRows
	}
	if pr.Stage == StageKeys {
		t.keysStart = now
	}
	t.keysAfter = t.keysAfter || pr.KeysAfter
}

// after is what the phases after the rows add, for rows that take rows and hold
// metricRows, less what of them is done.
func (t *timeLeft) after(rows time.Duration, metricRows int64, stage Stage, now time.Time) time.Duration {
	var left time.Duration
	if t.keysAfter {
		keys := time.Duration(float64(metricRows) / keysRowsPerSecond * float64(time.Second))
		if stage == StageKeys {
			keys = max(0, keys-now.Sub(t.keysStart))
		}
		left += keys
	}
	if t.verify {
		left += time.Duration(verifyShare * float64(rows))
	}
	return left
}

// left estimates the time left at now; false when nothing can be told yet (the sources
// cannot count their runs, or none is done).
func (t *timeLeft) left(pr Snapshot, now time.Time) (time.Duration, bool) {
	switch pr.Stage {
	case StageRows:
		if pr.TotalRuns <= 0 || pr.Runs <= 0 || t.rowsStart.IsZero() {
			return 0, false
		}
		elapsed := now.Sub(t.rowsStart)
		share := float64(pr.TotalRuns) / float64(pr.Runs)
		rows := time.Duration(float64(elapsed) * share)
		return rows - elapsed + t.after(rows, int64(float64(pr.MetricRows)*share), pr.Stage, now), true
	case StageCommit, StageKeys:
		if t.rowsTook == 0 || pr.TotalRuns <= 0 {
			return 0, false
		}
		return t.after(t.rowsTook, t.metricRows, pr.Stage, now), true
	}
	return 0, false
}

// leftText is the estimate as the progress shows it, "" when there is none.
func (t *timeLeft) leftText(pr Snapshot, now time.Time) string {
	d, ok := t.left(pr, now)
	switch {
	case !ok:
		return ""
	case d < time.Second:
		return "under a second left"
	}
	return "about " + d.Round(time.Second).String() + " left"
}
