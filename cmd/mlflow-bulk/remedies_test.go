package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/mlflow-bulk/mlflow-bulk/export"
	"github.com/mlflow-bulk/mlflow-bulk/importer"
	"github.com/mlflow-bulk/mlflow-bulk/internal/importtest"
	"github.com/mlflow-bulk/mlflow-bulk/internal/synth"
	"github.com/mlflow-bulk/mlflow-bulk/internal/testenv"
	"github.com/mlflow-bulk/mlflow-bulk/remedy"
	"github.com/mlflow-bulk/mlflow-bulk/schema"
	"github.com/mlflow-bulk/mlflow-bulk/sinks"
	"github.com/mlflow-bulk/mlflow-bulk/sources"
	"github.com/mlflow-bulk/mlflow-bulk/sources/csvfile"
	"github.com/mlflow-bulk/mlflow-bulk/sources/filestore"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// TestEveryRemedyHasAFlag: every option a library may name in an error is worded as a
// flag that one of the commands defines, so no message reaches a user in Go's terms.
func TestEveryRemedyHasAFlag(t *testing.T) {
	io, _, _ := TestStreams()
	root := NewCmdRoot(NewFactory(io))
	defined := map[string]bool{}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		c.Flags().VisitAll(func(f *pflag.Flag) { defined["--"+f.Name] = true })
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	options := append([]remedy.Option{export.OptionSkipInvalid, sinks.OptionLockTimeout, sources.OptionExperiments,
		filestore.OptionFollowSymlinks, schema.OptionRelease, schema.OptionRevision}, importer.RemedyOptions...)
	options = append(options, csvfile.RemedyOptions...)
	for _, o := range options {
		flag, ok := optionFlags[o]
		if !ok {
			t.Errorf("%s has no flag in optionFlags", o)
			continue
		}
		if name, _, _ := strings.Cut(flag, "="); !defined[name] {
			t.Errorf("%s is worded as %s, which no command defines", o, flag)
		}
	}
}

// TestErrorText: the command words a library's remedies as its flags, after the error.
func TestErrorText(t *testing.T) {
	err := fmt.Errorf("import: %w", remedy.With(errors.New("run r is invalid"),
		remedy.Remedy{Option: importer.OptionOnParamConflict, Value: "keep-target", Does: "to keep the target's"},
		remedy.Remedy{Option: importer.OptionSkipInvalid, Does: "to leave the run out"}))
	want := "import: run r is invalid\nRe-run with --on-param-conflict keep-target to keep the target's, or with --skip-invalid to leave the run out."
	if got := errorText(err); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if got := errorText(remedy.Value(csvfile.OptionTimezone, "Mars", errors.New("no such zone"))); !strings.HasPrefix(got, `--csv-timezone "Mars": `) {
		t.Errorf("a value error: %s", got)
	}
}

// TestReportNamesFlags: the notes of a report, in text and in JSON, name the flags, not
// the options' Go names the libraries mention.
func TestReportNamesFlags(t *testing.T) {
	root := store(t, synth.Options{Runs: 2, MetricKeys: 1, Steps: 2, Seed: 29})
	for _, asJSON := range []bool{false, true} {
		args := []string{"import", root, "--to", testenv.SQLite(t), "--artifact-root-map", "/nowhere=s3://b"}
		if asJSON {
			args = append(args, "--json")
		}
		io, out, errOut := TestStreams()
		if code := Main(args, io); code != ExitOK {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		if text := out.String(); !strings.Contains(text, "warning: --artifact-root-map /nowhere=s3://b matched no artifact location") || strings.Contains(text, "importer.Options") {
			t.Errorf("json %t: %s", asJSON, text)
		}
	}
}

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
