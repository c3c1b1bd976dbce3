package main

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/mlflow-bulk/mlflow-bulk/artifacts"
	"github.com/mlflow-bulk/mlflow-bulk/importer/rules"
	"github.com/mlflow-bulk/mlflow-bulk/sources"
	"github.com/mlflow-bulk/mlflow-bulk/sources/csvfile"
	"github.com/mlflow-bulk/mlflow-bulk/sources/filestore"
	"github.com/mlflow-bulk/mlflow-bulk/sources/formats"
	"github.com/mlflow-bulk/mlflow-bulk/sources/trackingserver"
	"github.com/spf13/pflag"
)

// parseRunsSince reads --runs-since: RFC 3339 (or a date) or epoch milliseconds.
func parseRunsSince(v string) (int64, error) {
	if v == "" {
		return 0, nil
	}
	if ms, err := strconv.ParseInt(v, 10, 64); err == nil {
		return ms, nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UnixMilli(), nil
		}
	}
	return 0, &usageError{fmt.Errorf("--runs-since %q is neither RFC 3339 (2026-11-01T00:00:00Z, 2026-11-01) nor epoch milliseconds", v)}
}

// parseRenames reads --rename-experiment values: OLD=NEW pairs, or CSV files of old,new
// lines as mlflow-export-import's rename files hold them.
func parseRenames(values []string) (map[string]string, error) {
	out := map[string]string{}
	for _, v := range values {
		if !strings.Contains(v, "=") {
			if _, err := os.Stat(v); err != nil {
				return nil, &usageError{fmt.Errorf("--rename-experiment %q is neither OLD=NEW nor a CSV file of old,new lines", v)}
			}
			if err := readRenameFile(v, out); err != nil {
				return nil, err
			}
			continue
		}
		old, nw, err := rules.ParseMapping(v)
		if err != nil {
			return nil, &usageError{fmt.Errorf("--rename-experiment: %w", err)}
		}
		out[old] = nw
	}
	return out, nil
}

func readRenameFile(path string, into map[string]string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	r.TrimLeadingSpace = true
	rows, err := r.ReadAll()
	if err != nil {
		return &usageError{fmt.Errorf("rename file %s: %w", path, err)}
	}
	for i, row := range rows {
		if len(row) != 2 {
			return &usageError{fmt.Errorf("rename file %s: line %d has %d fields, want old,new", path, i+1, len(row))}
		}
		if i == 0 && strings.EqualFold(row[0], "old") {
			continue // header
		}
		into[row[0]] = row[1]
	}
	return nil
}

func parseArtifactMap(values []string) ([]rules.ArtifactMapping, error) {
	var out []rules.ArtifactMapping
	for _, v := range values {
		old, nw, err := rules.ParseMapping(v)
		if err != nil {
			return nil, &usageError{fmt.Errorf("--artifact-root-map: %w", err)}
		}
		out = append(out, rules.ArtifactMapping{Old: old, New: nw})
	}
	return out, nil
}

// addPasswordFile adds --password-file, the same on every command that opens a database.
func addPasswordFile(f *pflag.FlagSet, dst *string) {
	f.StringVar(dst, "password-file", "", "read the database password from this file's first line (PostgreSQL also reads PGPASSWORD and ~/.pgpass)")
}

// readPasswordFile reads --password-file: the first line, without its line end.
func readPasswordFile(path string) (string, error) {
	if path == "" {
		return "", nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("--password-file: %w", err)
	}
	pw, _, _ := strings.Cut(string(data), "\n")
	pw = strings.TrimSuffix(pw, "\r")
	if pw == "" {
		return "", errors.New("--password-file: the file is empty")
	}
	return pw, nil
}

// defaultTargetURI is MLFLOW_TRACKING_URI when it names a database (MLflow's own
// default target), else MLflow's default sqlite:///mlflow.db.
func defaultTargetURI(getenv func(string) string) string {
	v := getenv("MLFLOW_TRACKING_URI")
	scheme, _, ok := strings.Cut(v, "://")
	if !ok || strings.EqualFold(scheme, "file") {
		return defaultTarget // unset, or MLflow's own file store: a source, never a target
	}
	// A database is the target; a tracking server (http://, databricks://) is not a
	// database, which parsing it says, rather than writing ./mlflow.db unasked.
	return v
}

// parseShard reads --shard K/N.
func parseShard(v string) (int, int, error) {
	if v == "" {
		return 0, 0, nil
	}
	k, n, ok := strings.Cut(v, "/")
	shard, err1 := strconv.Atoi(k)
	count, err2 := strconv.Atoi(n)
	if !ok || err1 != nil || err2 != nil || count < 1 || shard < 0 || shard >= count {
		return 0, 0, &usageError{fmt.Errorf("--shard %q is not K/N with 0 <= K < N, e.g. 0/4", v)}
	}
	return shard, count, nil
}

// Selection is what a command takes of its sources and how it reads them: the filters,
// renames and relocations of an import, and how CSVs and file stores are read. import
// and verify share it, so that verify looks for exactly what the import took.
type Selection struct {
	Experiments, ExcludeExperiments []string
	RunsSince                       string
	IncludeDeleted                  bool
	Renames, ArtifactRootMap        []string
	TargetExperiment                string
	CSVParams, CSVMetrics, CSVTags  []string
	CSVTimeFormat, CSVTimezone      string
	AllowUnknown, FollowSymlinks    bool
	Shard                           string
	Workspace, WorkspaceDescription string
	FlattenWorkspaces               bool
	// CopyArtifacts is where the import copies artifact files; CopyArtifactsAs the
	// location it writes for that place ("" for the place itself).
	CopyArtifacts, CopyArtifactsAs string
	// workspaceGiven: --workspace was on the command line, even as "".
	workspaceGiven bool
}

// givenString is a string flag that notes whether it was given at all, so that an empty
// value given on purpose is told from a flag left out.
type givenString struct {
	value *string
	given *bool
}

func (g givenString) String() string {
	if g.value == nil {
		return ""
	}
	return *g.value
}
func (g givenString) Set(v string) error { *g.value, *g.given = v, true; return nil }
func (g givenString) Type() string       { return "string" }

// workspace is the one workspace the sources go into ("" keeps each row's own).
func (s *Selection) workspace() (string, error) {
	switch {
	case s.workspaceGiven && s.Workspace == "":
		return "", &usageError{errors.New(`--workspace "" names no workspace: give its name, or leave --workspace out to keep each row's workspace`)}
	case s.FlattenWorkspaces && s.Workspace != "":
		return "", &usageError{errors.New("--workspace and --flatten-workspaces both say where the sources' workspaces go: give one")}
	case s.FlattenWorkspaces:
		return rules.DefaultWorkspace, nil
	case s.Workspace != "":
		if err := rules.CheckWorkspaceName(s.Workspace); err != nil {
			return "", &usageError{fmt.Errorf("--workspace: %w", err)}
		}
	}
	return s.Workspace, nil
}

// addFlags adds the selection's flags; verb says what the command does with a source
// ("import", or "the import took" for verify).
func (s *Selection) addFlags(f *pflag.FlagSet, verb string) {
	took := verb == "import"
	say := func(forImport, forVerify string) string {
		if took {
			return forImport
		}
		return forVerify
	}
	f.StringArrayVar(&s.Experiments, "experiment", nil, say("import only experiments with this name or glob pattern (repeatable)", "the import took only these experiments (name or glob, repeatable)"))
	f.StringArrayVar(&s.ExcludeExperiments, "exclude-experiment", nil, say("leave out experiments with this name or glob pattern (repeatable)", "the import left out these experiments (repeatable)"))
	f.StringVar(&s.RunsSince, "runs-since", "", say("import only runs started at or after this time (RFC 3339, a date, or epoch milliseconds)", "the import took only runs started at or after this time"))
	f.BoolVar(&s.IncludeDeleted, "include-deleted", true, say("import deleted runs and experiments too (as deleted); --include-deleted=false leaves them out", "the import took deleted runs and experiments too (--include-deleted=false: it left them out)"))
	f.StringArrayVar(&s.Renames, "rename-experiment", nil, say("import experiment OLD under the name NEW: OLD=NEW (repeatable), or a CSV file of old,new lines", "the import renamed experiments: OLD=NEW (repeatable), or a CSV file of old,new lines"))
	f.StringArrayVar(&s.ArtifactRootMap, "artifact-root-map", nil, say("rewrite artifact locations starting with OLD to start with NEW: OLD=NEW (repeatable; the longest match wins)", "the import rewrote artifact locations: OLD=NEW (repeatable)"))
	f.StringVar(&s.CopyArtifacts, "copy-artifacts", "", say("copy the artifact files of the runs, logged models and traces imported into this place (a folder, s3://, gs://, azure:// or wasbs://), laid out as MLflow lays them out (DEST/<experiment id>/<run id>/artifacts), and write the copies' locations; files already there with the same size and MD5 are not copied again",
		"the import copied artifact files here: compare them with the sources' files"))
	f.StringVar(&s.CopyArtifactsAs, "copy-artifacts-as", "", say("the location written for --copy-artifacts when a tracking server serves it: mlflow-artifacts:/ for a server whose --artifacts-destination is that place (default: the place itself)",
		"the location the import wrote for --copy-artifacts"))
	f.StringVar(&s.Shard, "shard", "", say("K/N: import only the runs whose id hashes to shard K of N (0-based), so N processes load one source into one database side by side", "the import took only shard K of N"))
	f.Var(givenString{&s.Workspace, &s.workspaceGiven}, "workspace", say("put everything of the sources into this workspace of the target (created when missing); experiments and models merge by name within it. Without it, each row keeps its workspace", "the import put everything into this workspace"))
	f.BoolVar(&s.FlattenWorkspaces, "flatten-workspaces", false, say("put the sources' workspaces together into the default one (what a target without workspaces needs)", "the import put the sources' workspaces into the default one"))
	if took {
		f.StringVar(&s.WorkspaceDescription, "workspace-description", "", "the description of the workspace --workspace creates")
	}
	f.StringVar(&s.TargetExperiment, "target-experiment", "", say("put every run into the experiment of this name (CSV files, which carry no experiment names, otherwise go into one named after the file)", "the import put every run into the experiment of this name"))
	f.StringSliceVar(&s.CSVParams, "csv-params", nil, "columns of a UI \"Download CSV\" file that are params (others are inferred)")
	f.StringSliceVar(&s.CSVMetrics, "csv-metrics", nil, "columns of a UI \"Download CSV\" file that are metrics")
	f.StringSliceVar(&s.CSVTags, "csv-tags", nil, "columns of a UI \"Download CSV\" file that are tags")
	f.StringVar(&s.CSVTimezone, "csv-timezone", "", "time zone of a CSV's times that name none, e.g. Europe/Berlin (the MLflow UI writes the browser's local time; default UTC)")
	f.StringVar(&s.CSVTimeFormat, "csv-time-format", "", "strftime format of a CSV's times when its dates could put the day or the month first, e.g. '%d-%m-%Y %H:%M'")
	f.BoolVar(&s.AllowUnknown, "allow-unknown-revision", false, "no longer needed, and does nothing: a database at a revision mlflow-bulk does not know is read and written by what its tables hold")
	_ = f.MarkHidden("allow-unknown-revision")
	f.BoolVar(&s.FollowSymlinks, "follow-symlinks", false, "read files of a file store that are symbolic links to places outside the store (by default they are invalid input)")
}

// resolve parses the selection into the importer's filter and relocations and the
// sources' reading options.
// noteRetiredFlags says on errOut that a flag which no longer does anything was given.
func (s *Selection) noteRetiredFlags(errOut io.Writer) {
	if s.AllowUnknown {
		fmt.Fprintln(errOut, "mlflow-bulk: --allow-unknown-revision is no longer needed and does nothing: a database at a revision mlflow-bulk does not know is read and written by what its tables hold")
	}
}

// artifactLayout is where --copy-artifacts puts files and what it writes for them (nil
// without it).
func (s *Selection) artifactLayout() (*artifacts.Layout, error) {
	switch {
	case s.CopyArtifacts == "" && s.CopyArtifactsAs != "":
		return nil, &usageError{errors.New("--copy-artifacts-as says how the place --copy-artifacts copies into is served: give --copy-artifacts too")}
	case s.CopyArtifacts == "":
		return nil, nil
	case len(s.ArtifactRootMap) > 0:
		return nil, &usageError{errors.New("--copy-artifacts writes the locations of the files it copies; --artifact-root-map rewrites locations whose files stay where they are: give one")}
	}
	l, err := artifacts.NewLayout(s.CopyArtifacts, s.CopyArtifactsAs)
	if err != nil {
		return nil, &usageError{fmt.Errorf("--copy-artifacts: %w", err)}
	}
	return &l, nil
}

func (s *Selection) resolve() (rules.Filter, []rules.ArtifactMapping, formats.Options, error) {
	var filter rules.Filter
	since, err := parseRunsSince(s.RunsSince)
	if err != nil {
		return filter, nil, formats.Options{}, err
	}
	renames, err := parseRenames(s.Renames)
	if err != nil {
		return filter, nil, formats.Options{}, err
	}
	artifactMap, err := parseArtifactMap(s.ArtifactRootMap)
	if err != nil {
		return filter, nil, formats.Options{}, err
	}
	for flag, patterns := range map[string][]string{"--experiment": s.Experiments, "--exclude-experiment": s.ExcludeExperiments} {
		for _, p := range patterns {
			// A pattern that is not one would silently match nothing.
			if _, err := path.Match(p, ""); err != nil {
				return filter, nil, formats.Options{}, &usageError{fmt.Errorf("%s %q is not a name or a glob pattern (*, ?, [a-z]); escape a literal [ as \\[", flag, p)}
			}
		}
	}
	filter = rules.Filter{Experiments: s.Experiments, ExcludeExperiments: s.ExcludeExperiments, RunsSince: since, ExcludeDeleted: !s.IncludeDeleted, Rename: renames}
	if filter.Shard, filter.ShardCount, err = parseShard(s.Shard); err != nil {
		return filter, nil, formats.Options{}, err
	}
	takes := func(e *sources.Experiment) bool { ok, _ := filter.TakesExperiment(e); return ok }
	return filter, artifactMap, formats.Options{
		// A tracking server is asked only for the runs of the experiments taken.
		Server:    trackingserver.Options{TakesExperiment: takes},
		FileStore: filestore.Options{FollowSymlinks: s.FollowSymlinks},
		CSV:       csvfile.Options{Params: s.CSVParams, Metrics: s.CSVMetrics, Tags: s.CSVTags, TimeFormat: s.CSVTimeFormat, Timezone: s.CSVTimezone},
	}, nil
}
