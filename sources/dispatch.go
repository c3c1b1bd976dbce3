package sources

import (
	"context"
	"fmt"
)

// Handler takes the records of a stream, one method per kind of record. Import, verify,
// inspect and export each implement all of them: a new kind of record does not compile
// until every one of them has said what it does with it, so none leaves it out unnoticed.
type Handler interface {
	Experiment(ctx context.Context, r *Experiment) error
	Dataset(ctx context.Context, r *Dataset) error
	Run(ctx context.Context, r *Run) error
	Metrics(ctx context.Context, r *Metrics) error
	LoggedModel(ctx context.Context, r *LoggedModel) error
	RegisteredModel(ctx context.Context, r *RegisteredModel) error
	Trace(ctx context.Context, r *Trace) error
	TableChunk(ctx context.Context, r *TableChunk) error
	Skipped(ctx context.Context, r *Skipped) error
	Notice(ctx context.Context, r *Notice) error
	Invalid(ctx context.Context, r *Invalid) error
}

// Dispatch hands one record to the handler's method for its kind.
func Dispatch(ctx context.Context, rec Record, h Handler) error {
	switch r := rec.(type) {
	case *Experiment:
		return h.Experiment(ctx, r)
	case *Dataset:
		return h.Dataset(ctx, r)
	case *Run:
		return h.Run(ctx, r)
	case *Metrics:
		return h.Metrics(ctx, r)
	case *LoggedModel:
		return h.LoggedModel(ctx, r)
	case *RegisteredModel:
		return h.RegisteredModel(ctx, r)
	case *Trace:
		return h.Trace(ctx, r)
	case *TableChunk:
		return h.TableChunk(ctx, r)
	case *Skipped:
		return h.Skipped(ctx, r)
	case *Notice:
		return h.Notice(ctx, r)
	case *Invalid:
		return h.Invalid(ctx, r)
	}
	return fmt.Errorf("unexpected record %T", rec)
}

// Each reads a source to its end, dispatching every record. It stops at the first error
// of a handler, at a cancelled context, or at the source's own error, which it returns
// wrapped with the source's name.
func Each(ctx context.Context, src Source, h Handler) error {
	for src.Next() {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("stopped: %w", err)
		}
		if err := Dispatch(ctx, src.Record(), h); err != nil {
			return err
		}
	}
	if err := src.Err(); err != nil {
		return fmt.Errorf("%s: %w", src.Describe(), err)
	}
	return nil
}
