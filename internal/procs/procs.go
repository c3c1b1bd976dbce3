// Package procs tells whether a process still runs, for removing what a killed
// process left behind (scratch folders, partial files) and nothing of a live one.
package procs

import (
	"errors"
	"os"
	"syscall"
)

// Runs tells whether a process with this id runs (or may: when it cannot tell). The
// current process runs.
func Runs(pid int) bool {
	if pid <= 0 {
		return false
	}
	if pid == os.Getpid() {
		return true
	}
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	err = p.Signal(syscall.Signal(0))
	return err == nil || !errors.Is(err, os.ErrProcessDone) && !errors.Is(err, syscall.ESRCH)
}
