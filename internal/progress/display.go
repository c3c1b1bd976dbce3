// Package progress shows a long command's progress on stderr: a bar on a terminal, a
// plain line every few seconds elsewhere, and a heartbeat through the phases that move
// no rows (creating the schema, committing, building keys, verifying). Results never go
// through it. Time comes from a Clock, so tests drive it without sleeping.
package progress

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
)

// Mode is how progress is shown, as --progress names it.
type Mode string

const (
	// Auto draws a bar on a terminal and writes plain lines elsewhere.
	Auto Mode = "auto"
	// Always draws the bar even off a terminal.
	Always Mode = "always"
	// Never shows nothing at all.
	Never Mode = "never"
)

// Modes are the values --progress takes.
var Modes = []string{string(Auto), string(Always), string(Never)}

// LogEvery is how often a plain progress line is written.
const LogEvery = 5 * time.Second

// PhaseVerify is the phase of verify, shown as the import's phases are.
const PhaseVerify = "verifying the target against the sources"

// Stage is what kind of work a phase is, which decides how it is shown and what its
// time left counts.
type Stage int

const (
	// StageOther is a phase shown by its name and how long it lasts.
	StageOther Stage = iota
	// StageRows moves rows: the bar, or a plain line of counts.
	StageRows
	// StageCommit and StageKeys come after the rows and last in proportion to them.
	StageCommit
	StageKeys
)

// Snapshot is the work done so far, as the command tells the display.
type Snapshot struct {
	// Phase is what is being done, in words; Stage what kind of work it is.
	Phase string
	Stage Stage
	// Source is what is being read.
	Source     string
	Runs       int64
	MetricRows int64
	// TotalRuns is how many runs the sources hold, 0 when they cannot tell.
	TotalRuns int64
	// KeysAfter says that metrics' keys and indexes are built once the rows are in.
	KeysAfter bool
	// ArtifactFiles and ArtifactBytes are the artifact files copied so far.
	ArtifactFiles, ArtifactBytes int64
}

// Clock tells the time. The heartbeat's ticks come from Start's ticker, or from a test
// calling Tick with the times it chooses.
type Clock interface {
	Now() time.Time
}

// SystemClock is the wall clock.
type SystemClock struct{}

// Now is time.Now.
func (SystemClock) Now() time.Time { return time.Now() }

// FixedClock is a clock that does not move: under it no phase ever lasts long enough to
// be shown, whatever the machine's load (the command's tests run with it).
type FixedClock struct{ T time.Time }

// Now is T.
func (c FixedClock) Now() time.Time { return c.T }

// Display shows the progress of one command.
type Display struct {
	clock   Clock
	errOut  io.Writer
	quiet   bool
	wantBar bool
	bar     *progressbar.ProgressBar
	// barTotal is the total the bar was drawn for: 0 for a bar of metric rows.
	barTotal int64
	started  time.Time
	// mu guards what the heartbeat reads: the last snapshot, when its phase began, when
	// a line was last written, and whether a phase line is on the terminal.
	mu         sync.Mutex
	last       Snapshot
	phaseStart time.Time
	logged     time.Time
	phaseShown bool
	eta        timeLeft
	stop       chan struct{}
	done       chan struct{}
}

// New returns a display writing to errOut; terminal says whether errOut is one.
func New(errOut io.Writer, mode Mode, terminal bool, clock Clock) *Display {
	now := clock.Now()
	return &Display{clock: clock, errOut: errOut, quiet: mode == Never, wantBar: mode == Always || (mode == Auto && terminal),
		started: now, logged: now, phaseStart: now}
}

// Shows says whether anything is shown: a display that shows nothing needs no total,
// which a file store counts with a walk of its own.
func (d *Display) Shows() bool { return !d.quiet }

// VerifyAfter tells the time left that verify follows the import.
func (d *Display) VerifyAfter(verify bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.eta.verify = verify
}

// Start runs the heartbeat on the wall clock's ticker until Finish.
func (d *Display) Start() *Display {
	if d.quiet {
		return d
	}
	d.stop, d.done = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(d.done)
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-d.stop:
				return
			case <-tick.C:
				d.Tick(d.clock.Now())
			}
		}
	}()
	return d
}

// Tick is one heartbeat at now: a phase without rows that has lasted a second shows
// its name, its seconds and the time left; on a terminal the line is redrawn in place,
// elsewhere it is written once and then every LogEvery.
func (d *Display) Tick(now time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	phase, since := d.last.Phase, now.Sub(d.phaseStart)
	if d.quiet || phase == "" || d.last.Stage == StageRows || since < time.Second {
		return
	}
	left := withComma(d.eta.leftText(d.last, now))
	switch {
	case d.wantBar:
		// The bar is gone once the rows are in (it clears itself when it is full), so a
		// phase after them gets a line of its own, redrawn in place.
		fmt.Fprintf(d.errOut, "\r\033[Kmlflow-bulk: %s (%.0fs%s)", phase, since.Seconds(), left)
		d.phaseShown = true
	case d.logged.Before(d.phaseStart):
		// A phase past its first second gets its line at once.
		d.logged = now
		fmt.Fprintf(d.errOut, "mlflow-bulk: %s%s\n", phase, left)
	case now.Sub(d.logged) >= LogEvery:
		d.logged = now
		done := ""
		if d.last.Runs > 0 {
			done = fmt.Sprintf(" (%s, %s imported)", plural(d.last.Runs, "run"), plural(d.last.MetricRows, "metric row"))
		}
		fmt.Fprintf(d.errOut, "mlflow-bulk: %s, for %.0fs so far%s%s\n", phase, since.Seconds(), done, left)
	}
}

// Update takes the import's latest snapshot.
func (d *Display) Update(pr Snapshot) {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.clock.Now()
	d.eta.observe(pr, d.last, now)
	if pr.Phase != d.last.Phase {
		d.phaseStart = now
		d.clearPhaseLine()
	}
	d.last = pr
	if d.quiet || pr.Stage != StageRows {
		if d.bar != nil && pr.Stage != StageRows {
			// The rows are in: the bar makes way for the phases' own lines.
			_ = d.bar.Finish()
			d.bar = nil
		}
		return
	}
	if d.wantBar {
		d.showBar(pr, now)
		return
	}
	if now.Sub(d.logged) >= LogEvery {
		d.logged = now
		of, rate := "", ""
		if pr.TotalRuns > 0 {
			of = fmt.Sprintf(" of %d", pr.TotalRuns)
		}
		// A rate over less than a few seconds says nothing; it is left out until then.
		if secs := now.Sub(d.started).Seconds(); secs >= LogEvery.Seconds() {
			rate = fmt.Sprintf(", %.0f rows/s", float64(pr.MetricRows)/secs)
		}
		fmt.Fprintf(d.errOut, "mlflow-bulk: %s: %s%s, %s%s%s%s\n", pr.Source, plural(pr.Runs, "run"), of, plural(pr.MetricRows, "metric row"), rate, copiedText(pr, now.Sub(d.started)), withComma(d.eta.leftText(pr, now)))
	}
}

// showBar draws the bar: runs against the total (the time left in its text) when the
// sources can count them, metric rows otherwise.
func (d *Display) showBar(pr Snapshot, now time.Time) {
	if d.bar != nil && pr.TotalRuns > 0 && d.barTotal != pr.TotalRuns {
		// The count, made beside the import, has come in: a bar of runs replaces the
		// bar of metric rows.
		_ = d.bar.Clear()
		d.bar = nil
	}
	if d.bar == nil {
		d.bar, d.barTotal = newBar(d.errOut, pr.TotalRuns), pr.TotalRuns
	}
	rate := ""
	// The bar's own rate would say 0 runs/hr at the start: the rate shows once there is one.
	if secs := now.Sub(d.started).Seconds(); secs >= LogEvery.Seconds() && pr.Runs > 0 {
		rate = fmt.Sprintf(", %.1f runs/s", float64(pr.Runs)/secs)
	}
	if pr.TotalRuns > 0 {
		d.bar.Describe(fmt.Sprintf("importing (%s%s%s%s)", plural(pr.MetricRows, "metric row"), rate, copiedText(pr, now.Sub(d.started)), withComma(d.eta.leftText(pr, now))))
		_ = d.bar.Set64(pr.Runs)
		return
	}
	d.bar.Describe(fmt.Sprintf("importing: %s, metric rows", plural(pr.Runs, "run")))
	_ = d.bar.Set64(pr.MetricRows)
}

// copiedText says what the artifact copy copied, with its rate once there is one: ""
// when it copied nothing (or there is none).
func copiedText(pr Snapshot, elapsed time.Duration) string {
	if pr.ArtifactFiles == 0 {
		return ""
	}
	text := fmt.Sprintf(", %s copied (%s", plural(pr.ArtifactFiles, "artifact file"), Bytes(pr.ArtifactBytes))
	if elapsed >= LogEvery {
		text += fmt.Sprintf(", %s/s", Bytes(int64(float64(pr.ArtifactBytes)/elapsed.Seconds())))
	}
	return text + ")"
}

// Bytes words a size in bytes with a binary unit (KiB, MiB, GiB).
func Bytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 4; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTP"[exp])
}

// newBar makes the bar once the total is known. The bar's own prediction is off: it
// would count the rows alone, so the time left is in the text instead.
func newBar(w io.Writer, total int64) *progressbar.ProgressBar {
	options := []progressbar.Option{
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription("importing"),
		progressbar.OptionShowCount(),
		progressbar.OptionThrottle(100 * time.Millisecond),
		progressbar.OptionClearOnFinish(),
	}
	if total > 0 {
		return progressbar.NewOptions64(total, append(options, progressbar.OptionSetPredictTime(false))...)
	}
	return progressbar.NewOptions64(-1, append(options, progressbar.OptionShowIts(), progressbar.OptionSetItsString("metric rows"))...)
}

// clearPhaseLine removes a phase line drawn in place, so what follows starts clean.
func (d *Display) clearPhaseLine() {
	if d.phaseShown {
		fmt.Fprint(d.errOut, "\r\033[K")
		d.phaseShown = false
	}
}

// Finish stops the heartbeat and clears what was drawn.
func (d *Display) Finish() {
	if d.stop != nil {
		select {
		case <-d.stop:
		default:
			close(d.stop)
			<-d.done
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.bar != nil {
		_ = d.bar.Finish()
		d.bar = nil
	}
	d.clearPhaseLine()
}

// withComma is text after ", ", or nothing for no text.
func withComma(text string) string {
	if text == "" {
		return ""
	}
	return ", " + text
}

// plural is "1 run" or "3 runs".
func plural(n int64, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
