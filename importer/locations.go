package importer

import (
	"fmt"

	"github.com/mlflow-bulk/mlflow-bulk/importer/rules"
	"github.com/mlflow-bulk/mlflow-bulk/remedy"
)

// locations rewrites artifact locations by --artifact-root-map and counts what each
// mapping rewrote, for the report.
type locations struct {
	maps []rules.ArtifactMapping
	// rewrites counts the locations each mapping rewrote; unmapped is one none of them
	// matched.
	rewrites []int64
	unmapped string
}

func newLocations(maps []rules.ArtifactMapping) *locations {
	return &locations{maps: maps, rewrites: make([]int64, len(maps))}
}

// mapLocation rewrites an artifact location by --artifact-root-map (the longest
// matching prefix wins), counting what each mapping rewrote and keeping a location none
// matched, for the report.
func (l *locations) mapLocation(location string) (string, bool) {
	if len(l.maps) == 0 {
		return "", false
	}
	mapped, i := rules.MapArtifactBy(l.maps, location)
	if i < 0 {
		if l.unmapped == "" && location != "" {
			l.unmapped = location
		}
		return "", false
	}
	l.rewrites[i]++
	return mapped, true
}

// notices say how many locations each --artifact-root-map rewrote, and warn about one
// that matched nothing (a typo in its prefix, most likely).
func (l *locations) notices() []string {
	var out []string
	for i, m := range l.maps {
		if n := l.rewrites[i]; n > 0 {
			out = append(out, fmt.Sprintf("%s %s=%s rewrote %d artifact locations", remedy.Mention(OptionArtifactMap), m.Old, m.New, n))
			continue
		}
		msg := fmt.Sprintf("warning: %s %s=%s matched no artifact location", remedy.Mention(OptionArtifactMap), m.Old, m.New)
		if l.unmapped != "" {
			msg += fmt.Sprintf(" (the sources' locations look like %q): check its prefix", l.unmapped)
		}
		out = append(out, msg)
	}
	return out
}
