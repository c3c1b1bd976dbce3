package importer

import (
	"context"
	"errors"
	"fmt"

	"github.com/mlflow-bulk/mlflow-bulk/artifacts"
	"github.com/mlflow-bulk/mlflow-bulk/remedy"
	"github.com/mlflow-bulk/mlflow-bulk/sources"
)

// ArtifactCopy copies the artifact files of what an import writes into one place, laid
// out as MLflow lays out a new experiment's files, and writes the copies' locations.
type ArtifactCopy struct {
	Layout artifacts.Layout
	// Workers is how many files are copied side by side.
	Workers int
	// StopOnUnreadable stops the import at a location mlflow-bulk cannot read (an HDFS
	// or Databricks path, a server's mlflow-artifacts: location); without it the run
	// moves with its location as it was, named in the report.
	StopOnUnreadable bool
}

// LayoutOrNil is the copy's layout, nil for no copy.
func (c *ArtifactCopy) LayoutOrNil() *artifacts.Layout {
	if c == nil {
		return nil
	}
	return &c.Layout
}

// ArtifactsReport says what the copy of artifact files did (or, in a dry run, would do).
type ArtifactsReport struct {
	Destination string `json:"destination"`
	// Files and Bytes were copied; SameFiles and SameBytes were at the destination
	// already, with the same size and MD5.
	Files     int64 `json:"files"`
	Bytes     int64 `json:"bytes"`
	SameFiles int64 `json:"same_files"`
	SameBytes int64 `json:"same_bytes"`
	// BytesPerSecond is the bytes copied over the import's time.
	BytesPerSecond int64 `json:"bytes_per_second"`
	// NotCopied names the folders that could not be read: their owners moved with their
	// locations as they were.
	NotCopied     []Note `json:"not_copied"`
	NotCopiedMore int64  `json:"not_copied_not_listed,omitempty"`
}

// artifactMover copies the files of the runs (and logged models and traces) an import
// creates, while the import goes on: a batch commits only once its files are copied, so
// no committed row points at a file still missing.
type artifactMover struct {
	base
	layout artifacts.Layout
	stores *artifacts.Stores
	copier *artifacts.Copier
}

func newArtifactMover(b base, c *ArtifactCopy) *artifactMover {
	stores := artifacts.NewStores(localRoot(c.Layout.Root))
	b.report.Artifacts = &ArtifactsReport{Destination: c.Layout.Root.String(), NotCopied: []Note{}}
	return &artifactMover{base: b, layout: c.Layout, stores: stores, copier: artifacts.NewCopier(stores, c.Workers, b.opts.DryRun)}
}

// artifactServer is a source that serves its own artifacts (a tracking server whose
// locations are mlflow-artifacts:).
type artifactServer interface {
	ArtifactStore() (host string, st artifacts.Store)
}

// serveFrom reads the mlflow-artifacts: locations of the sources that serve them.
func (a *artifactMover) serveFrom(srcs []sources.Source) {
	for _, src := range srcs {
		if s, ok := src.(artifactServer); ok {
			host, st := s.ArtifactStore()
			a.stores.Serve(host, st)
		}
	}
}

// localRoot is the folder a copy may write into, when the destination is local.
func localRoot(p artifacts.Place) string {
	if p.Kind != "local" {
		return ""
	}
	return "/" + p.Prefix
}

// experimentLocation is the artifact location of a new experiment of the target.
func (a *artifactMover) experimentLocation(id int64) string { return a.layout.ExperimentLocation(id) }

// move starts copying the folder at from (a local folder the source knows, or the
// source's location) to the folder stored as to, and returns the location to write:
// to, or the source's own location when it cannot be read (unless that stops the import).
func (a *artifactMover) move(ctx context.Context, owner, file, runID, from, sourceLocation, to string) (string, error) {
	if from == "" {
		from = sourceLocation
	}
	if from == "" {
		return to, nil // nothing was ever logged: MLflow's own empty folder
	}
	src, err := artifacts.Parse(from)
	if err == nil {
		err = a.stores.Readable(src)
	}
	if err != nil {
		inErr := &sources.InputError{File: file, RunID: runID, Err: fmt.Errorf("the artifacts of %s cannot be read: %w", owner, err)}
		if a.opts.CopyArtifacts.StopOnUnreadable {
			return "", remedy.With(fmt.Errorf("%w\nNothing of this batch was committed", inErr), remedy.Remedy{Option: OptionArtifactsUnreadable, Value: "keep-location", Does: "to move it with its location as it was, named in the report"})
		}
		if r := a.report.Artifacts; len(r.NotCopied) < maxNotes {
			r.NotCopied = append(r.NotCopied, Note{Source: a.sourceName, Path: sourceLocation, Reason: err.Error(), RunID: runID})
		} else {
			r.NotCopiedMore++
		}
		return sourceLocation, nil
	}
	dst, ok := a.layout.Physical(to)
	if !ok {
		return "", fmt.Errorf("internal error: %s is outside the copy's layout %s", to, a.layout.Served)
	}
	a.copier.Submit(ctx, artifacts.Job{From: src, To: dst, Owner: owner})
	return to, nil
}

// inLayout tells whether a stored location is one the copy wrote.
func (a *artifactMover) inLayout(location string) bool {
	_, ok := a.layout.Physical(location)
	return ok
}

// wait waits for every copy started; the batch commits after it.
func (a *artifactMover) wait() error {
	err := a.copier.Wait()
	a.tallyStats()
	if err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("%w\nNothing of this batch was committed; files already copied are kept, and the next import copies only what is missing", err)
	}
	return err
}

func (a *artifactMover) tallyStats() {
	s := a.copier.Stats()
	r := a.report.Artifacts
	r.Files, r.Bytes, r.SameFiles, r.SameBytes = s.Files, s.Bytes, s.SameFiles, s.SameBytes
}

// close releases the stores; it waits for copies an error left running, and says how
// many locations named local folders that do not exist.
func (a *artifactMover) close() {
	_ = a.copier.Wait()
	a.tallyStats()
	_ = a.stores.Close()
	if s := a.copier.Stats(); s.NoFolder > 0 {
		a.report.Notices = append(a.report.Notices, fmt.Sprintf("%d artifact folders of runs, logged models or traces do not exist (%s, for one): there was nothing of them to copy, and MLflow shows them as empty. "+
			"Where such files are kept on another machine, put them at those places and import again with %s", s.NoFolder, s.FirstNoFolder, remedy.Mention(OptionReread)))
	}
}
