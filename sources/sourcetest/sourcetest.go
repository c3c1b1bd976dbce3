// Package sourcetest is the conformance suite every source passes.
package sourcetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/mlflow-bulk/mlflow-bulk/sources"
)

// Run checks the stream contract of sources: experiments before their datasets and
// runs, metrics right after their run, tables copied as rows after everything else, a
// clean end, Close that is safe early and twice, and a cancelled context that ends the
// stream with its error. open must return a fresh source over the same input each
// time, reading under ctx.
func Run(t *testing.T, open func(t *testing.T, ctx context.Context) sources.Source) {
	t.Run("order", func(t *testing.T) { checkOrder(t, open) })
	t.Run("cancel", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		src := open(t, ctx)
		defer src.Close()
		src.Next()
		cancel()
		done := make(chan bool, 1)
		go func() {
			for src.Next() { // a source may hand over what it read ahead
			}
			done <- true
		}()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Fatal("the stream goes on after its context was cancelled")
		}
		if err := src.Err(); err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("ended with %v, not the cancel", err)
		}
	})
	t.Run("close early and twice", func(t *testing.T) {
		src := open(t, context.Background())
		src.Next()
		if err := src.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		if err := src.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}
	})
}

// order is what the stream has shown so far, against which each record is checked.
type order struct {
	experiments map[string]bool
	curRun      string
	tablesBegun bool
}

// checkOrder reads a whole stream, checking each record's place in it and its end.
func checkOrder(t *testing.T, open func(t *testing.T, ctx context.Context) sources.Source) {
	src := open(t, context.Background())
	defer src.Close()
	if src.Describe() == "" {
		t.Error("Describe is empty")
	}
	o := &order{experiments: map[string]bool{}}
	records := 0
	for src.Next() {
		records++
		o.check(t, src.Record())
	}
	if err := src.Err(); err != nil {
		t.Fatalf("stream ended with %v", err)
	}
	if src.Next() {
		t.Error("Next returned true after the end")
	}
	if records == 0 {
		t.Error("no records")
	}
}

// check checks one record against what came before it.
func (o *order) check(t *testing.T, rec sources.Record) {
	t.Helper()
	if _, isChunk := rec.(*sources.TableChunk); o.tablesBegun && !isChunk {
		switch rec.(type) {
		case *sources.Notice, *sources.Skipped, *sources.Invalid:
		default:
			t.Errorf("%T after tables copied as rows", rec)
		}
	}
	switch r := rec.(type) {
	case *sources.Experiment:
		o.curRun = ""
		if o.experiments[r.SourceID] {
			t.Errorf("experiment %s streamed twice", r.SourceID)
		}
		o.experiments[r.SourceID] = true
		if r.LifecycleStage != sources.LifecycleActive && r.LifecycleStage != sources.LifecycleDeleted {
			t.Errorf("experiment %s: lifecycle %q", r.SourceID, r.LifecycleStage)
		}
	case *sources.Dataset:
		o.curRun = ""
		if !o.experiments[r.ExperimentSourceID] {
			t.Errorf("dataset %s before its experiment %s", r.Key, r.ExperimentSourceID)
		}
	case *sources.Run:
		o.curRun = r.RunID
		if !o.experiments[r.ExperimentSourceID] {
			t.Errorf("run %s before its experiment %s", r.RunID, r.ExperimentSourceID)
		}
		if !r.Status.Valid() {
			t.Errorf("run %s: status %q is not one of MLflow's", r.RunID, r.Status)
		}
	case *sources.Metrics:
		if r.RunID != o.curRun {
			t.Errorf("metrics of run %s outside that run (current %q)", r.RunID, o.curRun)
		}
		if len(r.Points) == 0 {
			t.Errorf("empty metrics record for run %s", r.RunID)
		}
	case *sources.LoggedModel, *sources.RegisteredModel, *sources.Trace:
		o.curRun = ""
	case *sources.TableChunk:
		o.curRun, o.tablesBegun = "", true
		if r.Table == nil || r.Table.Name == "" || len(r.Rows) == 0 {
			t.Errorf("table chunk without its table or rows: %+v", r)
			break
		}
		for _, row := range r.Rows {
			if len(row) != len(r.Columns) {
				t.Errorf("table %s: a row of %d values for %d columns", r.Table.Name, len(row), len(r.Columns))
				break
			}
		}
	case *sources.Notice:
		if r.Message == "" {
			t.Errorf("notice without a message")
		}
	case *sources.Skipped:
		if r.Reason == "" {
			t.Errorf("skipped %s without a reason", r.Path)
		}
	case *sources.Invalid:
		if r.Err == nil || r.Err.File == "" {
			t.Errorf("invalid record without a file: %+v", r.Err)
		}
	default:
		t.Errorf("unknown record %T", r)
	}
}
