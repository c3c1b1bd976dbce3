package progress

import (
	"testing"
	"time"
)

// TestTimeLeftIsGrounded follows an import on a clock of its own: the estimate is the
// rows' left at the rate this import goes, shown only once enough is done, never for the
// phases after the rows (whose times nothing here predicts), and it says when such a
// phase follows.
func TestTimeLeftIsGrounded(t *testing.T) {
	start := time.Date(2026, 12, 2, 3, 0, 0, 0, time.UTC)
	at := func(s float64) time.Time { return start.Add(time.Duration(s * float64(time.Second))) }
	rows := func(runs int64, keys bool) Snapshot {
		return Snapshot{Phase: phaseImport, Stage: stageOf(phaseImport), Runs: runs, MetricRows: runs * 1000, TotalRuns: 100, KeysAfter: keys}
	}
	eta := timeLeft{}
	eta.observe(Snapshot{Phase: phaseSchema, Stage: stageOf(phaseSchema)}, Snapshot{}, at(0))
	eta.observe(rows(0, false), Snapshot{Phase: phaseSchema, Stage: stageOf(phaseSchema)}, at(5))
	for _, c := range []struct {
		runs int64
		at   float64
		want string
	}{
		{2, 6, ""},                   // 2 % done: not grounded
		{10, 6, ""},                  // 1 s in: not grounded
		{10, 15, "about 1m30s left"}, // 10 of 100 in 10 s
		{99, 104, "about 1s left"},
		{100, 105, ""}, // the rows are over
	} {
		if got := eta.leftText(rows(c.runs, false), at(c.at)); got != c.want {
			t.Errorf("%d runs at %vs: %q, want %q", c.runs, c.at, got, c.want)
		}
	}
	keys := timeLeft{verify: true}
	keys.observe(rows(0, true), Snapshot{}, at(0))
	if got := keys.leftText(rows(10, true), at(10)); got != "about 1m30s left of the rows, then metrics' keys and the verification" {
		t.Errorf("with keys and verify after: %q", got)
	}
	building := Snapshot{Phase: phaseKeys, Stage: stageOf(phaseKeys), MetricRows: 100_000, TotalRuns: 100}
	keys.observe(building, rows(100, true), at(100))
	if got := keys.leftText(building, at(130)); got != "" {
		t.Errorf("while the keys are built: %q, want no estimate", got)
	}
	uncounted := timeLeft{}
	uncounted.observe(Snapshot{Phase: phaseImport, Stage: stageOf(phaseImport)}, Snapshot{}, at(0))
	if got := uncounted.leftText(Snapshot{Phase: phaseImport, Stage: stageOf(phaseImport), Runs: 10}, at(10)); got != "" {
		t.Errorf("sources that cannot count their runs: %q, want no estimate", got)
	}
}
