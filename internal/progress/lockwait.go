package progress

import (
	"fmt"
	"io"
	"time"
)

// LockWait says, at once and every LogEvery after, that a command waits for another
// import's lock on the target, and who holds it where the database can tell.
type LockWait struct {
	errOut  io.Writer
	target  string
	timeout time.Duration
	clock   Clock
	quit    chan struct{}
	done    chan struct{}
}

// NewLockWait returns the messages for a wait on target (already redacted).
func NewLockWait(errOut io.Writer, target string, timeout time.Duration, clock Clock) *LockWait {
	return &LockWait{errOut: errOut, target: target, timeout: timeout, clock: clock}
}

// Start is the driver's OnLockWait: it runs once, when the wait begins.
func (w *LockWait) Start(holder string) {
	by := ""
	if holder != "" {
		by = ", held by " + holder
	}
	if w.timeout <= time.Millisecond {
		// --lock-timeout 0: the import gives up at once, which its error says; there is
		// no wait to announce.
		return
	}
	fmt.Fprintf(w.errOut, "mlflow-bulk: waiting for another import writing to %s to finish%s (up to %s, --lock-timeout)\n", w.target, by, w.timeout)
	w.quit, w.done = make(chan struct{}), make(chan struct{})
	began := w.clock.Now()
	go func() {
		defer close(w.done)
		tick := time.NewTicker(LogEvery)
		defer tick.Stop()
		for {
			select {
			case <-w.quit:
				return
			case <-tick.C:
				fmt.Fprintf(w.errOut, "mlflow-bulk: still waiting for the lock on %s: %.0fs of %s\n", w.target, w.clock.Now().Sub(began).Seconds(), w.timeout)
			}
		}
	}()
}

// Stop ends the messages once the wait is over.
func (w *LockWait) Stop() {
	if w.quit != nil {
		close(w.quit)
		<-w.done
		w.quit = nil
	}
}
