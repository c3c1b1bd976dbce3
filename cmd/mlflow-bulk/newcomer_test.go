package main

// The mistakes a new user makes, and what the command line says to each.

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/mlflow-bulk/mlflow-bulk/importer"
	"github.com/mlflow-bulk/mlflow-bulk/internal/importtest"
	"github.com/mlflow-bulk/mlflow-bulk/internal/synth"
	"github.com/mlflow-bulk/mlflow-bulk/internal/testenv"
)

// TestNoExperimentMatched: experiment names that match nothing stop the import with a
// usage error that names what the sources hold, and a name that differs only in case.
func TestNoExperimentMatched(t *testing.T) {
	root := store(t, synth.Options{Experiments: 1, Runs: 1, MetricKeys: 1, Steps: 1, Seed: 31})
	for _, c := range []struct{ asked, want string }{
		{"nosuch", `the sources hold ["Default" "synthetic-1"]`},
		{"Synthetic-1", `(names compare with case: "synthetic-1" is there)`},
	} {
		io, out, errOut := TestStreams()
		code := Main([]string{"import", root, "--to", testenv.SQLite(t), "--experiment", c.asked}, io)
		if code != ExitUsage || !strings.Contains(errOut.String(), "--experiment") || !strings.Contains(errOut.String(), c.want) || strings.Contains(out.String(), "Nothing new") {
			t.Errorf("--experiment %s: exit %d\n%s\n%s", c.asked, code, out, errOut)
		}
	}
	io, _, errOut := TestStreams()
	if code := Main([]string{"import", root, "--to", testenv.SQLite(t), "--experiment", "synthetic-*"}, io); code != ExitOK {
		t.Errorf("a pattern that matches: exit %d %s", code, errOut)
	}
}

// TestForgottenTarget: a database server among the sources with no --to stops before
// anything is opened, asking whether --to was meant, its password masked.
func TestForgottenTarget(t *testing.T) {
	t.Setenv("MLFLOW_TRACKING_URI", "")
	t.Chdir(t.TempDir())
	io, _, errOut := TestStreams()
	code := Main([]string{"import", "./mlruns", "postgresql://ana:s3cret@127.0.0.1:1/mlflow"}, io)
	if msg := errOut.String(); code != ExitUsage || !strings.Contains(msg, "did you mean --to postgresql://ana:xxxxx@127.0.0.1:1/mlflow?") || strings.Contains(msg, "s3cret") {
		t.Errorf("exit %d: %s", code, msg)
	}
	if _, err := os.Stat("mlflow.db"); !os.IsNotExist(err) {
		t.Errorf("./mlflow.db was created: %v", err)
	}
}

// TestInterruptionIsNoFailure: what an interrupted import committed is not said to come
// before a failure.
func TestInterruptionIsNoFailure(t *testing.T) {
	if got := committedBefore(3, true); strings.Contains(got, "failure") || !strings.Contains(got, "3 runs were committed before the interruption") {
		t.Errorf("interrupted: %s", got)
	}
	if got := committedBefore(3, false); !strings.Contains(got, "before the failure") {
		t.Errorf("failed: %s", got)
	}
}

// TestJSONLineOnUsageErrors: under --json a usage error (a wrong flag) and a verify that
// cannot start still print one JSON line on stdout, with the error and the exit code.
func TestJSONLineOnUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"import", "./mlruns", "--json", "--nosuchflag"},
		{"verify", "./nowhere", "--to", "sqlite:///x.db", "--json"},
	} {
		t.Chdir(t.TempDir())
		io, out, _ := TestStreams()
		code := Main(args, io)
		var line struct {
			Error    string `json:"error"`
			ExitCode int    `json:"exit_code"`
		}
		if err := json.Unmarshal(out.Bytes(), &line); err != nil || line.Error == "" || line.ExitCode != int(code) || code == ExitOK || strings.Count(out.String(), "\n") != 1 {
			t.Errorf("%v: exit %d, stdout %q (%v)", args, code, out, err)
		}
	}
}

// TestSchemaShowOfAnotherDatabase: a database that is not MLflow's says so, with no empty
// Revision line.
func TestSchemaShowOfAnotherDatabase(t *testing.T) {
	uri := testenv.SQLite(t)
	importtest.SetUp(t, uri, "CREATE TABLE notes (a INTEGER)")
	io, out, _ := TestStreams()
	Main([]string{"schema", "show", "--to", uri}, io)
	if got := out.String(); !strings.Contains(got, "Schema:    not MLflow's") || strings.Contains(got, "Revision:") {
		t.Errorf("schema show of a database that is not MLflow's:\n%s", got)
	}
}

// TestInterruptionSaysWhatItLeft: a dry run or a command that only reads says an
// interruption changed nothing; an import says a re-run finishes.
func TestInterruptionSaysWhatItLeft(t *testing.T) {
	for args, want := range map[string]string{
		"import ./mlruns --to sqlite:///x.db":           "run the same command again to finish",
		"import ./mlruns --to sqlite:///x.db --dry-run": "the dry run wrote nothing",
		"--json verify ./mlruns --to sqlite:///x.db":    "nothing was changed",
		"inspect ./mlruns":                              "nothing was changed",
		"export ./mlruns --out d":                       "no dump was written",
	} {
		if got := interruptedText(strings.Fields(args), context.Canceled); !strings.Contains(got, want) {
			t.Errorf("%s: %q, want %q", args, got, want)
		}
	}
	// On MariaDB, which commits each table as it is made, an import stopped while it
	// created the schema left part of it: it says so, not that nothing was committed.
	partly := fmt.Errorf("%w: %w", importer.ErrSchemaPartlyCreated, context.Canceled)
	if got := interruptedText(strings.Fields("import ./mlruns --to mysql://u@h/db"), partly); !strings.Contains(got, "part of the schema was committed") || strings.Contains(got, "nothing of the open batch") {
		t.Errorf("an interrupted schema creation: %q", got)
	}
}
