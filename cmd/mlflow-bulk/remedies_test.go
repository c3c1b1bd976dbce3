package main

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/mlflow-bulk/mlflow-bulk/export"
	"github.com/mlflow-bulk/mlflow-bulk/importer"
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
		if !defined[flag] {
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
