package importer

import (
	"github.com/mlflow-bulk/mlflow-bulk/importer/rules"
	"github.com/mlflow-bulk/mlflow-bulk/remedy"
	"github.com/mlflow-bulk/mlflow-bulk/sources"
)

// The options an import's errors name as remedies (package remedy), by their Go names;
// the command line words each as its flag.
const (
	OptionSkipInvalid      remedy.Option = "importer.Options.SkipInvalid"
	OptionSkipUnsupported  remedy.Option = "importer.Options.SkipUnsupported"
	OptionAllowTriggers    remedy.Option = "importer.Options.AllowTriggers"
	OptionOnExistingRun    remedy.Option = "importer.Options.OnExistingRun"
	OptionOnParamConflict  remedy.Option = "importer.Options.OnParamConflict"
	OptionOnModelConflict  remedy.Option = "importer.Options.OnModelConflict"
	OptionOnKeyCollision                 = rules.OptionOnKeyCollision
	OptionTargetExperiment               = sources.OptionTargetExperiment
	OptionRename                         = rules.OptionRename
	OptionWorkspace        remedy.Option = "importer.Options.Workspace"
	// OptionDefaultWorkspace is Workspace set to MLflow's default workspace.
	OptionDefaultWorkspace     remedy.Option = "importer.Options.Workspace=default"
	OptionWorkspaceDescription remedy.Option = "importer.Options.WorkspaceDescription"
	OptionReread               remedy.Option = "importer.Options.Reread"
	OptionArtifactMap                        = rules.OptionArtifactMap
	OptionArtifactsUnreadable  remedy.Option = "importer.Options.CopyArtifacts.StopOnUnreadable"
)

// RemedyOptions lists every option the import's errors may name, for a caller that words
// each of them.
var RemedyOptions = []remedy.Option{OptionSkipInvalid, OptionSkipUnsupported, OptionAllowTriggers, OptionOnExistingRun,
	OptionOnParamConflict, OptionOnModelConflict, OptionOnKeyCollision, OptionTargetExperiment, OptionRename, OptionWorkspace, OptionDefaultWorkspace, OptionWorkspaceDescription, OptionReread, OptionArtifactMap, OptionArtifactsUnreadable,
	rules.OptionExperiments, rules.OptionExcludeExperiments, rules.OptionRunsSince, rules.OptionExcludeDeleted}

var (
	skipInvalid = func(does string) remedy.Remedy {
		return remedy.Remedy{Option: OptionSkipInvalid, Does: does}
	}
	skipUnsupported = remedy.Remedy{Option: OptionSkipUnsupported, Does: "to import the rest and list these in the report"}
)
