package rules

import (
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/mlflow-bulk/mlflow-bulk/remedy"
	"github.com/mlflow-bulk/mlflow-bulk/schema"
	"github.com/mlflow-bulk/mlflow-bulk/sources"
)

// Assembler turns what a source holds into the rows the target takes, by MLflow's
// rules at the target's revision: a param never changes, run tags are last-write-wins,
// the run's name and its mlflow.runName tag agree, values over MLflow's limits are cut
// or refused as that MLflow does, keys the target's collation makes one follow the
// collision policy, and what the target's columns cannot store is refused by name. It
// reads no database, so every rule is tested without one (assemble_test.go).
type Assembler struct {
	Rev        *schema.Revision
	Db         *schema.Database
	Collation  schema.Collation
	Collisions CollisionPolicy
	// Fold is what the target compares a key as (the database's own answer, see
	// collation.go); nil folds by the collation's case and space rules alone.
	Fold func(string) string
}

// AssembledRun is a run as the target takes it, with what was changed on the way.
type AssembledRun struct {
	Row          RunRow
	Params, Tags []sources.Tag
	// Notes are lines for the report (values cut, keys left out); dropped counts the
	// params and tags left out as collisions.
	Notes                      []runNote
	DroppedParams, DroppedTags int64
}

func (a Assembler) Policy() CollisionPolicy {
	if a.Collisions == "" {
		return CollisionFail
	}
	return a.Collisions
}

// Run assembles a Run's row, params and tags; an error is invalid input of the Run.
func (a Assembler) Run(r *sources.Run, expID int64) (AssembledRun, error) {
	out := AssembledRun{Row: RunRow{
		RunUUID: r.RunID, Name: r.Name, SourceType: string(r.SourceType), SourceName: r.SourceName,
		EntryPointName: r.EntryPointName, UserID: r.UserID, Status: string(r.Status),
		SourceVersion: r.SourceVersion, LifecycleStage: string(r.LifecycleStage), ArtifactURI: r.ArtifactURI,
		StartTime: r.StartTime, EndTime: r.EndTime, DeletedTime: r.DeletedTime, ExperimentID: expID,
	}}
	params := make([]sources.Tag, 0, len(r.Params))
	seenParams := make(map[string]string, len(r.Params))
	for _, p := range r.Params {
		if old, ok := seenParams[p.Key]; ok {
			if old != p.Value {
				return out, fmt.Errorf("param %q has two values (%q and %q); MLflow never changes a param", p.Key, old, p.Value)
			}
			continue
		}
		seenParams[p.Key] = p.Value
		params = append(params, p)
	}
	limits := a.Rev.Limits()
	if err := a.limitValues(r, "param", params, limits.ParamValue, &out.Notes); err != nil {
		return out, err
	}
	params, dropped, err := a.dropCollisions(r, "param", params, &out.Notes)
	if err != nil {
		return out, err
	}
	out.Params, out.DroppedParams = params, dropped
	name, tags, replaced := RunNameAndTags(r)
	out.Row.Name = name
	if replaced != nil {
		out.Notes = append(out.Notes, runNote{keyFile(r, "tags", runNameTag), fmt.Sprintf("run %s: tag %s %q replaced by the run's name %q: MLflow keeps the two equal and shows the name", r.RunID, runNameTag, replaced.Value, out.Row.Name)})
	}
	if err := a.limitValues(r, "tag", tags, limits.TagValue, &out.Notes); err != nil {
		return out, err
	}
	tags, dropped, err = a.dropCollisions(r, "tag", tags, &out.Notes)
	out.Tags, out.DroppedTags = tags, dropped
	if err != nil {
		return out, err
	}
	return out, a.checkRun(out.Row, out.Params, out.Tags)
}

// RunNameAndTags is a run's name and its tags as MLflow keeps them: the tags once per
// key (the last value of a repeated key), and the mlflow.runName tag equal to the name.
// Runs before MLflow 1.30 keep their name only in the tag, later ones in both; where the
// two differ (exports can), MLflow shows the name, as its stores read it, and the tag
// follows it: replaced is the tag's value that gave way. Rows MLflow wrote itself (a
// database source) are copied as they are.
func RunNameAndTags(r *sources.Run) (name string, tags []sources.Tag, replaced *sources.Tag) {
	name = r.Name
	tags = make([]sources.Tag, 0, len(r.Tags)+1)
	tagIndex := make(map[string]int, len(r.Tags))
	for _, t := range r.Tags {
		if i, ok := tagIndex[t.Key]; ok {
			tags[i].Value = t.Value
			continue
		}
		tagIndex[t.Key] = len(tags)
		tags = append(tags, t)
	}
	if r.Verbatim {
		return name, tags, nil
	}
	i, ok := tagIndex[runNameTag]
	switch {
	case ok && name == "":
		name = tags[i].Value
	case ok && tags[i].Value != name:
		was := tags[i]
		replaced = &was
		tags[i].Value = name
	case !ok && name != "":
		tags = append(tags, sources.Tag{Key: runNameTag, Value: name})
	}
	return name, tags, replaced
}

// limitValues applies MLflow's value limit of the target's revision, on every database:
// values over it are cut where that MLflow truncates (2.11 and later) and noted,
// otherwise the run is invalid, as MLflow would have refused them.
func (a Assembler) limitValues(r *sources.Run, what string, kvs []sources.Tag, limit int, notes *[]runNote) error {
	truncates := a.Rev.Limits().Truncates
	for i, kv := range kvs {
		if len(kv.Value) <= limit {
			continue
		}
		n := utf8.RuneCountInString(kv.Value)
		if n <= limit {
			continue
		}
		if !truncates {
			return &keyValueError{table: what + "s", key: kv.Key,
				err: fmt.Errorf("%s %q value is %d characters; MLflow at revision %s refuses values over %d", what, kv.Key, n, a.Rev, limit)}
		}
		kvs[i].Value = TruncateRunes(kv.Value, limit)
		*notes = append(*notes, runNote{keyFile(r, what+"s", kv.Key), fmt.Sprintf("run %s: %s %q value truncated from %d to %d characters, as MLflow at revision %s does", r.RunID, what, kv.Key, n, limit, a.Rev)})
	}
	return nil
}

// TruncateRunes cuts s to n characters (Python counts code points, as this does).
func TruncateRunes(s string, n int) string {
	i := 0
	for pos := range s {
		if i == n {
			return s[:pos]
		}
		i++
	}
	return s
}

// dropCollisions applies the key-collision policy to a run's params or tags; it returns
// the keys kept and how many were left out.
func (a Assembler) dropCollisions(r *sources.Run, what string, kvs []sources.Tag, notes *[]runNote) ([]sources.Tag, int64, error) {
	if a.Collation.Exact() {
		return kvs, 0, nil
	}
	seen := make(map[string]string, len(kvs))
	kept := kvs[:0]
	var dropped int64
	for _, kv := range kvs {
		first := a.KeyCollision(seen, kv.Key)
		if first == "" {
			kept = append(kept, kv)
			continue
		}
		if a.Policy() != CollisionKeepFirst {
			return nil, dropped, a.CollisionError(what, first, kv.Key)
		}
		dropped++
		*notes = append(*notes, runNote{keyFile(r, what+"s", kv.Key), fmt.Sprintf("run %s: %s %q left out: it is the same key as %q under the target's collation %s", r.RunID, what, kv.Key, first, a.Collation.Name)})
	}
	return kept, dropped, nil
}

// KeyCollision checks key against the keys seen so far (folded key -> kept key) under
// the target's collation. It returns the earlier key it collides with, or "".
func (a Assembler) KeyCollision(seen map[string]string, key string) string {
	if a.Collation.Exact() {
		return ""
	}
	folded := a.Collation.Fold(key)
	if a.Fold != nil {
		folded = a.Fold(key)
	}
	if first, ok := seen[folded]; ok && first != key {
		return first
	}
	seen[folded] = key
	return ""
}

// CollisionError is the message for colliding keys under the fail policy.
func (a Assembler) CollisionError(what, first, later string) error {
	return remedy.With(fmt.Errorf("%s keys %q and %q are one key under the target's collation %s", what, first, later, a.Collation.Name),
		remedy.Remedy{Option: OptionOnKeyCollision, Value: string(CollisionKeepFirst), Does: fmt.Sprintf("to keep %q and leave %q out", first, later)})
}

// checkRun rejects values the target cannot store, naming the run's field.
func (a Assembler) checkRun(row RunRow, params, tags []sources.Tag) error {
	fields := []struct{ column, value string }{
		{"run_uuid", row.RunUUID}, {"name", row.Name}, {"source_type", row.SourceType},
		{"source_name", row.SourceName}, {"entry_point_name", row.EntryPointName},
		{"user_id", row.UserID}, {"status", row.Status}, {"source_version", row.SourceVersion},
		{"lifecycle_stage", row.LifecycleStage}, {"artifact_uri", row.ArtifactURI},
	}
	for _, f := range fields {
		if err := a.CheckText("runs", f.column, f.column, f.value); err != nil {
			return err
		}
	}
	for _, set := range []struct {
		table, what string
		kvs         []sources.Tag
	}{{"params", "param", params}, {"tags", "tag", tags}} {
		for _, kv := range set.kvs {
			if err := a.CheckText(set.table, "key", set.what+" key "+strconv.Quote(kv.Key), kv.Key); err != nil {
				return &keyValueError{table: set.table, key: kv.Key, err: err}
			}
			if err := a.CheckText(set.table, "value", set.what+" "+strconv.Quote(kv.Key)+" value", kv.Value); err != nil {
				return &keyValueError{table: set.table, key: kv.Key, err: err}
			}
		}
	}
	return nil
}

// keyValueError is a run's param or tag that cannot be imported, for naming the file
// that holds it where the source has one file per key.
type keyValueError struct {
	table, key string // "params" or "tags", and the key
	err        error
}

func (e *keyValueError) Error() string { return e.err.Error() }
func (e *keyValueError) Unwrap() error { return e.err }

// RunInputError is invalid input of a run: it names the param or tag file at fault
// where the source keeps one file per key, the run's own file otherwise.
func RunInputError(r *sources.Run, err error) *sources.InputError {
	file := r.Origin.File
	var kv *keyValueError
	if errors.As(err, &kv) && r.KeyFolder != "" {
		file = filepath.Join(r.KeyFolder, kv.table, filepath.FromSlash(kv.key))
	}
	return &sources.InputError{File: file, RunID: r.RunID, Err: err}
}

// CheckText enforces what the target cannot store: values wider than the column on
// databases that refuse them (never cut silently), and what checkValue refuses.
func (a Assembler) CheckText(table, column, what, value string) error {
	if max := a.Rev.MaxChars(table, column); max > 0 && a.Db.EnforcesWidths && len(value) > max {
		if n := utf8.RuneCountInString(value); n > max {
			return fmt.Errorf("%s is %d characters; %s.%s holds %d at revision %s", what, n, table, column, max, a.Rev.ID)
		}
	}
	return a.CheckValue(what, value)
}

// CheckValue refuses text no target should get, alike on every database: bytes that are
// not UTF-8 (MLflow reads and writes text as UTF-8; MariaDB would turn them into '?',
// PostgreSQL refuse them with a message naming no input), and NUL characters where the
// database cannot hold them. Values other than strings pass.
func (a Assembler) CheckValue(what string, v any) error {
	s, ok := v.(string)
	if !ok {
		return nil
	}
	if !utf8.ValidString(s) {
		at := 0
		for at < len(s) {
			r, size := utf8.DecodeRuneInString(s[at:])
			if r == utf8.RuneError && size <= 1 {
				break
			}
			at += size
		}
		return fmt.Errorf("%s is not UTF-8 (byte 0x%02x at offset %d); MLflow keeps text as UTF-8, so fix the input's encoding", what, s[at], at)
	}
	if a.Db.RejectsNUL && strings.IndexByte(s, 0) >= 0 {
		return fmt.Errorf("%s contains a NUL character, which %s cannot store", what, a.Db.Name)
	}
	return nil
}

// CheckRecord checks every text of a record (a logged model, a registered model, a
// dataset) with CheckValue, naming the field of the first it refuses.
func (a Assembler) CheckRecord(what string, record any) error {
	return sources.EachText(what, record, func(path, text string) error { return a.CheckValue(path, text) })
}

// CheckRow checks every value of a row copied as it is (a table without rules, a
// trace's rows); what names the row.
func (a Assembler) CheckRow(what string, columns []string, row []any) error {
	for i, v := range row {
		if i < len(columns) {
			if err := a.CheckValue(what+" column "+columns[i], v); err != nil {
				return err
			}
		}
	}
	return nil
}

// runNote is a line of the report about one run, with the file it is about.
type runNote struct{ Path, Text string }

// keyFile is the file of a run's param or tag where the source keeps one per key (a
// file store), "" elsewhere.
func keyFile(r *sources.Run, table, key string) string {
	if r.KeyFolder == "" {
		return ""
	}
	return filepath.Join(r.KeyFolder, table, filepath.FromSlash(key))
}

// runNameTag is the tag MLflow keeps equal to runs.name.
const runNameTag = "mlflow.runName"

type RunRow struct {
	RunUUID, Name, SourceType, SourceName, EntryPointName, UserID, Status string
	SourceVersion, LifecycleStage, ArtifactURI                            string
	StartTime, EndTime, DeletedTime                                       *int64
	ExperimentID                                                          int64
}
