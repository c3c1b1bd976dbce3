// Package rules holds MLflow's write rules that the import pipeline (importer) and the
// proof of an import (verify) share, as data in and data out: how a run becomes rows
// (names, limits, truncation, keys one collation makes one, what a database cannot
// store), NaN and infinities, the latest-metric rule, a bounded set of points, the
// selection (filters, renames, shards, artifact locations) and the conflict policies.
package rules

// The policies an import follows where the sources and the target disagree. Each is a
// string type of its own, so one cannot be passed for another; Values lists a policy's
// values for flags and messages, the first its default.

// CollisionPolicy: two keys of one run or experiment that the target's collation makes
// one ("lr" and "LR" on MySQL's usual collations) (--on-key-collision).
type CollisionPolicy string

const (
	CollisionFail      CollisionPolicy = "fail"       // the run is invalid input
	CollisionKeepFirst CollisionPolicy = "keep-first" // the first key stays, the others are reported
)

// ExistingRunPolicy: a run the target already holds (--on-existing-run).
type ExistingRunPolicy string

const (
	ExistingRunMerge ExistingRunPolicy = "merge" // add what the target lacks
	ExistingRunSkip  ExistingRunPolicy = "skip"  // leave it as it is
	ExistingRunFail  ExistingRunPolicy = "fail"  // stop the import
)

// ParamConflictPolicy: a merged run's param whose value in the target differs
// (--on-param-conflict); MLflow never changes a param.
type ParamConflictPolicy string

const (
	ParamConflictFail       ParamConflictPolicy = "fail"        // the run is invalid input
	ParamConflictKeepTarget ParamConflictPolicy = "keep-target" // the target's value stays, reported
)

// ModelConflictPolicy: a registered model whose name the target has, with a version or
// alias that differs (--on-model-conflict).
type ModelConflictPolicy string

const (
	ModelConflictFail       ModelConflictPolicy = "fail"        // stop the import
	ModelConflictKeepTarget ModelConflictPolicy = "keep-target" // keep the target's, import the rest
)

// Values list each policy's values, the default first.
func (CollisionPolicy) Values() []CollisionPolicy {
	return []CollisionPolicy{CollisionFail, CollisionKeepFirst}
}

func (ExistingRunPolicy) Values() []ExistingRunPolicy {
	return []ExistingRunPolicy{ExistingRunMerge, ExistingRunSkip, ExistingRunFail}
}

func (ParamConflictPolicy) Values() []ParamConflictPolicy {
	return []ParamConflictPolicy{ParamConflictFail, ParamConflictKeepTarget}
}

func (ModelConflictPolicy) Values() []ModelConflictPolicy {
	return []ModelConflictPolicy{ModelConflictFail, ModelConflictKeepTarget}
}
