package main

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/mlflow-bulk/mlflow-bulk/export"
	"github.com/mlflow-bulk/mlflow-bulk/importer"
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
