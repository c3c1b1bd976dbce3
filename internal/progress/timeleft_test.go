package progress

import (
	"testing"
	"time"
)

// TestTimeLeftCountsThePhasesAfterTheRows follows an import through its phases on a
// clock of its own: the estimate includes building the keys and verifying, counts down
// through the key build, and says nothing where the sources cannot count their runs.
func TestTimeLeftCountsThePhasesAfterTheRows(t *testing.T) {
	start := time.Date(2026, 12, 2, 3, 0, 0, 0, time.UTC)
	at := func(s float64) time.Time { return start.Add(time.Duration(s * float64(time.Second))) }
	// Each run holds 26,500 metric rows: 100 runs are 10 s of building keys.
	rows := func(runs int64, keys bool) Snapshot {
		return Snapshot{Phase: phaseImport, Stage: stageOf(phaseImport), Runs: runs, MetricRows: runs * keysRowsPerSecond / 10, TotalRuns: 100, KeysAfter: keys}
	}
	for _, c := range []struct {
		name         string
		keys, verify bool
		want         time.Duration // left after 10 of 100 runs in 10 s
	}{
		{"rows alone", false, false, 90 * time.Second},
		{"keys built after", true, false, 100 * time.Second},
		{"keys and verify", true, true, 100*time.Second + time.Duration(verifyShare*100*float64(time.Second))},
	} {
		t.Run(c.name, func(t *testing.T) {
			eta := timeLeft{verify: c.verify}
			eta.observe(Snapshot{Phase: phaseSchema, Stage: stageOf(phaseSchema)}, Snapshot{}, at(0))
			eta.observe(rows(0, c.keys), Snapshot{Phase: phaseSchema, Stage: stageOf(phaseSchema)}, at(5))
			got, ok := eta.left(rows(10, c.keys), at(15))
			if !ok || got != c.want {
				t.Errorf("after 10 of 100 runs in 10 s: %v %v, want %v", got, ok, c.want)
			}
		})
	}

	eta := timeLeft{verify: true}
	eta.observe(rows(0, true), Snapshot{}, at(0))
	done := rows(100, true)
	eta.observe(Snapshot{Phase: phaseCommit, Stage: stageOf(phaseCommit), MetricRows: done.MetricRows, TotalRuns: 100}, Snapshot{Phase: phaseImport, Stage: stageOf(phaseImport)}, at(100))
	keys := Snapshot{Phase: phaseKeys, Stage: stageOf(phaseKeys), MetricRows: done.MetricRows, TotalRuns: 100}
	eta.observe(keys, Snapshot{Phase: phaseCommit, Stage: stageOf(phaseCommit)}, at(101))
	wantKeys := 10*time.Second - 4*time.Second
	wantVerify := time.Duration(verifyShare * 100 * float64(time.Second))
	if got, ok := eta.left(keys, at(105)); !ok || got != wantKeys+wantVerify {
		t.Errorf("4 s into building the keys: %v %v, want %v", got, ok, wantKeys+wantVerify)
	}
	if got, _ := eta.left(keys, at(1000)); got != wantVerify {
		t.Errorf("keys overrunning their estimate: %v, want the verify part %v alone", got, wantVerify)
	}
	noVerify := timeLeft{}
	noVerify.observe(rows(0, true), Snapshot{}, at(0))
	noVerify.observe(keys, Snapshot{Phase: phaseImport, Stage: stageOf(phaseImport)}, at(10))
	if text := noVerify.leftText(keys, at(1000)); text != "under a second left" {
		t.Errorf("past the estimate: %q, want finishing", text)
	}

	uncounted := timeLeft{}
	uncounted.observe(Snapshot{Phase: phaseImport, Stage: stageOf(phaseImport)}, Snapshot{}, at(0))
	if text := uncounted.leftText(Snapshot{Phase: phaseImport, Stage: stageOf(phaseImport), Runs: 10}, at(10)); text != "" {
		t.Errorf("sources that cannot count their runs: %q, want no estimate", text)
	}
	if text := uncounted.leftText(rows(10, false), at(10)); text != "about 1m30s left" {
		t.Errorf("the text: %q", text)
	}
}
