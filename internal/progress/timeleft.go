package progress

import "time"

// The time left that the progress shows is grounded in this import alone: the rate its
// rows go at, once enough of its runs are done for the rate to hold. The phases after the
// rows (metrics' keys built on a new database, --verify) take times that nothing measured
// in this import predicts, on this machine and under its load, so for them the display
// shows how long they have run instead of a figure that may be wrong by minutes.
const (
	// groundedAfter and groundedShare: an estimate is shown once the rows have gone for
	// that long and that share of the runs is done.
	groundedAfter = 3 * time.Second
	groundedShare = 0.05
)

// timeLeft follows the phases of an import to estimate what is left of its rows.
type timeLeft struct {
	verify    bool // --verify follows the import
	keysAfter bool // metrics' keys are built after the rows
	rowsStart time.Time
}

// observe notes a change of phase at now.
func (t *timeLeft) observe(pr Snapshot, previous Snapshot, now time.Time) {
	if pr.Phase == previous.Phase {
		return
	}
	if pr.Stage == StageRows && t.rowsStart.IsZero() {
		t.rowsStart = now
	}
	t.keysAfter = t.keysAfter || pr.KeysAfter
}

// left estimates the time left of the rows at now; false when it would not be grounded
// (the sources cannot count their runs, too little is done yet, or the rows are over).
func (t *timeLeft) left(pr Snapshot, now time.Time) (time.Duration, bool) {
	if pr.Stage != StageRows || pr.TotalRuns <= 0 || pr.Runs <= 0 || t.rowsStart.IsZero() {
		return 0, false
	}
	elapsed := now.Sub(t.rowsStart)
	share := float64(pr.Runs) / float64(pr.TotalRuns)
	if elapsed < groundedAfter || share < groundedShare || share >= 1 {
		return 0, false
	}
	return time.Duration(float64(elapsed)/share) - elapsed, true
}

// leftText is the estimate as the progress shows it, "" when there is none. Where a
// phase follows the rows, it says the estimate is the rows'.
func (t *timeLeft) leftText(pr Snapshot, now time.Time) string {
	d, ok := t.left(pr, now)
	if !ok {
		return ""
	}
	text := "about " + max(d, time.Second).Round(time.Second).String() + " left"
	switch {
	case t.keysAfter && t.verify:
		text += " of the rows, then metrics' keys and the verification"
	case t.keysAfter:
		text += " of the rows, then metrics' keys"
	case t.verify:
		text += " of the rows, then the verification"
	}
	return text
}
