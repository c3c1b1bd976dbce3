package verify

import (
	"context"
	"fmt"

	"github.com/mlflow-bulk/mlflow-bulk/artifacts"
	"github.com/mlflow-bulk/mlflow-bulk/importer/rules"
	"github.com/mlflow-bulk/mlflow-bulk/schema/live"
	"github.com/mlflow-bulk/mlflow-bulk/sinks"
	"github.com/mlflow-bulk/mlflow-bulk/sources"
	"github.com/mlflow-bulk/mlflow-bulk/tablerows"
)

// KindArtifactFile is the kind of a difference in artifact files.
const KindArtifactFile = "artifact file differs"

// artifactFiles compares, after an import with --copy-artifacts, each run's, logged
// model's and trace's files at the location the target holds with the source's files:
// names, sizes and MD5s, both ways.
type artifactFiles struct {
	layout artifacts.Layout
	stores *artifacts.Stores
	// checked counts the files found the same.
	checked int64
}

func newArtifactFiles(l *artifacts.Layout, srcs []sources.Source) *artifactFiles {
	if l == nil {
		return nil
	}
	stores := artifacts.NewStores("")
	for _, src := range srcs {
		// A tracking server among the sources serves its own mlflow-artifacts: files.
		if s, ok := src.(interface {
			ArtifactStore() (string, artifacts.Store)
		}); ok {
			stores.Serve(s.ArtifactStore())
		}
	}
	return &artifactFiles{layout: *l, stores: stores}
}

func (f *artifactFiles) close() {
	if f != nil {
		_ = f.stores.Close()
	}
}

// source is where the source keeps an entity's files: the local folder it knows, or
// its location; ok is false for a location mlflow-bulk cannot read (which the import
// kept as it was).
func (f *artifactFiles) source(at, location string) (artifacts.Place, bool) {
	if at == "" {
		at = location
	}
	p, err := artifacts.Parse(at)
	if err == nil {
		err = f.stores.Readable(p)
	}
	return p, err == nil
}

// expected is the location the import wrote for an entity of the target experiment
// targetExp (in workspace ws) whose files were at at/location, below parts: the copy's,
// or the source's own where it could not be read.
func (f *artifactFiles) expected(at, location, ws string, targetExp int64, parts ...string) string {
	if _, ok := f.source(at, location); !ok && location != "" {
		return location
	}
	return f.copied(ws, targetExp, parts...)
}

func (f *artifactFiles) copied(ws string, targetExp int64, parts ...string) string {
	root, _ := rules.WorkspaceArtifact(f.layout.ExperimentLocation(targetExp), ws)
	return artifacts.Below(root, parts...)
}

// experimentLocation is the location the import gives a target experiment.
func (f *artifactFiles) experimentLocation(ws string, id int64) string {
	root, _ := rules.WorkspaceArtifact(f.layout.ExperimentLocation(id), ws)
	return root
}

// compare lists the source's files and those at stored (a location the target holds)
// and calls differ for each file that is not the same.
func (f *artifactFiles) compare(ctx context.Context, at, location, stored string, differ func(path, detail string)) error {
	from, ok := f.source(at, location)
	if !ok {
		return nil // the import could not read it either, and kept the location
	}
	to, ok := f.layout.Physical(stored)
	if !ok {
		differ("", fmt.Sprintf("the target's location %q is not in the copy's layout (%s)", stored, f.layout.Served))
		return nil
	}
	diffs, same, err := artifacts.Compare(ctx, f.stores, from, to)
	if err != nil {
		return err
	}
	f.checked += int64(same)
	for _, d := range diffs {
		if d.What == "changed" {
			f.checked--
		}
		switch d.What {
		case "missing":
			differ(d.Path, fmt.Sprintf("%s is in %s but not in %s", d.Path, from, to))
		case "extra":
			differ(d.Path, fmt.Sprintf("%s is in %s but not in the source's %s", d.Path, to, from))
		default:
			differ(d.Path, fmt.Sprintf("%s differs in size or MD5 between %s and %s", d.Path, from, to))
		}
	}
	return nil
}

// traceArtifactLocation is the location a trace's tag names for its spans.
func traceArtifactLocation(tr *sources.Trace) (string, bool) {
	for _, t := range tr.Tables {
		key, value := tablerows.IndexOf(t.Columns, "key"), tablerows.IndexOf(t.Columns, "value")
		if t.Table != "trace_tags" || key < 0 || value < 0 {
			continue
		}
		for _, row := range t.Rows {
			if loc, ok := row[value].(string); ok && row[key] == tablerows.TraceArtifactTag {
				return loc, true
			}
		}
	}
	return "", false
}

// relocateVersions is a registered model with its versions' sources and storage
// locations as an import copying artifacts wrote them: moved to the copy of the run's or
// logged model's files they point into (the target's locations say where).
func (f *artifactFiles) relocateVersions(ctx context.Context, tx sinks.Tx, hasModels bool, m *sources.RegisteredModel) (*sources.RegisteredModel, error) {
	if f == nil {
		return m, nil
	}
	stored := func(model bool, id string) (string, error) {
		query := "SELECT artifact_uri FROM runs WHERE run_uuid = ?"
		if model {
			query = "SELECT artifact_location FROM logged_models WHERE model_id = ?"
		}
		var location *string
		err := live.EachRow(ctx, tx, query, []any{id}, func(scan func(...any) error) error { return scan(&location) })
		if location == nil || !f.inLayout(*location) {
			return "", err
		}
		return *location, err
	}
	out := *m
	out.Versions = make([]sources.ModelVersion, len(m.Versions))
	for i, v := range m.Versions {
		var err error
		if v.Source, v.StorageLocation, err = artifacts.RelocateVersion(v.Source, v.StorageLocation, v.RunID, hasModels, stored); err != nil {
			return nil, err
		}
		out.Versions[i] = v
	}
	return &out, nil
}

func (f *artifactFiles) inLayout(location string) bool {
	_, ok := f.layout.Physical(location)
	return ok
}
