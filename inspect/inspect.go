// Package inspect says what a source holds and what needs care before an import.
package inspect

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/mlflow-bulk/mlflow-bulk/importer/rules"
	"github.com/mlflow-bulk/mlflow-bulk/remedy"
	"github.com/mlflow-bulk/mlflow-bulk/schema"
	"github.com/mlflow-bulk/mlflow-bulk/sources"
)

// Inspection is what a source holds, read without a target.
type Inspection struct {
	Source      string           `json:"source"`
	Counts      map[string]int64 `json:"counts"`
	Experiments []InspectedExp   `json:"experiments"`
	// Evidence says which MLflow versions wrote the data, from what it contains.
	Evidence []string `json:"mlflow_version_evidence"`
	// Anomalies are what an import will have to handle: values over MLflow's limits,
	// ids that need mapping, keys that collide on case-insensitive databases, NaN.
	Anomalies []string `json:"anomalies"`
	Notes     []string `json:"notes"`
	// Workspaces lists the source's MLflow workspaces with what each holds; empty for a
	// source without workspaces.
	Workspaces []InspectedWorkspace `json:"workspaces"`
}

// InspectedWorkspace is one workspace of the source and what it holds.
type InspectedWorkspace struct {
	Name             string `json:"name"`
	Experiments      int64  `json:"experiments"`
	Runs             int64  `json:"runs"`
	RegisteredModels int64  `json:"registered_models"`
}

// InspectedExp is one experiment of the source.
type InspectedExp struct {
	ID             string            `json:"id"`
	Name           string            `json:"name"`
	LifecycleStage sources.Lifecycle `json:"lifecycle_stage"`
	Runs           int64             `json:"runs"`
	Workspace      string            `json:"workspace,omitempty"`
}

// maxAnomalies bounds the list; the rest are counted.
const maxAnomalies = 200

// Inspect reads a source through and describes it.
func Inspect(ctx context.Context, src sources.Source) (*Inspection, error) {
	ins := &inspector{
		in: &Inspection{Source: src.Describe(), Counts: map[string]int64{}, Experiments: []InspectedExp{}, Evidence: []string{}, Anomalies: []string{}, Notes: []string{},
			Workspaces: []InspectedWorkspace{}},
		evidence: map[string]bool{}, limits: schema.Newest().Limits(), metricKeys: map[string]bool{}, seenPoints: map[string]bool{}, models: map[string]int64{},
	}
	err := sources.Each(ctx, src, ins)
	return ins.finish(), err
}

// inspector accumulates an Inspection record by record.
type inspector struct {
	in        *Inspection
	evidence  map[string]bool
	limits    schema.ValueLimits
	anomalies int
	// metricKeys and seenPoints are the current run's, for histories and repeats.
	metricKeys, seenPoints map[string]bool
	// models counts registered models by workspace.
	models map[string]int64
}

func (ins *inspector) anomaly(format string, args ...any) {
	if ins.anomalies++; ins.anomalies <= maxAnomalies {
		ins.in.Anomalies = append(ins.in.Anomalies, fmt.Sprintf(format, args...))
	}
}

func (ins *inspector) Dataset(context.Context, *sources.Dataset) error {
	ins.in.Counts["datasets"]++
	ins.evidence["datasets: MLflow 2.4 or later"] = true
	return nil
}

func (ins *inspector) LoggedModel(context.Context, *sources.LoggedModel) error {
	ins.in.Counts["logged_models"]++
	return nil
}

func (ins *inspector) RegisteredModel(_ context.Context, r *sources.RegisteredModel) error {
	ins.in.Counts["registered_models"]++
	ins.models[r.Workspace]++
	ins.in.Counts["model_versions"] += int64(len(r.Versions))
	ins.in.Counts["model_aliases"] += int64(len(r.Aliases))
	return nil
}

func (ins *inspector) Trace(_ context.Context, r *sources.Trace) error {
	ins.in.Counts["traces"]++
	for _, t := range r.Tables {
		if t.Table == "assessments" {
			ins.in.Counts["assessments"] += int64(len(t.Rows))
		}
	}
	return nil
}

func (ins *inspector) TableChunk(_ context.Context, r *sources.TableChunk) error {
	ins.in.Counts[r.Table.Name] += int64(len(r.Rows))
	return nil
}

func (ins *inspector) Skipped(_ context.Context, r *sources.Skipped) error {
	ins.in.Counts["skipped"]++
	if len(ins.in.Notes) < maxAnomalies {
		ins.in.Notes = append(ins.in.Notes, r.Path+": "+r.Reason)
	}
	return nil
}

func (ins *inspector) Notice(_ context.Context, r *sources.Notice) error {
	ins.in.Notes = append(ins.in.Notes, r.Message)
	if strings.Contains(r.Message, "alembic revision") {
		ins.evidence[r.Message] = true
	}
	return nil
}

func (ins *inspector) Invalid(_ context.Context, r *sources.Invalid) error {
	ins.in.Counts["invalid"]++
	ins.anomaly("invalid input: %v", r.Err)
	return nil
}

func (ins *inspector) Experiment(_ context.Context, r *sources.Experiment) error {
	in := ins.in
	in.Counts["experiments"]++
	in.Counts["experiment_tags"] += int64(len(r.Tags))
	in.Experiments = append(in.Experiments, InspectedExp{ID: r.SourceID, Name: r.Name, LifecycleStage: r.LifecycleStage, Workspace: r.Workspace})
	if r.Workspace != "" {
		ins.evidence["workspaces: MLflow 3.10 or later"] = true
	}
	if id, err := strconv.ParseInt(r.SourceID, 10, 64); err == nil && id > math.MaxInt32 {
		ins.evidence["experiment ids of 18 digits: MLflow 2.0 or later (file store)"] = true
		ins.anomaly("experiment %s %q: its id does not fit PostgreSQL's or MySQL's INTEGER and gets a new one there", r.SourceID, r.Name)
	}
	if r.CreationTime != nil {
		ins.evidence["experiment creation times: MLflow 1.29 or later"] = true
	}
	if utf8.RuneCountInString(r.Name) > 256 {
		ins.anomaly("experiment %s: name of %d characters, over the column's 256", r.SourceID, utf8.RuneCountInString(r.Name))
	}
	if len(r.ArtifactLocation) > 256 {
		ins.anomaly("experiment %s: artifact location of %d characters, over the column's 256", r.SourceID, len(r.ArtifactLocation))
	}
	for _, t := range r.Tags {
		if n := utf8.RuneCountInString(t.Value); n > ins.limits.ExperimentTagValue {
			ins.anomaly("experiment %s: tag %q value of %d characters; MLflow refuses over %d", r.SourceID, t.Key, n, ins.limits.ExperimentTagValue)
		}
	}
	return nil
}

func (ins *inspector) Run(_ context.Context, r *sources.Run) error {
	in := ins.in
	in.Counts["runs"]++
	in.Counts["params"] += int64(len(r.Params))
	in.Counts["tags"] += int64(len(r.Tags))
	in.Counts["inputs"] += int64(len(r.Inputs))
	if r.LifecycleStage == sources.LifecycleDeleted {
		in.Counts["deleted_runs"]++
	}
	clear(ins.metricKeys)
	clear(ins.seenPoints)
	for i := range in.Experiments {
		if in.Experiments[i].ID == r.ExperimentSourceID {
			in.Experiments[i].Runs++
		}
	}
	if r.Name != "" && !r.Verbatim {
		ins.evidence["run names in run metadata: MLflow 1.30 or later"] = true
	}
	for _, input := range r.Inputs {
		if strings.HasPrefix(input.SourceType, "RUN_") {
			ins.evidence["logged-model inputs and outputs: MLflow 3"] = true
		}
	}
	if len(r.ArtifactURI) > 200 {
		ins.anomaly("run %s: artifact URI of %d characters, over the column's 200 (PostgreSQL and MySQL refuse it; "+remedy.Mention(rules.OptionArtifactMap)+" can shorten it)", r.RunID, len(r.ArtifactURI))
	}
	checkKeys(r, "param", r.Params, ins.limits.ParamValue, ins.limits.Truncates, ins.anomaly)
	checkKeys(r, "tag", r.Tags, ins.limits.TagValue, ins.limits.Truncates, ins.anomaly)
	return nil
}

func (ins *inspector) Metrics(_ context.Context, r *sources.Metrics) error {
	in := ins.in
	for _, p := range r.Points {
		in.Counts["metric_points"]++
		if math.IsNaN(p.Value) {
			in.Counts["nan_points"]++
		} else if math.IsInf(p.Value, 0) {
			in.Counts["infinite_points"]++
		}
		if !ins.metricKeys[p.Key] {
			ins.metricKeys[p.Key] = true
			in.Counts["metric_histories"]++
		}
		k := fmt.Sprint(p.Key, p.Timestamp, p.Step, p.Value)
		if ins.seenPoints[k] {
			in.Counts["duplicate_points"]++
		}
		ins.seenPoints[k] = true
	}
	return nil
}

func (ins *inspector) finish() *Inspection {
	in := ins.in
	if ins.anomalies > maxAnomalies {
		in.Anomalies = append(in.Anomalies, fmt.Sprintf("… and %d more", ins.anomalies-maxAnomalies))
	}
	if in.Counts["duplicate_points"] > 0 {
		in.Notes = append(in.Notes, fmt.Sprintf("%d metric points repeat another exactly; MLflow stores them once", in.Counts["duplicate_points"]))
	}
	for e := range ins.evidence {
		in.Evidence = append(in.Evidence, e)
	}
	sort.Strings(in.Evidence)
	in.Workspaces = ins.workspaces()
	return in
}

// workspaces sums what each workspace holds; none where the source has none.
func (ins *inspector) workspaces() []InspectedWorkspace {
	by := map[string]*InspectedWorkspace{}
	get := func(name string) *InspectedWorkspace {
		if by[name] == nil {
			by[name] = &InspectedWorkspace{Name: name}
		}
		return by[name]
	}
	for _, e := range ins.in.Experiments {
		if e.Workspace != "" {
			w := get(e.Workspace)
			w.Experiments++
			w.Runs += e.Runs
		}
	}
	for name, n := range ins.models {
		if name != "" {
			get(name).RegisteredModels += n
		}
	}
	out := []InspectedWorkspace{}
	for _, w := range by {
		out = append(out, *w)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// checkKeys reports values over MLflow's limits and keys that differ only in case or
// trailing spaces (one key on MySQL's usual collations).
func checkKeys(r *sources.Run, what string, kvs []sources.Tag, limit int, truncates bool, anomaly func(string, ...any)) {
	folded := map[string]string{}
	fold := schema.Collation{CaseInsensitive: true, PadSpace: true}
	for _, kv := range kvs {
		if n := utf8.RuneCountInString(kv.Value); n > limit {
			verb := "refuses"
			if truncates {
				verb = "truncates"
			}
			anomaly("run %s: %s %q value of %d characters; MLflow %s over %d", r.RunID, what, kv.Key, n, verb, limit)
		}
		f := fold.Fold(kv.Key)
		if other, ok := folded[f]; ok && other != kv.Key {
			anomaly("run %s: %s keys %q and %q are one key on MySQL/MariaDB's usual case-insensitive collations (see "+remedy.Mention(rules.OptionOnKeyCollision)+")", r.RunID, what, other, kv.Key)
		}
		folded[f] = kv.Key
	}
}
