package importer

import (
	"github.com/mlflow-bulk/mlflow-bulk/importer/rules"
	"github.com/mlflow-bulk/mlflow-bulk/remedy"
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
	OptionTargetExperiment remedy.Option = "importer.Options.TargetExperiment"
	OptionRename                         = rules.OptionRename
	OptionWorkspace        remedy.Option = "importer.Options.Workspace"
	// OptionDefaultWorkspace is Workspace set to MLflow's default workspace.
	OptionDefaultWorkspace remedy.Option = "importer.Options.Workspace=default"
)

// RemedyOptions lists every option the import's errors may name, for a caller that words
// each of them.
var RemedyOptions = []remedy.Option{OptionSkipInvalid, OptionSkipUnsupported, OptionAllowTriggers, OptionOnExistingRun,
	OptionOnParamConflict, OptionOnModelConflict, OptionOnKeyCollision, OptionTargetExperiment, OptionRename, OptionWorkspace, OptionDefaultWorkspace}

var (
	skipInvalid = func(does string) remedy.Remedy {
		return remedy.Remedy{Option: OptionSkipInvalid, Does: does}
	}
	skipUnsupported = remedy.Remedy{Option: OptionSkipUnsupported, Does: "to import the rest and list these in the report"}
)
