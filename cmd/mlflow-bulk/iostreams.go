package main

import (
	"bytes"
	"io"
	"os"
	"time"

	"github.com/mlflow-bulk/mlflow-bulk/importer"
	"github.com/mlflow-bulk/mlflow-bulk/internal/progress"
	"golang.org/x/term"
)

// progressHelp is the --progress flag's help, the same on every command.
const progressHelp = "progress on stderr: auto (a bar on a terminal, else a line every few seconds), always (a bar), never (nothing)"

// IOStreams is all terminal I/O: results go to Out, chatter and progress to ErrOut.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
	// Clock is the time progress and waits are measured by; tests set their own.
	Clock progress.Clock

	stdoutTTY bool
	stderrTTY bool
}

// System returns the process's standard streams with their terminal state.
func System() *IOStreams {
	return &IOStreams{
		In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr, Clock: progress.SystemClock{},
		stdoutTTY: term.IsTerminal(int(os.Stdout.Fd())),
		stderrTTY: term.IsTerminal(int(os.Stderr.Fd())),
	}
}

// TestStreams returns streams backed by buffers, not terminals, under a clock that does
// not move: what they receive does not depend on how busy the machine is.
func TestStreams() (*IOStreams, *bytes.Buffer, *bytes.Buffer) {
	out, errOut := &bytes.Buffer{}, &bytes.Buffer{}
	return &IOStreams{In: &bytes.Buffer{}, Out: out, ErrOut: errOut, Clock: progress.FixedClock{T: time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC)}}, out, errOut
}

// IsStderrTTY reports whether progress can be drawn.
func (s *IOStreams) IsStderrTTY() bool { return s.stderrTTY }

// SetStderrTTY overrides terminal detection (tests, --progress).
func (s *IOStreams) SetStderrTTY(tty bool) { s.stderrTTY = tty }

// Progress returns a display of a command's progress on ErrOut in mode (--progress).
func (s *IOStreams) Progress(mode string) *progress.Display {
	return progress.New(s.ErrOut, progress.Mode(mode), s.stderrTTY, s.Clock)
}

// importStages tells the display what kind of work each of the import's phases is.
var importStages = map[string]progress.Stage{
	importer.PhaseImport: progress.StageRows,
	importer.PhaseCommit: progress.StageCommit,
	importer.PhaseKeys:   progress.StageKeys,
}

// snapshotOf is the import's progress as the display takes it.
func snapshotOf(p importer.Progress) progress.Snapshot {
	return progress.Snapshot{Phase: p.Phase, Stage: importStages[p.Phase], Source: p.Source, Runs: p.Runs,
		MetricRows: p.MetricRows, TotalRuns: p.TotalRuns, KeysAfter: p.KeysAfter, ArtifactFiles: p.ArtifactFiles, ArtifactBytes: p.ArtifactBytes}
}
