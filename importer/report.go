package importer

import (
	"sort"
	"time"

	"github.com/mlflow-bulk/mlflow-bulk/importer/rules"

	"github.com/mlflow-bulk/mlflow-bulk/sources"
)

// entity is an entity the report counts, in report order; tables copied as rows are
// counted beside them by table name.
type entity int

const (
	entityExperiments entity = iota
	entityExperimentTags
	entityDatasets
	entityRuns
	entityParams
	entityTags
	entityMetrics
	entityLatestMetrics
	entityInputs
	entityInputTags
	entityLoggedModels
	entityRegisteredModels
	entityModelVersions
	entityModelAliases
	entityTraces
	entityAssessments
	numEntities
)

// entityNames are the entities' names in the report.
var entityNames = [numEntities]string{
	"experiments", "experiment_tags", "datasets", "runs", "params", "tags",
	"metrics", "latest_metrics", "inputs", "input_tags",
	"logged_models", "registered_models", "model_versions", "model_aliases", "traces", "assessments",
}

func (e entity) String() string { return entityNames[e] }

// Count tallies one entity. Read counts what the sources held; Created rows were
// written; Merged source items went into something the target already had; Skipped
// were not written on purpose (already present, duplicates, or not representable in
// the target); Rejected were invalid input.
type Count struct {
	Read     int64 `json:"read"`
	Created  int64 `json:"created"`
	Merged   int64 `json:"merged"`
	Skipped  int64 `json:"skipped"`
	Rejected int64 `json:"rejected"`
}

func (c *Count) add(o Count) {
	c.Read += o.Read
	c.Created += o.Created
	c.Merged += o.Merged
	c.Skipped += o.Skipped
	c.Rejected += o.Rejected
}

// EntityCount is the Count of one entity, for ordered output.
type EntityCount struct {
	Entity string `json:"entity"`
	Count
}

// ExperimentMapping says where one source experiment went.
type ExperimentMapping struct {
	Source   string `json:"source"`
	SourceID string `json:"source_id"`
	Name     string `json:"name"`
	TargetID int64  `json:"target_id"`
	// Action is "created" or "merged" (into an experiment of the same name).
	Action string `json:"action"`
	// IDChanged is set when the experiment could not keep its source id.
	IDChanged bool `json:"id_changed"`
	// Workspace is the target workspace, empty where the target has none.
	Workspace string `json:"workspace,omitempty"`
}

// LatestDifference is one run and key whose source latest metric differs from the
// recomputed one.
type LatestDifference struct {
	Source      string            `json:"source"`
	RunID       string            `json:"run_id"`
	Key         string            `json:"key"`
	SourceValue rules.MetricPoint `json:"source_value"`
	Recomputed  rules.MetricPoint `json:"recomputed"`
	// InHistory is false when the run has no history for the key at all.
	InHistory bool `json:"in_history"`
}

// UnsupportedData is a table or column of a source that the target lacks.
type UnsupportedData struct {
	Source string `json:"source"`
	sources.Unsupported
}

// Note is something passed over, with the reason.
type Note struct {
	Source string `json:"source"`
	Path   string `json:"path"`
	Reason string `json:"reason"`
	// RunID is the run a rejection left out, where it is one run.
	RunID string `json:"run_id,omitempty"`
}

// RejectedRuns are the ids of the runs the import left out as invalid input.
func (r *Report) RejectedRuns() map[string]bool {
	out := map[string]bool{}
	for _, n := range r.Rejected {
		if n.RunID != "" {
			out[n.RunID] = true
		}
	}
	return out
}

// maxNotes bounds the notes kept in a report; the rest are only counted.
const maxNotes = 1000

// Report is the outcome of an import.
type Report struct {
	Target        string `json:"target"`
	Revision      string `json:"revision"`
	SchemaCreated bool   `json:"schema_created"`
	// KeysFinished: an earlier import into this new database stopped before it built
	// metrics' keys and indexes, and this one built them.
	KeysFinished bool                `json:"keys_finished,omitempty"`
	Sources      []string            `json:"sources"`
	Counts       []EntityCount       `json:"counts"`
	Experiments  []ExperimentMapping `json:"experiment_ids"`
	Skipped      []Note              `json:"skipped"`
	SkippedMore  int                 `json:"skipped_not_listed,omitempty"`
	Rejected     []Note              `json:"rejected"`
	// LatestMetricDifferences lists where a source's own latest_metrics disagreed with
	// the one recomputed from its history; the recomputed one was written.
	LatestMetricDifferences []LatestDifference `json:"latest_metric_differences"`
	// Unsupported lists data of the sources the target has no table or column for, left
	// out under --skip-unsupported (without it the import stops before writing).
	Unsupported []UnsupportedData `json:"unsupported"`
	// Notices are facts about the target that shaped the import (a slower write path, a
	// collation that merges keys).
	Notices []string `json:"notices"`
	// Artifacts says what the artifact copy did, when there was one.
	Artifacts *ArtifactsReport `json:"artifacts,omitempty"`
	// UnchangedRuns counts the runs skipped unread, as the target took them (--reread).
	UnchangedRuns int64 `json:"unchanged_runs"`
	// CreatedRuns and MergedRuns are the ids of the runs the import created and merged
	// into, the first maxRunIDs of them; RunIDsNotListed counts the others.
	CreatedRuns     []string `json:"created_run_ids"`
	MergedRuns      []string `json:"merged_run_ids"`
	RunIDsNotListed int64    `json:"run_ids_not_listed,omitempty"`
	Seconds         float64  `json:"seconds"`
	// Complete is false when the import stopped early; counts are what was committed.
	Complete bool `json:"complete"`
	// DryRun: nothing was written; the counts are what the import would have done.
	DryRun bool `json:"dry_run"`
}

// Count returns the tally of one entity.
func (r *Report) Count(entity string) Count {
	for _, c := range r.Counts {
		if c.Entity == entity {
			return c.Count
		}
	}
	return Count{}
}

// NothingNew reports whether the import wrote no rows at all.
func (r *Report) NothingNew() bool {
	for _, c := range r.Counts {
		if c.Created > 0 {
			return false
		}
	}
	return !r.SchemaCreated
}

// maxRunIDs bounds the run ids a report lists, so that its memory does not grow with
// the input.
const maxRunIDs = 10_000

// addRunIDs lists committed runs, up to maxRunIDs.
func (r *Report) addRunIDs(created, merged []string) {
	for _, l := range []struct {
		ids  []string
		into *[]string
	}{{created, &r.CreatedRuns}, {merged, &r.MergedRuns}} {
		for _, id := range l.ids {
			if len(r.CreatedRuns)+len(r.MergedRuns) >= maxRunIDs {
				r.RunIDsNotListed++
				continue
			}
			*l.into = append(*l.into, id)
		}
	}
}

// tally is a set of counts being accumulated: one per entity, and one per table copied
// as rows.
type tally struct {
	entities [numEntities]Count
	tables   map[string]*Count
}

func newTally() *tally { return &tally{tables: map[string]*Count{}} }

// of is the count of an entity.
func (t *tally) of(e entity) *Count { return &t.entities[e] }

// table is the count of a table copied as rows, added when first asked for.
func (t *tally) table(name string) *Count {
	c, ok := t.tables[name]
	if !ok {
		c = &Count{}
		t.tables[name] = c
	}
	return c
}

func (t *tally) merge(o *tally) {
	for e := range o.entities {
		t.entities[e].add(o.entities[e])
	}
	for name, c := range o.tables {
		t.table(name).add(*c)
	}
}

func (t *tally) reset() {
	t.entities = [numEntities]Count{}
	for _, c := range t.tables {
		*c = Count{}
	}
}

// ordered is the report's counts: the entities in their order, then the tables copied as
// rows by name.
func (t *tally) ordered() []EntityCount {
	out := make([]EntityCount, 0, int(numEntities)+len(t.tables))
	for e := range numEntities {
		out = append(out, EntityCount{Entity: e.String(), Count: t.entities[e]})
	}
	names := make([]string, 0, len(t.tables))
	for name := range t.tables {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		out = append(out, EntityCount{Entity: name, Count: *t.tables[name]})
	}
	return out
}

func (r *Report) finish(committed *tally, started time.Time, complete bool) {
	r.Counts = committed.ordered()
	r.Seconds = time.Since(started).Seconds()
	r.Complete = complete
	if a := r.Artifacts; a != nil && r.Seconds > 0 {
		a.BytesPerSecond = int64(float64(a.Bytes) / r.Seconds)
	}
}
