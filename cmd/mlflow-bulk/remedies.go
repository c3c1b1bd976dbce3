package main

import (
	"github.com/mlflow-bulk/mlflow-bulk/export"
	"github.com/mlflow-bulk/mlflow-bulk/importer"
	"github.com/mlflow-bulk/mlflow-bulk/importer/rules"
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
	importer.OptionSkipInvalid:          "--skip-invalid",
	importer.OptionSkipUnsupported:      "--skip-unsupported",
	importer.OptionAllowTriggers:        "--allow-triggers",
	importer.OptionOnExistingRun:        "--on-existing-run",
	importer.OptionOnParamConflict:      "--on-param-conflict",
	importer.OptionOnModelConflict:      "--on-model-conflict",
	importer.OptionOnKeyCollision:       "--on-key-collision",
	importer.OptionTargetExperiment:     "--target-experiment",
	importer.OptionRename:               "--rename-experiment",
	importer.OptionWorkspace:            "--workspace",
	importer.OptionDefaultWorkspace:     "--flatten-workspaces",
	importer.OptionWorkspaceDescription: "--workspace-description",
	importer.OptionReread:               "--reread",
	importer.OptionArtifactMap:          "--artifact-root-map",
	importer.OptionArtifactsUnreadable:  "--artifacts-unreadable",
	rules.OptionExcludeExperiments:      "--exclude-experiment",
	rules.OptionRunsSince:               "--runs-since",
	rules.OptionExcludeDeleted:          "--include-deleted=false",
	csvfile.OptionParams:                "--csv-params",
	csvfile.OptionMetrics:               "--csv-metrics",
	csvfile.OptionTags:                  "--csv-tags",
	export.OptionSkipInvalid:            "--skip-invalid",
	sinks.OptionLockTimeout:             "--lock-timeout",
	sources.OptionExperiments:           "--experiment",
	csvfile.OptionTimeFormat:            "--csv-time-format",
	csvfile.OptionTimezone:              "--csv-timezone",
	filestore.OptionFollowSymlinks:      "--follow-symlinks",
	schema.OptionRelease:                "--mlflow-version",
	schema.OptionRevision:               "--revision",
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
func errorText(err error) string { return wordText(remedy.Render(err, flagFor)) }

// wordText is a library's text with the options it mentions named as the flags.
func wordText(s string) string { return remedy.Word(s, optionFlags) }

// wordAll words every text of list in place.
func wordAll(list []string) {
	for i := range list {
		list[i] = wordText(list[i])
	}
}

// wordReport words the texts of an import's report, for its text and its JSON alike.
func wordReport(r *importer.Report) {
	if r == nil {
		return
	}
	wordAll(r.Notices)
	for _, notes := range [][]importer.Note{r.Skipped, r.Rejected} {
		for i := range notes {
			notes[i].Reason = wordText(notes[i].Reason)
		}
	}
}
