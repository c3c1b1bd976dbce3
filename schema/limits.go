package schema

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/mlflow-bulk/mlflow-bulk/remedy"
)

// ValueLimits are the limits MLflow's own validation applies to values when it logs
// them, for the MLflow releases whose head a revision is. They are stricter than the
// columns (params.value is VARCHAR(8000), the limit 6000) and apply on every database.
type ValueLimits struct {
	ParamValue         int
	TagValue           int
	ExperimentTagValue int
	// Truncates: over-long param and run-tag values are cut to the limit (MLflow 2.11
	// and later, with its default MLFLOW_TRUNCATE_LONG_VALUES) instead of rejected.
	// Experiment tags are always rejected.
	Truncates bool
}

// Limits returns MLflow's value limits at this revision. acf3f17fdcc7 is the head of
// 2.8 to 2.12, and only 2.11 and 2.12 truncate; its newest releases decide.
func (r *Revision) Limits() ValueLimits {
	l := ValueLimits{ParamValue: 250, TagValue: 250, ExperimentTagValue: 5000}
	if r.AtLeast("cc1f77228345") {
		l.ParamValue = 500
	}
	if r.AtLeast("2d6e25af4d3e") {
		l.ParamValue = 6000
	}
	if r.AtLeast("7ac759974ad8") {
		l.TagValue = 5000
	}
	if r.AtLeast("f5a4f2784254") {
		l.TagValue = 8000
	}
	if r.AtLeast("17e22815139b") {
		l.ExperimentTagValue = 20000
	}
	l.Truncates = r.AtLeast("acf3f17fdcc7")
	return l
}

// ForRelease returns the revision an MLflow release runs at ("2.9", "1.30.1", "3.10").
func ForRelease(version string) (*Revision, error) {
	want, err := parseVersion(version)
	if err != nil {
		return nil, err
	}
	for i := len(chain) - 1; i >= 0; i-- {
		r := &chain[i]
		if r.Releases == "" || strings.HasPrefix(r.Releases, "after") {
			continue
		}
		lo, hi, _ := strings.Cut(r.Releases, " – ")
		if hi == "" {
			hi = lo
		}
		low, _ := parseVersion(lo)
		high, _ := parseVersion(hi)
		// An upper bound covers its patch releases: "2.2" covers 2.2.5.
		upTo := want
		if len(upTo) > len(high) {
			upTo = upTo[:len(high)]
		}
		if compareVersions(want, low) >= 0 && compareVersions(upTo, high) <= 0 {
			return r, nil
		}
	}
	return nil, upgradePathTo(fmt.Errorf("mlflow-bulk does not know which schema MLflow %s uses; it knows %s", version, SupportedReleases()), version, want)
}

// upgradePathTo adds to err how to get the schema of a release whose head mlflow-bulk
// does not know: from the newest known release before it that mlflow-bulk creates, which
// that MLflow upgrades.
func upgradePathTo(err error, version string, want []int) error {
	for i := NewestCreatable().index; i >= 0; i-- {
		r := &chain[i]
		if r.Releases == "" {
			continue
		}
		lo, hi, _ := strings.Cut(r.Releases, " – ")
		if hi == "" {
			hi = lo
		}
		high, _ := parseVersion(strings.Fields(hi)[0])
		if compareVersions(high, want) >= 0 {
			continue
		}
		if i == NewestCreatable().index {
			return UpgradePath(err)
		}
		return remedy.With(err, remedy.Remedy{Option: OptionRelease, Value: hi,
			Does: fmt.Sprintf("to create MLflow %s's schema, let MLflow %s upgrade it (`mlflow db upgrade <uri>`), then import into it", hi, version)})
	}
	return remedy.With(fmt.Errorf("%w. MLflow's SQL schema has alembic revisions from MLflow 1.0 on: use a schema of 1.0 or later", err),
		remedy.Remedy{Option: OptionRelease, Value: "1.0"})
}

// The options of a schema's creation that its errors name (package remedy): the
// release whose schema is created (ForRelease), or the revision itself (Lookup).
const (
	OptionRelease  remedy.Option = "schema.ForRelease"
	OptionRevision remedy.Option = "schema.Lookup"
)

// UpgradePath adds to err how a user gets the schema of a release whose schema
// mlflow-bulk cannot create: create the newest it can, let that release's MLflow
// upgrade it.
func UpgradePath(err error) error {
	return remedy.With(err, remedy.Remedy{Option: OptionRevision, Value: NewestCreatable().ID,
		Does: "to create the newest schema mlflow-bulk creates, let the newer MLflow upgrade it (`mlflow db upgrade <uri>`), then import into it"})
}

func parseVersion(v string) ([]int, error) {
	var out []int
	for _, part := range strings.Split(strings.TrimPrefix(v, "v"), ".") {
		n, err := strconv.Atoi(part)
		if err != nil {
			return nil, fmt.Errorf("%q is not an MLflow version such as 2.9 or 3.1.4", v)
		}
		out = append(out, n)
	}
	return out, nil
}

// compareVersions compares two versions, missing components counting as 0.
func compareVersions(a, b []int) int {
	for i := 0; i < max(len(a), len(b)); i++ {
		x, y := 0, 0
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return 0
}

// Column is a column of a target table as the database reports it.
type Column struct {
	Name    string
	Boolean bool // a BOOLEAN of a database with NativeBooleans: integers from others need converting
}

// DeferKeys returns the statements that take metrics' keys off for a bulk load, and
// those that put them back; none where the dialect keeps them. The revision decides
// whether the newer (run_uuid, key, step) index is part of it.
func DeferKeys(d Dialect, r *Revision) (drop, add []string) {
	k := d.Database().DeferredKeys
	if k == nil || !r.AtLeast("bd07f7e963c5") {
		return nil, nil
	}
	return k.Statements(r)
}

// LockForKeys are the statements that take every lock building the deferred keys
// needs, in one order; none where the database needs none.
func LockForKeys(d Dialect) []string {
	if k := d.Database().DeferredKeys; k != nil {
		return k.Lock
	}
	return nil
}

// ResumeIndexes are the statements that build, ahead of the other deferred keys, the
// index a resumed load needs to find its runs' metrics; none where none is needed.
func ResumeIndexes(d Dialect) []string {
	if k := d.Database().DeferredKeys; k != nil {
		return k.Resume
	}
	return nil
}

// DedupeDeferred is the statement that removes the extra copies of metric rows equal on
// MLflow's whole key while the keys are deferred, "" where keys are never deferred.
func DedupeDeferred(d Dialect) string {
	if k := d.Database().DeferredKeys; k != nil {
		return k.Dedupe
	}
	return ""
}

// OrphanMetrics is the query that counts metric rows naming no run, which building the
// deferred keys must refuse where the database does not check the foreign key itself;
// "" where it does.
func OrphanMetrics(d Dialect) string {
	if k := d.Database().DeferredKeys; k != nil {
		return k.Orphans
	}
	return ""
}
