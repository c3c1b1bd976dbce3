package progress

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

type fixedClock struct{ t time.Time }

func (c fixedClock) Now() time.Time { return c.t }

// TestLockWaitAnnounces: a wait is announced with its limit; with --lock-timeout 0 there
// is no wait, and nothing is announced ("up to 1ms" was).
func TestLockWaitAnnounces(t *testing.T) {
	var out bytes.Buffer
	w := NewLockWait(&out, "sqlite:///x.db", 10*time.Minute, fixedClock{})
	w.Start("pid 7")
	w.Stop()
	if got := out.String(); !strings.Contains(got, "waiting for another import writing to sqlite:///x.db to finish, held by pid 7 (up to 10m0s") {
		t.Errorf("a wait: %q", got)
	}
	out.Reset()
	w = NewLockWait(&out, "sqlite:///x.db", time.Millisecond, fixedClock{})
	w.Start("pid 7")
	w.Stop()
	if out.Len() != 0 {
		t.Errorf("--lock-timeout 0 announced a wait: %q", out.String())
	}
}
