package rules

import (
	"github.com/mlflow-bulk/mlflow-bulk/remedy"
	"github.com/mlflow-bulk/mlflow-bulk/sources"
)

// The options the rules' errors name as remedies (package remedy); importer lists them
// with its own.
const (
	OptionOnKeyCollision     remedy.Option = "importer.Options.OnKeyCollision"
	OptionRename             remedy.Option = "importer.Options.Filter.Rename"
	OptionExperiments                      = sources.OptionExperiments
	OptionExcludeExperiments remedy.Option = "importer.Options.Filter.ExcludeExperiments"
	OptionRunsSince          remedy.Option = "importer.Options.Filter.RunsSince"
	OptionExcludeDeleted     remedy.Option = "importer.Options.Filter.ExcludeDeleted"
	OptionArtifactMap        remedy.Option = "importer.Options.ArtifactMap"
)
