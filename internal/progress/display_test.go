package progress

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// fakeClock is a clock the test moves by hand.
type fakeClock struct{ now time.Time }

func (c *fakeClock) Now() time.Time { return c.now }

func (c *fakeClock) advance(d time.Duration) time.Time {
	c.now = c.now.Add(d)
	return c.now
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 12, 4, 3, 0, 0, 0, time.UTC)}
}

// TestPlainLinesNameEveryLongPhase: off a terminal, a phase after the rows that lasts
// over a second (building keys, verifying) gets its line at once and then one every
// LogEvery; a phase shorter than a second stays quiet.
func TestPlainLinesNameEveryLongPhase(t *testing.T) {
	var out bytes.Buffer
	clock := newFakeClock()
	d := New(&out, Auto, false, clock)
	d.Update(Snapshot{Phase: phaseCommit, Stage: stageOf(phaseCommit)})
	d.Tick(clock.advance(500 * time.Millisecond))
	d.Update(Snapshot{Phase: phaseKeys, Stage: stageOf(phaseKeys), Runs: 3, MetricRows: 7})
	d.Tick(clock.advance(999 * time.Millisecond))
	if out.Len() != 0 {
		t.Fatalf("a phase under a second spoke: %q", out.String())
	}
	d.Tick(clock.advance(2 * time.Millisecond))
	d.Tick(clock.advance(time.Second))
	d.Tick(clock.advance(LogEvery))
	d.Finish()
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	want := []string{
		"mlflow-bulk: " + phaseKeys,
		"mlflow-bulk: " + phaseKeys + ", for 7s so far (3 runs, 7 metric rows imported)",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("lines:\n%s\nwant:\n%s", out.String(), strings.Join(want, "\n"))
	}
	if strings.Contains(out.String(), phaseCommit) {
		t.Errorf("the short phase was named: %q", out.String())
	}
}

// TestTerminalShowsThePhasesAfterTheBar: on a terminal the bar makes way, once the rows
// are in, for a line redrawn in place every second, so the key build is never a blank
// screen; Finish clears it.
func TestTerminalShowsThePhasesAfterTheBar(t *testing.T) {
	var out bytes.Buffer
	clock := newFakeClock()
	d := New(&out, Auto, true, clock)
	d.Update(Snapshot{Phase: phaseImport, Stage: stageOf(phaseImport), Source: "s", Runs: 1, TotalRuns: 2})
	clock.advance(time.Second)
	d.Update(Snapshot{Phase: phaseImport, Stage: stageOf(phaseImport), Source: "s", Runs: 2, TotalRuns: 2})
	if !strings.Contains(out.String(), "/2") || strings.Contains(out.String(), "runs/hr") {
		t.Errorf("no bar with the run total: %q", out.String())
	}
	d.Update(Snapshot{Phase: phaseKeys, Stage: stageOf(phaseKeys), Runs: 2, TotalRuns: 2})
	out.Reset()
	d.Tick(clock.advance(3 * time.Second))
	if got := out.String(); !strings.HasPrefix(got, "\r\033[Kmlflow-bulk: "+phaseKeys+" (3s") || strings.Contains(got, "\n") {
		t.Errorf("the key build on a terminal shows %q", got)
	}
	out.Reset()
	d.Finish()
	if out.String() != "\r\033[K" {
		t.Errorf("Finish left the phase line: %q", out.String())
	}
}

// TestBarTakesTheTotalWhenItComes: the runs are counted beside the import, so the bar
// starts on metric rows and turns into a bar of runs once the count is in.
func TestBarTakesTheTotalWhenItComes(t *testing.T) {
	var out bytes.Buffer
	clock := newFakeClock()
	d := New(&out, Auto, true, clock)
	d.Update(Snapshot{Phase: phaseImport, Stage: stageOf(phaseImport), Source: "s", Runs: 1, MetricRows: 10})
	if got := out.String(); !strings.Contains(got, "metric rows") || strings.Contains(got, "/7") {
		t.Errorf("before the count, the bar shows %q", got)
	}
	clock.advance(time.Second)
	out.Reset()
	d.Update(Snapshot{Phase: phaseImport, Stage: stageOf(phaseImport), Source: "s", Runs: 2, MetricRows: 20, TotalRuns: 7})
	if got := out.String(); !strings.Contains(got, "/7)") {
		t.Errorf("once counted, the bar shows %q", got)
	}
}

// TestNeverIsSilent: --progress never writes nothing, whatever the phase or its length.
func TestNeverIsSilent(t *testing.T) {
	var out bytes.Buffer
	clock := newFakeClock()
	d := New(&out, Never, true, clock)
	d.Update(Snapshot{Phase: phaseImport, Stage: stageOf(phaseImport), Runs: 1, TotalRuns: 5})
	clock.advance(LogEvery * 2)
	d.Update(Snapshot{Phase: phaseImport, Stage: stageOf(phaseImport), Runs: 2, TotalRuns: 5})
	d.Update(Snapshot{Phase: phaseKeys, Stage: stageOf(phaseKeys)})
	d.Tick(clock.advance(LogEvery * 3))
	d.Finish()
	if out.Len() != 0 {
		t.Errorf("--progress never wrote %q", out.String())
	}
}

// TestPlainRowLinesAreEnglish: a row line says "1 run" and gives no rate before a few
// seconds have passed.
func TestPlainRowLinesAreEnglish(t *testing.T) {
	var out bytes.Buffer
	clock := newFakeClock()
	d := New(&out, Auto, false, clock)
	clock.advance(LogEvery)
	d.Update(Snapshot{Phase: phaseImport, Stage: stageOf(phaseImport), Source: "store", Runs: 1, MetricRows: 50})
	if got := out.String(); got != "mlflow-bulk: store: 1 run, 50 metric rows, 10 rows/s\n" {
		t.Errorf("row line %q", got)
	}
}
