// Package verify proves an import: it compares a target with the sources, read-only
// and both ways, accepting what the import's options accepted and saying so.
package verify

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/mlflow-bulk/mlflow-bulk/artifacts"
	"github.com/mlflow-bulk/mlflow-bulk/importer/rules"
	"github.com/mlflow-bulk/mlflow-bulk/schema/live"
	"github.com/mlflow-bulk/mlflow-bulk/tablerows"

	"github.com/mlflow-bulk/mlflow-bulk/schema"
	"github.com/mlflow-bulk/mlflow-bulk/sinks"
	"github.com/mlflow-bulk/mlflow-bulk/sources"
)

// Difference is one way the target does not hold what a source holds.
type Difference struct {
	Source string `json:"source"`
	RunID  string `json:"run_id,omitempty"`
	// Kind is one of: experiment missing, run missing, param missing, param differs,
	// tag missing, tag differs, metric points missing, latest metric wrong.
	Kind   string `json:"kind"`
	Key    string `json:"key,omitempty"`
	Detail string `json:"detail"`
}

// Report is the outcome of a verification.
type Report struct {
	Target     string   `json:"target"`
	Sources    []string `json:"sources"`
	Runs       int64    `json:"runs_checked"`
	MetricKeys int64    `json:"metric_histories_checked"`
	// ArtifactFiles counts the artifact files found the same at the target's locations
	// as in the sources (after --copy-artifacts).
	ArtifactFiles int64 `json:"artifact_files_checked,omitempty"`
	// Tables lists the tables checked and how many source rows each compared, beyond
	// the runs' own tables (runs, params, tags, metrics, latest_metrics), which always are.
	Tables []TableCheck `json:"tables_checked"`
	// NotChecked names what the sources held that verify does not compare.
	NotChecked []string `json:"not_checked"`
	// Notices are facts about the target that shaped the comparison (a revision judged
	// by what its tables hold).
	Notices []string `json:"notices,omitempty"`
	// RereadCanHelp: runs that differ are stamped in the target, so a nightly import
	// skips them unread while their files are unchanged (import --reread reads them).
	RereadCanHelp bool `json:"reread_can_help"`
	// Accepted counts what the target holds otherwise than the sources, the way the
	// import was entitled to: keys left out as another key under the target's collation
	// (--on-key-collision keep-first), and values cut to the revision's limit.
	Accepted    Accepted     `json:"accepted"`
	Differences []Difference `json:"differences"`
	Seconds     float64      `json:"seconds"`
}

// Accepted is what verify accepted as the import's own doing rather than a difference.
type Accepted struct {
	KeysLeftOut     int64 `json:"keys_left_out_by_collation"`
	ValuesTruncated int64 `json:"values_truncated"`
	// UnsupportedRows are rows of tables the target lacks (--skip-unsupported).
	UnsupportedRows int64 `json:"rows_of_unsupported_tables"`
	// ParamsKept are params whose target value the import kept (--on-param-conflict
	// keep-target).
	ParamsKept int64 `json:"params_kept_from_target"`
	// RegistryRowsKept are registry rows the import kept as the target had them
	// (--on-model-conflict keep-target).
	RegistryRowsKept int64 `json:"registry_rows_kept_from_target"`
	// InvalidLeftOut are what the sources hold that is invalid input, and runs the
	// import rejected, which it left out (--skip-invalid).
	InvalidLeftOut int64 `json:"invalid_left_out"`
}

// Total is how many things verify accepted.
func (a Accepted) Total() int64 {
	return a.KeysLeftOut + a.ValuesTruncated + a.UnsupportedRows + a.ParamsKept + a.RegistryRowsKept + a.InvalidLeftOut
}

// registryTables are the tables --on-model-conflict keep-target may leave as the
// target had them.
var registryTables = map[string]bool{"registered_models": true, "model_versions": true, "registered_model_tags": true, "model_version_tags": true, "registered_model_aliases": true}

// TableCheck is one table verify compared row by row, by primary key.
type TableCheck struct {
	Table string `json:"table"`
	Rows  int64  `json:"rows"`
}

// maxDifferences bounds the list; verification goes on counting.
const maxDifferences = 10000

// Options mirror the import options that change where things go.
type Options struct {
	// TargetExperiment: the runs were imported into the experiment of this name.
	TargetExperiment string
	// Filter: what the import left out is not looked for; renames are followed.
	Filter rules.Filter
	// ArtifactMap: the import rewrote artifact locations with these mappings.
	ArtifactMap []rules.ArtifactMapping
	// Workspace: the import put everything into this workspace (--workspace); empty,
	// each row kept its own.
	Workspace string
	// SkipUnsupported: the import left out rows of tables the target lacks.
	SkipUnsupported bool
	// OnModelConflict: with keep-target, the import kept the target's registry rows
	// where they differed from the source's.
	OnModelConflict rules.ModelConflictPolicy
	// OnParamConflict: with keep-target, the import kept the target's param values.
	OnParamConflict rules.ParamConflictPolicy
	// SkipInvalid: the import left out what the sources hold that cannot be read
	// (--skip-invalid); RejectedRuns are the runs it left out as invalid input (an
	// import with --verify knows them).
	SkipInvalid  bool
	RejectedRuns map[string]bool
	// CopyArtifacts: the import copied artifact files into this layout; their listings
	// are compared with the sources'.
	CopyArtifacts *artifacts.Layout
}

// Verify compares the target with the sources without changing anything: every run of
// the sources must be in the target with its params and tags and every point of its
// metric history (a digest per run and key says which histories differ), and the
// target's latest_metrics must be what MLflow's rule gives for the target's history.
// Values the import was entitled to change are accepted: truncation to the revision's
// limit, keys left out under keep-first collisions, and tags a merge kept.
func Verify(ctx context.Context, sink sinks.Sink, srcs []sources.Source, opts Options) (*Report, error) {
	started := time.Now()
	tx, err := sink.Begin(ctx)
	if err != nil {
		return nil, err
	}
	defer func() { _ = tx.Rollback(ctx) }() // read only: nothing to undo
	// A target at a revision mlflow-bulk does not know is judged by what its tables
	// hold, as the import wrote it.
	rev, tables, notes, err := live.DetectOrFit(ctx, tx, sink.Dialect())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", sink.Describe(), err)
	}
	if rev == nil {
		return nil, fmt.Errorf("%s is empty: nothing to verify", sink.Describe())
	}
	collation, err := live.KeyCollation(ctx, tx, sink.Dialect())
	if err != nil {
		return nil, err
	}
	v := &verifier{tx: tx, dialect: sink.Dialect(), rev: rev, collation: collation, opts: opts, tables: tables, checked: map[string]int64{}, notChecked: map[string]bool{},
		sourceRuns: map[string]bool{}, sameExperiments: map[int64]string{}, across: newAcrossSources(), owned: newOwnedEntities(), files: newArtifactFiles(opts.CopyArtifacts, srcs),
		report: &Report{Target: sink.Describe(), Differences: []Difference{}, Tables: []TableCheck{}, NotChecked: []string{}, Notices: notes}}
	defer v.files.close()
	for _, src := range srcs {
		v.report.Sources = append(v.report.Sources, src.Describe())
		v.source = src.Describe()
		v.experiments = map[string]bool{}
		v.missingExperiment = map[string]bool{}
		v.expTarget = map[string]int64{}
		v.expWorkspace = map[string]string{}
		v.datasetNames = map[string]string{}
		v.runExperiment = map[string]string{}
		if err := v.verifySource(ctx, src); err != nil {
			return v.report, err
		}
	}
	// Runs and keys are judged extra against every source at once: an import of
	// several sources merges them into one experiment, one run.
	if err := v.extraRuns(ctx); err != nil {
		return v.report, err
	}
	if err := v.extraEntities(ctx); err != nil {
		return v.report, err
	}
	if err := v.extraCopiedRows(ctx); err != nil {
		return v.report, err
	}
	v.reportExtras()
	if v.report.RereadCanHelp, err = v.stampedRunsDiffer(ctx); err != nil {
		return v.report, err
	}
	for _, name := range sortedKeys(v.checked) {
		v.report.Tables = append(v.report.Tables, TableCheck{Table: name, Rows: v.checked[name]})
	}
	v.report.NotChecked = append(v.report.NotChecked, sortedKeys(v.notChecked)...)
	if v.files != nil {
		v.report.ArtifactFiles = v.files.checked
	}
	v.report.Seconds = time.Since(started).Seconds()
	return v.report, nil
}

// stampedRunsDiffer tells whether a run that differs is one the target holds a stamp of:
// one a nightly import skips, unread, while its files are as they were.
func (v *verifier) stampedRunsDiffer(ctx context.Context) (bool, error) {
	var ids []any
	seen := map[string]bool{}
	for _, d := range v.report.Differences {
		if d.RunID != "" && !seen[d.RunID] {
			seen[d.RunID] = true
			ids = append(ids, d.RunID)
		}
	}
	if len(ids) == 0 {
		return false, nil
	}
	has, err := live.HasRunStamps(ctx, v.tx, v.dialect)
	if err != nil || !has {
		return false, err
	}
	for start := 0; start < len(ids); start += tablerows.MaxParams {
		part := ids[start:min(start+tablerows.MaxParams, len(ids))]
		query := fmt.Sprintf("SELECT COUNT(*) FROM %s WHERE run_uuid IN (%s)", schema.RunStampsTable, strings.TrimSuffix(strings.Repeat("?, ", len(part)), ", "))
		var n int64
		if err := live.EachRow(ctx, v.tx, query, part, func(scan func(...any) error) error { return scan(&n) }); err != nil {
			return false, fmt.Errorf("read %s: %w", schema.RunStampsTable, err)
		}
		if n > 0 {
			return true, nil
		}
	}
	return false, nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

type verifier struct {
	opts       Options
	tx         sinks.Tx
	dialect    schema.Dialect
	rev        *schema.Revision
	tables     map[string]*schema.TableInfo
	checked    map[string]int64 // rows compared per table copied as rows
	notChecked map[string]bool
	expTarget  map[string]int64 // source experiment id -> the target's, by name
	// expWorkspace is the target workspace of each source experiment ("" where the
	// target has none).
	expWorkspace map[string]string
	collation    schema.Collation
	report       *Report
	source       string
	experiments  map[string]bool // source experiment ids the target holds (by name)
	// missingExperiment: source experiments the target lacks (their runs are missing too)
	missingExperiment map[string]bool
	// runExperiment: the experiment each run of the source was first seen in
	runExperiment map[string]string
	// sourceRuns are every run id of the sources, filtered or not; sameExperiments the
	// target's experiments that are a source's own, by id, with their names.
	sourceRuns      map[string]bool
	sameExperiments map[int64]string
	run             *verifyRun
	// across settles what the target holds beyond a run of one source against the
	// others (extras.go).
	across *acrossSources
	// owned are the traces, logged models and datasets of the sources (scoped.go).
	owned ownedEntities
	// datasetNames: the source's datasets as inputs name them, by experiment and key.
	datasetNames map[string]string
	// files compares artifact files after --copy-artifacts (nil without it).
	files *artifactFiles
}

func (v *verifier) differ(runID, kind, key, detail string) {
	if len(v.report.Differences) < maxDifferences {
		v.report.Differences = append(v.report.Differences, Difference{Source: v.source, RunID: runID, Kind: kind, Key: key, Detail: detail})
	}
}

// leftOutRun accepts the absence of a run the import left out whole as invalid input:
// what was found missing of it is no difference, nor is what follows of it.
func (v *verifier) leftOutRun(runID string) {
	if runID == "" {
		return
	}
	kept := v.report.Differences[:0]
	for _, d := range v.report.Differences {
		if d.RunID != runID || d.Source != v.source {
			kept = append(kept, d)
		}
	}
	v.report.Differences = kept
	if v.run != nil && v.run.id == runID {
		v.run.missing = true
	}
}

func (v *verifier) verifySource(ctx context.Context, src sources.Source) error {
	if err := sources.Each(ctx, src, (*verifyHandler)(v)); err != nil {
		return err
	}
	return v.finishRun(ctx)
}

// extraRuns reports the runs the target holds, in an experiment that is a source's own
// (the same creation time), that no source does: added since, or deleted from the
// source. An experiment merged by name from elsewhere gathers other runs rightly.
func (v *verifier) extraRuns(ctx context.Context) error {
	extra := func(id int64, run string) {
		if !v.sourceRuns[run] {
			v.differ(run, "run extra", "", fmt.Sprintf("experiment %d %q holds this run, which no source does (added since, or deleted from the source)", id, v.sameExperiments[id]))
		}
	}
	if len(v.sameExperiments) > extraRunsByExperiment {
		// runs has no index on experiment_id: a look-up per experiment would read the
		// whole table each time, so many experiments are checked in one read of it.
		err := live.EachRow(ctx, v.tx, "SELECT experiment_id, run_uuid FROM runs ORDER BY experiment_id, run_uuid", nil, func(scan func(...any) error) error {
			var id int64
			var run string
			if err := scan(&id, &run); err != nil {
				return err
			}
			if _, ok := v.sameExperiments[id]; ok {
				extra(id, run)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("read the runs of the target: %w", err)
		}
		return nil
	}
	for _, id := range sortedInt64Keys(v.sameExperiments) {
		err := live.EachRow(ctx, v.tx, "SELECT run_uuid FROM runs WHERE experiment_id = ? ORDER BY run_uuid", []any{id}, func(scan func(...any) error) error {
			var run string
			if err := scan(&run); err != nil {
				return err
			}
			extra(id, run)
			return nil
		})
		if err != nil {
			return fmt.Errorf("read the runs of experiment %d in the target: %w", id, err)
		}
	}
	return nil
}

// extraRunsByExperiment is how many experiments are checked for extra runs one by one;
// past it, the target's runs are read once.
const extraRunsByExperiment = 64

func sortedInt64Keys[V any](m map[int64]V) []int64 {
	out := make([]int64, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// workspaceOf is the target workspace the import put a source's row of workspace
// source into (rules.TargetWorkspace).
func (v *verifier) workspaceOf(source string) string {
	return rules.TargetWorkspace(v.rev.HasColumn("experiments", "workspace"), v.opts.Workspace, source)
}

func (v *verifier) experiment(ctx context.Context, e *sources.Experiment) error {
	if ok, _ := v.opts.Filter.TakesExperiment(e); !ok {
		return nil
	}
	if newName, ok := v.opts.Filter.Rename[e.Name]; ok {
		renamed := *e
		renamed.Name = newName
		e = &renamed
	}
	if v.opts.TargetExperiment != "" {
		renamed := *e
		renamed.Name = v.opts.TargetExperiment
		e = &renamed
	}
	where, args := "name = ?", []any{e.Name}
	ws := v.workspaceOf(e.Workspace)
	if ws != "" {
		where += " AND workspace = ?"
		args = append(args, ws)
	}
	v.expWorkspace[e.SourceID] = ws
	var n, id int64
	var stored string
	err := live.EachRow(ctx, v.tx, "SELECT experiment_id, name FROM experiments WHERE "+where, args, func(scan func(...any) error) error {
		n++
		return scan(&id, &stored)
	})
	if err != nil {
		return fmt.Errorf("read experiments of the target: %w", err)
	}
	if n == 0 {
		v.missingExperiment[e.SourceID] = true
		v.differ("", "experiment missing", e.Name, fmt.Sprintf("experiment %s %q is not in the target", e.SourceID, e.Name))
		return nil
	}
	if stored != e.Name {
		// The import writes the source's name or stops: a collation that folds case
		// found one renamed since.
		v.differ("", "experiment differs", e.Name, fmt.Sprintf("experiment %d is named %q in the target, %q in the source", id, stored, e.Name))
	}
	v.experiments[e.SourceID] = true
	v.expTarget[e.SourceID] = id
	if err := v.experimentRow(ctx, e, id); err != nil {
		return err
	}
	tags := recordRows{table: "experiment_tags", columns: []string{"experiment_id", "key", "value"}}
	for _, t := range e.Tags {
		tags.rows = append(tags.rows, []any{e.SourceID, t.Key, t.Value})
	}
	return v.verifyRecordRows(ctx, []recordRows{tags})
}

// experimentRow compares an experiment's lifecycle and artifact location with the
// target's where the target's experiment is this one (the same creation time): one of
// another origin merged by name keeps its own, as the import does.
func (v *verifier) experimentRow(ctx context.Context, e *sources.Experiment, id int64) error {
	if v.opts.TargetExperiment != "" || !v.rev.HasColumn("experiments", "creation_time") {
		return nil
	}
	var stage, location *string
	var created *int64
	err := live.EachRow(ctx, v.tx, "SELECT lifecycle_stage, artifact_location, creation_time FROM experiments WHERE experiment_id = ?", []any{id},
		func(scan func(...any) error) error { return scan(&stage, &location, &created) })
	if err != nil {
		return fmt.Errorf("read experiment %d of the target: %w", id, err)
	}
	same := created == nil && e.CreationTime == nil || created != nil && e.CreationTime != nil && *created == *e.CreationTime
	if !same || id == 0 && e.CreationTime == nil {
		return nil // another experiment of that name, or the Default every store shares
	}
	if e.CreationTime != nil && id != 0 {
		// Its runs are the source's, so extra ones are differences; never the Default's,
		// which every store shares.
		v.sameExperiments[id] = e.Name
	}
	want := e.ArtifactLocation
	if mapped, ok := rules.MapArtifact(v.opts.ArtifactMap, want); ok {
		want = mapped
	}
	want, _ = rules.WorkspaceArtifact(want, v.expWorkspace[e.SourceID])
	if v.files != nil {
		want = v.files.experimentLocation(v.expWorkspace[e.SourceID], id)
	}
	deref := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	if got := deref(stage); got != string(e.LifecycleStage) {
		v.differ("", "experiment differs", e.Name, fmt.Sprintf("experiment %d %q is %s in the target, %s in the source", id, e.Name, got, e.LifecycleStage))
	}
	if got := deref(location); got != want {
		v.differ("", "experiment differs", e.Name, fmt.Sprintf("experiment %d %q has artifact location %q in the target, %q in the source", id, e.Name, got, want))
	}
	if !v.rev.HasTable("experiment_tags") {
		return nil
	}
	inSource := map[string]bool{}
	for _, t := range e.Tags {
		inSource[v.collation.Fold(t.Key)] = true
	}
	return live.EachRow(ctx, v.tx, `SELECT "key" FROM experiment_tags WHERE experiment_id = ?`, []any{id}, func(scan func(...any) error) error {
		var k string
		if err := scan(&k); err != nil {
			return err
		}
		if !inSource[v.collation.Fold(k)] {
			v.differ("", "experiment tag extra", k, fmt.Sprintf("experiment %d %q has tag %q in the target, which the source does not", id, e.Name, k))
		}
		return nil
	})
}

// tableRows compares rows a source holds of a table (one copied as rows, or a trace's)
// with the target's, by primary key, after mapping experiment ids as the import did.
func (v *verifier) tableRows(ctx context.Context, info *schema.TableInfo, columns []string, rows [][]any) error {
	return v.tableRowsIn(ctx, info, columns, rows, nil)
}

// tableRowsIn is tableRows that also reports the target's rows in sc (the rows an entity
// of the source owns) that the source does not hold.
func (v *verifier) tableRowsIn(ctx context.Context, info *schema.TableInfo, columns []string, rows [][]any, sc *scope) error {
	if len(rows) == 0 {
		if target := v.tables[info.Name]; sc != nil && target != nil && len(target.PrimaryKey) > 0 {
			key := make([]int, len(target.PrimaryKey))
			for i := range key {
				key[i] = i
			}
			held, err := v.scopedRows(ctx, target, target.PrimaryKey, key, *sc)
			if err != nil {
				return fmt.Errorf("read the target: %w", err)
			}
			v.scopedExtras(target, key, nil, held, *sc)
		}
		return nil
	}
	target := v.tables[info.Name]
	if target == nil {
		if v.opts.SkipUnsupported {
			v.report.Accepted.UnsupportedRows += int64(len(rows))
			return nil
		}
		v.differ("", "table missing", info.Name, fmt.Sprintf("the target has no table %s for %d rows of the source", info.Name, len(rows)))
		return nil
	}
	positions, names := tablerows.WritableColumns(target, columns)
	expCols := tablerows.ExperimentColumns(info, columns)
	var want [][]any
	for _, row := range rows {
		mapped, ok := tablerows.MapExperimentIDs(info.Name, columns, row, expCols, func(id string) (int64, bool) {
			target, ok := v.expTarget[id]
			return target, ok
		})
		if !ok {
			continue // an experiment left out by the filters, or missing (reported as such)
		}
		picked := make([]any, len(positions))
		for j, i := range positions {
			picked[j] = mapped[i]
		}
		want = append(want, picked)
	}
	key := tablerows.KeyColumns(target, names)
	// In a scope (the rows an entity owns), one read serves both ways.
	var held map[string][]any
	var err error
	if sc != nil {
		held, err = v.scopedRows(ctx, target, names, key, *sc)
	} else {
		held, err = tablerows.ReadRowsByKey(ctx, v.tx, v.dialect, target, names, key, want)
	}
	if err != nil {
		return fmt.Errorf("read the target: %w", err)
	}
	for _, row := range want {
		k := tablerows.RowKey(row, key)
		got, ok := held[k]
		switch {
		case !ok:
			v.differ("", "row missing", info.Name, fmt.Sprintf("%s has no row with key %s", info.Name, strings.ReplaceAll(k, "\x1f", ", ")))
			continue
		case !tablerows.SameRow(row, got) && registryTables[info.Name] && v.opts.OnModelConflict == rules.ModelConflictKeepTarget:
			v.report.Accepted.RegistryRowsKept++
		case !tablerows.SameRow(row, got):
			v.differ("", "row differs", info.Name, fmt.Sprintf("the row of %s with key %s differs from the source's", info.Name, strings.ReplaceAll(k, "\x1f", ", ")))
		}
		if sc == nil {
			v.noteCopied(target, names, key, k)
		}
	}
	v.checked[info.Name] += int64(len(want))
	if sc != nil {
		v.scopedExtras(target, key, want, held, *sc)
	}
	return nil
}
