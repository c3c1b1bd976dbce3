package main

import (
	"context"
	"errors"

	"github.com/mlflow-bulk/mlflow-bulk/importer"
	"github.com/mlflow-bulk/mlflow-bulk/internal/dburi"
	"github.com/mlflow-bulk/mlflow-bulk/sinks"
)

// ExitCode is the process exit status. The values are part of mlflow-bulk's contract.
type ExitCode int

const (
	ExitOK ExitCode = 0
	// ExitFailed: the command failed; what was committed before stays and is consistent.
	ExitFailed ExitCode = 1
	// ExitUsage: wrong flags or arguments.
	ExitUsage ExitCode = 2
	// ExitDifferences: verify found differences.
	ExitDifferences ExitCode = 3
	// ExitSkippedInvalid: finished, but invalid input was skipped (--skip-invalid).
	ExitSkippedInvalid ExitCode = 4
	// ExitLocked: another import held the target's lock for longer than --lock-timeout;
	// nothing was written.
	ExitLocked ExitCode = 5
	// ExitInterrupted: stopped by Ctrl-C or SIGTERM; what was committed before stays,
	// and the same command finishes the job (128 + SIGINT, as shells expect).
	ExitInterrupted ExitCode = 130
)

const exitCodesHelp = `Exit codes:
  0  success
  1  failed (everything committed before the failure stays consistent)
  2  usage error
  3  verify found differences
  4  finished, but invalid input was skipped (--skip-invalid)
  5  another import held the target's lock past --lock-timeout; nothing was written
  130  interrupted (Ctrl-C, SIGTERM); run the same command again to finish`

// usageError marks errors in how the command was called.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// errSkippedInvalid is returned by commands that finished but left invalid input out.
var errSkippedInvalid = errors.New("finished with invalid input skipped")

func exitCodeFor(err error) ExitCode {
	var usage *usageError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &usage), errors.Is(err, dburi.ErrMalformed), errors.Is(err, importer.ErrNoExperimentMatched):
		return ExitUsage
	case errors.Is(err, errSkippedInvalid):
		return ExitSkippedInvalid
	case errors.Is(err, errDifferences):
		return ExitDifferences
	case errors.Is(err, sinks.ErrLocked):
		return ExitLocked
	case errors.Is(err, context.Canceled):
		return ExitInterrupted
	}
	return ExitFailed
}
