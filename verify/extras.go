package verify

import "sort"

// What the target holds of a run beyond a source (a param, a tag, a metric key) is a
// difference only if no source has it: an import of several sources that share a run
// (a nightly store and its copy, two exports of one run) merges them into the run. A
// source's run leaves its extras pending; the same run of a later source keeps only
// those it lacks too (the target's keys less the extras of one source are that source's
// keys, so the extras of all are what every source lacks). The pending extras are
// reported after the last source.

type acrossSources struct {
	// verified holds every run compared so far, of any source.
	verified map[string]bool
	// pending holds, per run, the extras no source so far explains, by kind and key.
	pending map[string]map[string]Difference
	// cur gathers the extras of the run being compared.
	cur map[string]Difference
}

func newAcrossSources() *acrossSources {
	return &acrossSources{verified: map[string]bool{}, pending: map[string]map[string]Difference{}}
}

// extra notes what the target holds of a run beyond the source.
func (v *verifier) extra(runID, kind, key, detail string) {
	v.extraOf(Difference{Source: v.source, RunID: runID, Kind: kind, Key: key, Detail: detail})
}

// extraOf notes what the target holds of the entity being compared (a run, a trace, a
// model) beyond the source; settleExtras closes the entity.
func (v *verifier) extraOf(d Difference) {
	if v.across.cur == nil {
		v.across.cur = map[string]Difference{}
	}
	v.across.cur[d.Kind+"\x00"+d.Key+"\x00"+d.Detail] = d
}

// settleExtras closes the comparison of a run (or of another entity, by a key of its
// own): its extras become pending, or narrow the pending extras of the same entity of
// earlier sources.
func (v *verifier) settleExtras(runID string) {
	a := v.across
	cur := a.cur
	a.cur = nil
	if !a.verified[runID] {
		a.verified[runID] = true
		if len(cur) > 0 {
			a.pending[runID] = cur
		}
		return
	}
	prev := a.pending[runID]
	for k := range prev {
		if _, still := cur[k]; !still {
			delete(prev, k)
		}
	}
	if len(prev) == 0 {
		delete(a.pending, runID)
	}
}

// reportExtras reports the extras no source explains, by run and key.
func (v *verifier) reportExtras() {
	runs := make([]string, 0, len(v.across.pending))
	for r := range v.across.pending {
		runs = append(runs, r)
	}
	sort.Strings(runs)
	for _, r := range runs {
		found := v.across.pending[r]
		for _, k := range sortedKeys(found) {
			if len(v.report.Differences) < maxDifferences {
				v.report.Differences = append(v.report.Differences, found[k])
			}
		}
	}
}
