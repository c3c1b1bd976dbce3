package main

import (
	"github.com/mlflow-bulk/mlflow-bulk/export"
	"github.com/mlflow-bulk/mlflow-bulk/importer"
	"github.com/mlflow-bulk/mlflow-bulk/remedy"
	"github.com/mlflow-bulk/mlflow-bulk/schema"
	"github.com/mlflow-bulk/mlflow-bulk/sinks"
	"github.com/mlflow-bulk/mlflow-bulk/sources"
	"github.com/mlflow-bulk/mlflow-bulk/sources/csvfile"
	"github.com/mlflow-bulk/mlflow-bulk/sources/filestore"
)

// optionFlags words the options that libraries name in their errors (package remedy) as
// the flags that set them: the libraries know their options, the command its flags.
var optionFlags = map[remedy.Option]string{
	importer.OptionSkipInvalid:      "--skip-invalid",
	importer.OptionSkipUnsupported:  "--skip-unsupported",
	importer.OptionAllowTriggers:    "--allow-triggers",
	importer.OptionOnExistingRun:    "--on-existing-run",
	importer.OptionOnParamConflict:  "--on-param-conflict",
	importer.OptionOnModelConflict:  "--on-model-conflict",
	importer.OptionOnKeyCollision:   "--on-key-collision",
	importer.OptionTargetExperiment: "--target-experiment",
	importer.OptionRename:           "--rename-experiment",
	importer.OptionWorkspace:        "--workspace",
	importer.OptionDefaultWorkspace: "--flatten-workspaces",
	export.OptionSkipInvalid:        "--skip-invalid",
	sinks.OptionLockTimeout:         "--lock-timeout",
	sources.OptionExperiments:       "--experiment",
	csvfile.OptionTimeFormat:        "--csv-time-format",
	csvfile.OptionTimezone:          "--csv-timezone",
	filestore.OptionFollowSymlinks:  "--follow-symlinks",
	schema.OptionRelease:            "--mlflow-version",
	schema.OptionRevision:           "--revision",
}

// flagFor is the flag that sets option; an option without one keeps its Go name.
func flagFor(option remedy.Option) string {
	if flag, ok := optionFlags[option]; ok {
		return flag
	}
	return string(option)
}

// errorText is an error as the command line says it: options named as its flags, what
// would get past it on a line of its own.
func errorText(err error) string { return remedy.Render(err, flagFor) }
