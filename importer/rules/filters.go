package rules

import (
	"fmt"
	"hash/fnv"
	"path"
	"strings"

	"github.com/mlflow-bulk/mlflow-bulk/remedy"
	"github.com/mlflow-bulk/mlflow-bulk/sources"
)

// Filter chooses what of the sources is imported. The zero value takes everything.
type Filter struct {
	// Experiments are names or glob patterns (path.Match syntax) of the source
	// experiments to import; empty means all.
	Experiments []string
	// ExcludeExperiments are names or patterns to leave out.
	ExcludeExperiments []string
	// RunsSince leaves out runs that started before it (epoch ms); 0 means no limit.
	RunsSince int64
	// ExcludeDeleted leaves out deleted runs and deleted experiments with their runs.
	ExcludeDeleted bool
	// Rename maps source experiment names to target names.
	Rename map[string]string
	// Shard, when ShardCount > 1, imports only the runs whose id hashes to it (and, in
	// shard 0 alone, what is not a run: logged models, registered models, traces), so
	// ShardCount processes load one source into one database side by side.
	Shard, ShardCount int
}

// InShard reports whether a run id belongs to this import's shard: FNV-1a of the id,
// modulo the number of shards.
func (f Filter) InShard(runID string) bool {
	if f.ShardCount <= 1 {
		return true
	}
	h := fnv.New32a()
	h.Write([]byte(runID))
	return int(h.Sum32()%uint32(f.ShardCount)) == f.Shard
}

// FirstShard is the shard that imports what is not a run.
func (f Filter) FirstShard() bool { return f.ShardCount <= 1 || f.Shard == 0 }

func matchAny(patterns []string, name string) bool {
	for _, p := range patterns {
		if p == name {
			return true
		}
		if ok, err := path.Match(p, name); err == nil && ok {
			return true
		}
	}
	return false
}

// TakesExperiment reports whether the filter lets a source experiment in, and why not.
func (f Filter) TakesExperiment(e *sources.Experiment) (bool, string) {
	switch {
	case len(f.Experiments) > 0 && !matchAny(f.Experiments, e.Name):
		return false, "not among " + remedy.Mention(OptionExperiments)
	case matchAny(f.ExcludeExperiments, e.Name):
		return false, "matched by " + remedy.Mention(OptionExcludeExperiments)
	case f.ExcludeDeleted && e.LifecycleStage == sources.LifecycleDeleted:
		return false, "deleted (" + remedy.Mention(OptionExcludeDeleted) + ")"
	}
	return true, ""
}

// TakesRun reports whether the filter lets a run in.
func (f Filter) TakesRun(r *sources.Run) bool {
	if f.ExcludeDeleted && r.LifecycleStage == sources.LifecycleDeleted {
		return false
	}
	if f.RunsSince > 0 && (r.StartTime == nil || *r.StartTime < f.RunsSince) {
		return false
	}
	return f.InShard(r.RunID)
}

// ArtifactMapping rewrites artifact locations that start with Old to start with New.
type ArtifactMapping struct {
	Old, New string
}

// MapArtifact rewrites an experiment's artifact_location or a run's artifact_uri with
// the longest matching prefix. Prefixes match at path boundaries, with Windows
// backslashes read as slashes, drive letters in either case, and a leading "./" of
// relative locations ignored.
func MapArtifact(maps []ArtifactMapping, location string) (string, bool) {
	mapped, i := MapArtifactBy(maps, location)
	return mapped, i >= 0
}

// MapArtifactBy is mapArtifact that also says which mapping rewrote the location (-1
// for none).
func MapArtifactBy(maps []ArtifactMapping, location string) (string, int) {
	best, bestLen, which := "", -1, -1
	norm := normalizeLocation(location)
	for i, m := range maps {
		old := strings.TrimSuffix(normalizeLocation(m.Old), "/")
		if !strings.HasPrefix(strings.ToLower(norm), strings.ToLower(old)) {
			continue
		}
		// Case matters past a drive letter only for Windows paths, which ignore it.
		if !isWindowsLocation(norm) && !strings.HasPrefix(norm, old) {
			continue
		}
		rest := norm[len(old):]
		if rest != "" && !strings.HasPrefix(rest, "/") {
			continue
		}
		if len(old) > bestLen {
			best, bestLen, which = strings.TrimSuffix(m.New, "/")+rest, len(old), i
		}
	}
	return best, which
}

func normalizeLocation(s string) string {
	if isWindowsLocation(s) {
		s = strings.ReplaceAll(s, `\`, "/")
	}
	return strings.TrimPrefix(s, "./")
}

func isWindowsLocation(s string) bool {
	t := strings.TrimPrefix(s, "file:///")
	return len(t) >= 2 && t[1] == ':' && (t[0]|0x20) >= 'a' && (t[0]|0x20) <= 'z'
}

// ParseMapping reads OLD=NEW.
func ParseMapping(s string) (string, string, error) {
	old, nw, ok := strings.Cut(s, "=")
	if !ok || old == "" {
		return "", "", fmt.Errorf("%q is not OLD=NEW", s)
	}
	return old, nw, nil
}
