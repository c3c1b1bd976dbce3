//go:build !unix

package sqlite

import (
	"context"
	"os"
	"time"
)

// lockFile is a no-op where flock does not exist; SQLite's own single-writer lock
// still keeps transactions apart.
func lockFile(ctx context.Context, path string, timeout time.Duration, onWait func(string)) (*os.File, error) {
	return nil, nil
}

func unlockFile(f *os.File) {}
