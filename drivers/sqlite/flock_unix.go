//go:build unix

package sqlite

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"

	"github.com/mlflow-bulk/mlflow-bulk/sinks"
)

// lockFile takes an exclusive flock on the SQLite database file, creating it if needed,
// waiting up to timeout. flock locks are apart from the POSIX locks SQLite itself uses,
// so they keep mlflow-bulk imports in turn without getting in SQLite's way.
func lockFile(ctx context.Context, path string, timeout time.Duration, onWait func(string)) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(timeout)
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return f, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("take the import lock: %w", err)
		}
		if onWait != nil {
			onWait("") // a file lock does not say whose it is
			onWait = nil
		}
		if time.Now().After(deadline) {
			f.Close()
			return nil, sinks.Locked(timeout)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func unlockFile(f *os.File) {
	if f != nil {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN) // closing the file releases it anyway
		f.Close()
	}
}
