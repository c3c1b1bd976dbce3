package importer

import (
	"context"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

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

// VerifyReport is the outcome of a verification.
type VerifyReport struct {
	Target     string   `json:"target"`
	Sources    []string `json:"sources"`
	Runs       int64    `json:"runs_checked"`
	MetricKeys int64    `json:"metric_histories_checked"`
	// Tables lists the tables checked and how many source rows each compared, beyond
	// the runs' own tables (runs, params, tags, metrics, latest_metrics), which always are.
	Tables []TableCheck `json:"tables_checked"`
	// NotChecked names what the sources held that verify does not compare.
	NotChecked []string `json:"not_checked"`
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
}

// TableCheck is one table verify compared row by row, by primary key.
type TableCheck struct {
	Table string `json:"table"`
	Rows  int64  `json:"rows"`
}

// maxDifferences bounds the list; verification goes on counting.
const maxDifferences = 10000

// Verify compares the target with the sources without changing anything: every run of
// the sources must be in the target with its params and tags and every point of its
// metric history (a digest per run and key says which histories differ), and the
// target's latest_metrics must be what MLflow's rule gives for the target's history.
// Values the import was entitled to change are accepted: truncation to the revision's
// limit, keys left out under keep-first collisions, and tags a merge kept.
// VerifyOptions mirror the import options that change where things go.
type VerifyOptions struct {
	// TargetExperiment: the runs were imported into the experiment of this name.
	TargetExperiment string
	// Filter: what the import left out is not looked for; renames are followed.
	Filter Filter
	// ArtifactMap: the import rewrote artifact locations with these mappings.
	ArtifactMap []ArtifactMapping
}

func Verify(ctx context.Context, sink sinks.Sink, srcs []sources.Source, opts VerifyOptions) (*VerifyReport, error) {
	started := time.Now()
	tx, err := sink.Begin(ctx)
	if err != nil {
		return nil, err
	}
	defer func() { _ = tx.Rollback(ctx) }() // read only: nothing to undo
	rev, err := schema.Detect(ctx, tx, sink.Dialect())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", sink.Describe(), err)
	}
	if rev == nil {
		return nil, fmt.Errorf("%s is empty: nothing to verify", sink.Describe())
	}
	collation, err := schema.KeyCollation(ctx, tx, sink.Dialect())
	if err != nil {
		return nil, err
	}
	tables, err := schema.Inspect(ctx, tx, sink.Dialect())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", sink.Describe(), err)
	}
	v := &verifier{tx: tx, dialect: sink.Dialect(), rev: rev, collation: collation, opts: opts, tables: tables, checked: map[string]int64{}, notChecked: map[string]bool{},
		report: &VerifyReport{Target: sink.Describe(), Differences: []Difference{}, Tables: []TableCheck{}, NotChecked: []string{}}}
	for _, src := range srcs {
		v.report.Sources = append(v.report.Sources, src.Describe())
		v.source = src.Describe()
		v.experiments = map[string]bool{}
		v.missingExperiment = map[string]bool{}
		v.expTarget = map[string]int64{}
		v.runExperiment = map[string]string{}
		v.sourceRuns = map[string]bool{}
		v.sameExperiments = map[int64]string{}
		if err := v.verifySource(ctx, src); err != nil {
			return v.report, err
		}
	}
	for _, name := range sortedKeys(v.checked) {
		v.report.Tables = append(v.report.Tables, TableCheck{Table: name, Rows: v.checked[name]})
	}
	v.report.NotChecked = append(v.report.NotChecked, sortedKeys(v.notChecked)...)
	v.report.Seconds = time.Since(started).Seconds()
	return v.report, nil
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
	opts        VerifyOptions
	tx          sinks.Tx
	dialect     schema.Dialect
	rev         *schema.Revision
	tables      map[string]*schema.TableInfo
	checked     map[string]int64 // rows compared per table copied as rows
	notChecked  map[string]bool
	expTarget   map[string]int64 // source experiment id -> the target's, by name
	collation   schema.Collation
	report      *VerifyReport
	source      string
	experiments map[string]bool // source experiment ids the target holds (by name)
	// missingExperiment: source experiments the target lacks (their runs are missing too)
	missingExperiment map[string]bool
	// runExperiment: the experiment each run of the source was first seen in
	runExperiment map[string]string
	// sourceRuns are every run id of the source, filtered or not; sameExperiments the
	// target's experiments that are the source's own, by id, with their names.
	sourceRuns      map[string]bool
	sameExperiments map[int64]string
	run             *verifyRun
}

type verifyRun struct {
	id          string
	missing     bool
	metricsOnly bool // a history only: the target may hold other keys
	// seen tells repeated points apart, as the import does; points sums up the
	// source's history per key.
	seen   *pointSet
	points map[string]*history
}

func (r *verifyRun) history(key string) *history {
	h := r.points[key]
	if h == nil {
		h = &history{}
		r.points[key] = h
	}
	return h
}

// history sums up a set of metric points in memory that does not grow with it: how
// many, a sum of two hashes of each (the same for the same set in any order), and the
// latest by MLflow's rule (the first of equal ones, in the order they came).
type history struct {
	n      int64
	h1, h2 uint64
	latest MetricPoint
}

func (h *history) add(p MetricPoint) {
	buf := make([]byte, 0, len(p.Key)+26)
	buf = append(append(buf, p.Key...), 0)
	buf = binary.LittleEndian.AppendUint64(buf, math.Float64bits(p.Value))
	buf = binary.LittleEndian.AppendUint64(buf, uint64(p.Timestamp))
	buf = binary.LittleEndian.AppendUint64(buf, uint64(p.Step))
	if p.IsNaN {
		buf = append(buf, 1)
	}
	a, b := fnv.New64a(), fnv.New64()
	_, _ = a.Write(buf) // a hash's writes cannot fail
	_, _ = b.Write(buf)
	h.n++
	h.h1 += a.Sum64()
	h.h2 += b.Sum64()
	if h.n == 1 || p.Supersedes(h.latest) {
		h.latest = p
	}
}

// digest is a short name of the set, for messages.
func (h *history) digest() string {
	if h == nil {
		return "none"
	}
	return fmt.Sprintf("%016x", h.h1^(h.h2<<1|h.h2>>63))[:12]
}

func (h *history) same(o *history) bool {
	return h != nil && o != nil && h.n == o.n && h.h1 == o.h1 && h.h2 == o.h2
}

func (v *verifier) differ(runID, kind, key, detail string) {
	if len(v.report.Differences) < maxDifferences {
		v.report.Differences = append(v.report.Differences, Difference{Source: v.source, RunID: runID, Kind: kind, Key: key, Detail: detail})
	}
}

func (v *verifier) verifySource(ctx context.Context, src sources.Source) error {
	if err := sources.Each(ctx, src, (*verifyHandler)(v)); err != nil {
		return err
	}
	if err := v.finishRun(ctx); err != nil {
		return err
	}
	return v.extraRuns(ctx)
}

// extraRuns reports the runs the target holds, in an experiment that is the source's
// own (the same creation time), that the source does not: added since, or deleted from
// the source. An experiment merged by name from elsewhere gathers other runs rightly.
func (v *verifier) extraRuns(ctx context.Context) error {
	for _, id := range sortedInt64Keys(v.sameExperiments) {
		err := schema.EachRow(ctx, v.tx, "SELECT run_uuid FROM runs WHERE experiment_id = ?", []any{id}, func(scan func(...any) error) error {
			var run string
			if err := scan(&run); err != nil {
				return err
			}
			if !v.sourceRuns[run] {
				v.differ(run, "run extra", "", fmt.Sprintf("experiment %d %q holds this run, which the source does not (added since, or deleted from the source)", id, v.sameExperiments[id]))
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("read the runs of experiment %d in the target: %w", id, err)
		}
	}
	return nil
}

func sortedInt64Keys[V any](m map[int64]V) []int64 {
	out := make([]int64, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// verifyHandler takes a source's records into the verification: a record other than a
// run's Metrics closes the run being compared.
type verifyHandler verifier

func (h *verifyHandler) v() *verifier { return (*verifier)(h) }

// afterRun finishes the run being compared, then does the rest.
func (h *verifyHandler) afterRun(ctx context.Context, then func() error) error {
	if err := h.v().finishRun(ctx); err != nil {
		return err
	}
	return then()
}

func (h *verifyHandler) Experiment(ctx context.Context, r *sources.Experiment) error {
	return h.afterRun(ctx, func() error { return h.v().experiment(ctx, r) })
}

func (h *verifyHandler) Dataset(ctx context.Context, r *sources.Dataset) error {
	return h.afterRun(ctx, func() error { return h.v().verifyRecordRows(ctx, datasetRows(r)) })
}

func (h *verifyHandler) Run(ctx context.Context, r *sources.Run) error {
	return h.afterRun(ctx, func() error { return h.v().startRun(ctx, r) })
}

func (h *verifyHandler) Metrics(_ context.Context, r *sources.Metrics) error {
	run := h.run
	if run == nil || run.id != r.RunID || run.missing {
		return nil
	}
	for _, p := range r.Points {
		value, isNaN := Sanitize(p.Value)
		// Each point once, as the import stores it, with the import's bounded memory.
		k := pointKey{key: p.Key, value: value, timestamp: p.Timestamp, step: p.Step, isNaN: isNaN}
		if run.seen.has(k) {
			continue
		}
		run.seen.add(k)
		run.history(p.Key).add(MetricPoint{Key: p.Key, Value: value, Timestamp: p.Timestamp, Step: p.Step, IsNaN: isNaN})
	}
	return nil
}

func (h *verifyHandler) LoggedModel(ctx context.Context, r *sources.LoggedModel) error {
	return h.afterRun(ctx, func() error {
		return h.v().verifyRecordRows(ctx, loggedModelRows(r, func(id string) bool { return h.v().runInTarget(ctx, id) }))
	})
}

func (h *verifyHandler) RegisteredModel(ctx context.Context, r *sources.RegisteredModel) error {
	return h.afterRun(ctx, func() error { return h.v().verifyRecordRows(ctx, registryRows(r)) })
}

func (h *verifyHandler) Trace(ctx context.Context, r *sources.Trace) error {
	if len(h.opts.ArtifactMap) > 0 {
		r = mapTraceArtifactTag(h.opts.ArtifactMap, r)
	}
	return h.afterRun(ctx, func() error {
		for _, t := range r.Tables {
			info := h.tables[t.Table]
			if info == nil {
				info = &schema.TableInfo{Name: t.Table}
			}
			if err := h.v().tableRows(ctx, info, t.Columns, t.Rows); err != nil {
				return err
			}
		}
		return nil
	})
}

func (h *verifyHandler) TableChunk(ctx context.Context, r *sources.TableChunk) error {
	return h.afterRun(ctx, func() error { return h.v().tableRows(ctx, r.Table, r.Columns, r.Rows) })
}

func (h *verifyHandler) Skipped(ctx context.Context, _ *sources.Skipped) error {
	return h.v().finishRun(ctx)
}

func (h *verifyHandler) Notice(ctx context.Context, _ *sources.Notice) error {
	return h.v().finishRun(ctx)
}

func (h *verifyHandler) Invalid(_ context.Context, r *sources.Invalid) error {
	h.v().differ(r.Err.RunID, "source invalid", "", r.Err.Error())
	return nil
}

func (v *verifier) experiment(ctx context.Context, e *sources.Experiment) error {
	if ok, _ := v.opts.Filter.takesExperiment(e); !ok {
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
	where := "name = ?"
	if v.rev.HasColumn("experiments", "workspace") {
		where += " AND workspace = 'default'"
	}
	var n, id int64
	err := schema.EachRow(ctx, v.tx, "SELECT experiment_id FROM experiments WHERE "+where, []any{e.Name}, func(scan func(...any) error) error {
		n++
		return scan(&id)
	})
	if err != nil {
		return fmt.Errorf("read experiments of the target: %w", err)
	}
	if n == 0 {
		v.missingExperiment[e.SourceID] = true
		v.differ("", "experiment missing", e.Name, fmt.Sprintf("experiment %s %q is not in the target", e.SourceID, e.Name))
		return nil
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
	err := schema.EachRow(ctx, v.tx, "SELECT lifecycle_stage, artifact_location, creation_time FROM experiments WHERE experiment_id = ?", []any{id},
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
	if mapped, ok := mapArtifact(v.opts.ArtifactMap, want); ok {
		want = mapped
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
	return schema.EachRow(ctx, v.tx, `SELECT "key" FROM experiment_tags WHERE experiment_id = ?`, []any{id}, func(scan func(...any) error) error {
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

func (v *verifier) startRun(ctx context.Context, r *sources.Run) error {
	v.sourceRuns[r.RunID] = true
	if !v.experiments[r.ExperimentSourceID] && !v.missingExperiment[r.ExperimentSourceID] || !v.opts.Filter.takesRun(r) {
		v.run = nil // left out by the import's filters
		return nil
	}
	if first, ok := v.runExperiment[r.RunID]; ok && first != r.ExperimentSourceID {
		v.run = nil // a second copy in another experiment, which the import rejects (and says so)
		return nil
	}
	v.runExperiment[r.RunID] = r.ExperimentSourceID
	v.report.Runs++
	v.run = &verifyRun{id: r.RunID, metricsOnly: r.MetricsOnly, seen: newPointSet(), points: map[string]*history{}}
	if len(r.Inputs) > 0 {
		v.notChecked["inputs and input tags (they name datasets by the target's ids)"] = true
	}
	var n int64
	err := schema.EachRow(ctx, v.tx, "SELECT COUNT(*) FROM runs WHERE run_uuid = ?", []any{r.RunID}, func(scan func(...any) error) error { return scan(&n) })
	if err != nil {
		return fmt.Errorf("read runs of the target: %w", err)
	}
	if n == 0 {
		v.run.missing = true
		v.differ(r.RunID, "run missing", "", "the run is not in the target")
		return nil
	}
	if err := v.runRow(ctx, r); err != nil {
		return err
	}
	limits := v.rev.Limits()
	_, expectedTags, _ := runNameAndTags(r) // the tags as the import writes them
	for _, set := range []struct {
		table, what string
		kvs         []sources.Tag
		limit       int
		mutable     bool
	}{{"params", "param", r.Params, limits.ParamValue, false}, {"tags", "tag", expectedTags, limits.TagValue, true}} {
		stored, err := v.keyValues(ctx, set.table, r.RunID)
		if err != nil {
			return err
		}
		inSource := map[string]bool{}
		for _, kv := range set.kvs {
			inSource[v.collation.Fold(kv.Key)] = true
		}
		// What the target holds of the run beyond the source: added since, or by hand.
		if !r.MetricsOnly {
			for folded, have := range stored {
				if !inSource[folded] {
					v.differ(r.RunID, set.what+" extra", have.key, fmt.Sprintf("the target has %s %q = %q, which the source does not", set.what, have.key, have.value))
				}
			}
		}
		for _, kv := range set.kvs {
			have, ok := stored[v.collation.Fold(kv.Key)]
			switch {
			case !ok:
				v.differ(r.RunID, set.what+" missing", kv.Key, fmt.Sprintf("%s %q is not in the target", set.what, kv.Key))
			case have.value == kv.Value:
			case limits.Truncates && utf8.RuneCountInString(kv.Value) > set.limit && have.value == truncateRunes(kv.Value, set.limit):
				v.report.Accepted.ValuesTruncated++ // truncated as that MLflow does
			case have.key != kv.Key:
				v.report.Accepted.KeysLeftOut++ // another key under the target's collation, kept first
			case set.mutable:
				v.differ(r.RunID, set.what+" differs", kv.Key, fmt.Sprintf("tag %q is %q in the target, %q in the source (an import keeps the target's tag values)", kv.Key, have.value, kv.Value))
			default:
				v.differ(r.RunID, set.what+" differs", kv.Key, fmt.Sprintf("param %q is %q in the target, %q in the source", kv.Key, have.value, kv.Value))
			}
		}
	}
	return nil
}

// runRow compares the target's runs row with the run as the import writes it: times,
// status, lifecycle, name, user, source fields, artifact location and experiment.
func (v *verifier) runRow(ctx context.Context, r *sources.Run) error {
	if r.MetricsOnly {
		return nil // a history: the import takes nothing else of the run from it
	}
	cols := []string{"experiment_id", "name", "user_id", "status", "start_time", "end_time", "lifecycle_stage", "artifact_uri",
		"source_type", "source_name", "entry_point_name", "source_version"}
	if v.rev.HasColumn("runs", "deleted_time") {
		cols = append(cols, "deleted_time")
	}
	name, _, _ := runNameAndTags(r)
	artifact := r.ArtifactURI
	if mapped, ok := mapArtifact(v.opts.ArtifactMap, artifact); ok {
		artifact = mapped
	}
	text := func(s string) string { return s }
	num := func(p *int64) string {
		if p == nil {
			return "NULL"
		}
		return strconv.FormatInt(*p, 10)
	}
	want := []string{strconv.FormatInt(v.expTarget[r.ExperimentSourceID], 10), text(name), text(r.UserID), string(r.Status), num(r.StartTime), num(r.EndTime),
		string(r.LifecycleStage), text(artifact), string(r.SourceType), text(r.SourceName), text(r.EntryPointName), text(r.SourceVersion), num(r.DeletedTime)}
	quoted := make([]string, len(cols))
	for i, c := range cols {
		quoted[i] = `"` + c + `"`
	}
	var got []string
	err := schema.EachRow(ctx, v.tx, "SELECT "+strings.Join(quoted, ", ")+" FROM runs WHERE run_uuid = ?", []any{r.RunID}, func(scan func(...any) error) error {
		dest := make([]any, len(cols))
		vals := make([]*string, len(cols))
		for i := range dest {
			dest[i] = &vals[i]
		}
		if err := scan(dest...); err != nil {
			return err
		}
		for _, val := range vals {
			if val == nil {
				got = append(got, "NULL")
			} else {
				got = append(got, *val)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("read run %s in the target: %w", r.RunID, err)
	}
	for i, c := range cols {
		if i < len(got) && got[i] != want[i] && (want[i] != "" || got[i] != "NULL") {
			v.differ(r.RunID, "run differs", c, fmt.Sprintf("runs.%s is %q in the target, %q in the source", c, got[i], want[i]))
		}
	}
	return nil
}

type storedValue struct{ key, value string }

func (v *verifier) keyValues(ctx context.Context, table, runID string) (map[string]storedValue, error) {
	out := map[string]storedValue{}
	err := schema.EachRow(ctx, v.tx, `SELECT "key", value FROM `+table+` WHERE run_uuid = ?`, []any{runID}, func(scan func(...any) error) error {
		var k string
		var val *string
		if err := scan(&k, &val); err != nil {
			return err
		}
		s := ""
		if val != nil {
			s = *val
		}
		out[v.collation.Fold(k)] = storedValue{k, s}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read %s of run %s in the target: %w", table, runID, err)
	}
	return out, nil
}

// finishRun checks the run's metric histories and the target's latest metrics for it.
func (v *verifier) finishRun(ctx context.Context) error {
	run := v.run
	v.run = nil
	if run == nil || run.missing {
		return nil
	}
	stored := map[string]*history{}
	err := schema.EachRow(ctx, v.tx, `SELECT "key", value, "timestamp", step, is_nan FROM metrics WHERE run_uuid = ?`, []any{run.id}, func(scan func(...any) error) error {
		var p MetricPoint
		if err := scan(&p.Key, &p.Value, &p.Timestamp, &p.Step, &p.IsNaN); err != nil {
			return err
		}
		h := stored[p.Key]
		if h == nil {
			h = &history{}
			stored[p.Key] = h
		}
		h.add(p)
		return nil
	})
	if err != nil {
		return fmt.Errorf("read metrics of run %s in the target: %w", run.id, err)
	}
	keys := make([]string, 0, len(run.points))
	for k := range run.points {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, key := range keys {
		v.report.MetricKeys++
		src, have := run.points[key], stored[key]
		if have == nil && !v.collation.Exact() && v.foldedKeyStored(key, stored) {
			v.report.Accepted.KeysLeftOut++ // left out as a collision under keep-first
			continue
		}
		var held int64
		if have != nil {
			held = have.n
		}
		digests := fmt.Sprintf("(source history digest %s, target %s)", src.digest(), have.digest())
		switch {
		case src.same(have):
		case held < src.n:
			v.differ(run.id, "metric points missing", key, fmt.Sprintf("the source has %d points, the target %d %s", src.n, held, digests))
		case held > src.n:
			v.differ(run.id, "metric points extra", key, fmt.Sprintf("the target has %d points, the source %d %s", held, src.n, digests))
		default:
			v.differ(run.id, "metric points differ", key, fmt.Sprintf("the target's %d points are not the source's %s", held, digests))
		}
	}
	if !run.metricsOnly {
		for key, h := range stored {
			if _, ok := run.points[key]; !ok && (v.collation.Exact() || !v.foldedKeyStored(key, run.points)) {
				v.differ(run.id, "metric key extra", key, fmt.Sprintf("the target has %d points of metric %q, which the source does not have", h.n, key))
			}
		}
	}
	if !v.rev.HasTable("latest_metrics") {
		return nil
	}
	return v.checkLatest(ctx, run.id, stored)
}

// checkLatest compares the target's latest_metrics of a run with MLflow's rule over the
// target's history. Equal (step, timestamp, value) tuples are a tie the history's order
// would decide, so either point is accepted there.
func (v *verifier) checkLatest(ctx context.Context, runID string, stored map[string]*history) error {
	latest := map[string]MetricPoint{}
	err := schema.EachRow(ctx, v.tx, `SELECT "key", value, "timestamp", step, is_nan FROM latest_metrics WHERE run_uuid = ?`, []any{runID}, func(scan func(...any) error) error {
		var p MetricPoint
		var ts *int64
		if err := scan(&p.Key, &p.Value, &ts, &p.Step, &p.IsNaN); err != nil {
			return err
		}
		if ts != nil {
			p.Timestamp = *ts
		}
		latest[p.Key] = p
		return nil
	})
	if err != nil {
		return fmt.Errorf("read latest_metrics of run %s in the target: %w", runID, err)
	}
	for key, h := range stored {
		best := h.latest
		got, ok := latest[key]
		switch {
		case !ok:
			v.differ(runID, "latest metric wrong", key, "latest_metrics has no row for a key with history")
		case got.Step != best.Step || got.Timestamp != best.Timestamp || got.Value != best.Value || got.IsNaN != best.IsNaN:
			v.differ(runID, "latest metric wrong", key, fmt.Sprintf("latest_metrics holds step %d time %d value %v is_nan %v; the history's latest is step %d time %d value %v is_nan %v",
				got.Step, got.Timestamp, got.Value, got.IsNaN, best.Step, best.Timestamp, best.Value, best.IsNaN))
		}
	}
	for key := range latest {
		if _, ok := stored[key]; !ok {
			v.differ(runID, "latest metric extra", key, "latest_metrics has a row for a key without history")
		}
	}
	return nil
}

// tableRows compares rows a source holds of a table (one copied as rows, or a trace's)
// with the target's, by primary key, after mapping experiment ids as the import did.
func (v *verifier) tableRows(ctx context.Context, info *schema.TableInfo, columns []string, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	target := v.tables[info.Name]
	if target == nil {
		v.differ("", "table missing", info.Name, fmt.Sprintf("the target has no table %s for %d rows of the source", info.Name, len(rows)))
		return nil
	}
	positions, names := writableColumns(target, columns)
	expCols := experimentColumns(info, columns)
	var want [][]any
	for _, row := range rows {
		mapped, ok := mapExperimentIDs(info.Name, columns, row, expCols, func(id string) (int64, bool) {
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
	key := keyColumns(target, names)
	held, err := readRowsByKey(ctx, v.tx, v.dialect, target, names, key, want)
	if err != nil {
		return fmt.Errorf("read the target: %w", err)
	}
	for _, row := range want {
		k := rowKey(row, key)
		got, ok := held[k]
		switch {
		case !ok:
			v.differ("", "row missing", info.Name, fmt.Sprintf("%s has no row with key %s", info.Name, strings.ReplaceAll(k, "\x1f", ", ")))
		case !sameRow(row, got):
			v.differ("", "row differs", info.Name, fmt.Sprintf("the row of %s with key %s differs from the source's", info.Name, strings.ReplaceAll(k, "\x1f", ", ")))
		}
	}
	v.checked[info.Name] += int64(len(want))
	return nil
}

func (v *verifier) foldedKeyStored(key string, stored map[string]*history) bool {
	for k := range stored {
		if k != key && v.collation.Fold(k) == v.collation.Fold(key) {
			return true
		}
	}
	return false
}
