package main

import (
	"fmt"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// minArgs wraps cobra's check so that a missing argument is a usage error that names
// what to give.
func minArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < n {
			return &usageError{fmt.Errorf("%s needs at least %d %s\nRun '%s --help' for usage", cmd.Name(), n, argumentName(cmd), cmd.CommandPath())}
		}
		return nil
	}
}

// exactlyOne accepts one argument and says what it is otherwise.
func exactlyOne(cmd *cobra.Command, args []string) error {
	if len(args) != 1 {
		return &usageError{fmt.Errorf("%s takes exactly one %s, got %d\nRun '%s --help' for usage", cmd.Name(), argumentName(cmd), len(args), cmd.CommandPath())}
	}
	return nil
}

// argumentName is the first argument's name in the command's Use line ("SOURCE").
func argumentName(cmd *cobra.Command) string {
	fields := strings.Fields(cmd.Use)
	if len(fields) > 1 && !strings.HasPrefix(fields[1], "-") && !strings.HasPrefix(fields[1], "[") {
		return strings.TrimSuffix(fields[1], "...")
	}
	return "argument"
}

// flagError makes a wrong flag a usage error, suggesting the flag meant where one is
// close (--dryrun: --dry-run).
func flagError(cmd *cobra.Command, err error) error {
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "unknown flag: --"); ok {
		if near := nearestFlag(cmd.Flags(), name); near != "" {
			msg += fmt.Sprintf("\nDid you mean --%s?", near)
		}
	}
	return &usageError{fmt.Errorf("%s\nRun '%s --help' for usage", msg, cmd.CommandPath())}
}

// nearestFlag is the flag whose name is within two edits of name, or one that is name
// without its dashes, "" when none is.
func nearestFlag(flags *pflag.FlagSet, name string) string {
	best, bestDistance := "", 3
	flags.VisitAll(func(f *pflag.Flag) {
		if f.Hidden {
			return
		}
		d := editDistance(name, f.Name)
		if strings.ReplaceAll(f.Name, "-", "") == strings.ReplaceAll(name, "-", "") {
			d = 0
		}
		if d < bestDistance {
			best, bestDistance = f.Name, d
		}
	})
	return best
}

// editDistance is the Levenshtein distance of two short names.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// versionText is the version with the commit and its time, where the build recorded
// them (go build in a git checkout does).
func versionText() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return version
	}
	var commit, when, modified string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			commit = s.Value
		case "vcs.time":
			when = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				modified = ", with local changes"
			}
		}
	}
	if commit == "" {
		return version
	}
	if len(commit) > 12 {
		commit = commit[:12]
	}
	return fmt.Sprintf("%s (commit %s, %s%s)", version, commit, when, modified)
}
