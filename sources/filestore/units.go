package filestore

import (
	"context"

	"github.com/mlflow-bulk/mlflow-bulk/sources"
)

// With several workers, the walk puts a unit (a channel of batches of records) in order
// for each thing it meets; workers fill the units of runs side by side; one goroutine
// empties the units in order into the stream. Records travel in batches, and the
// stream gathers the small units that are ready into one batch: a store of many small
// runs otherwise pays a wake-up of another goroutine per record.

// unit is the records of one run, or a single record of the walk.
type unit chan []sources.Record

// batcher gathers records into batches within the producer's bounds.
type batcher struct {
	out     func(context.Context, []sources.Record) error
	records []sources.Record
	weight  int
}

func (b *batcher) add(ctx context.Context, r sources.Record) error {
	b.records = append(b.records, r)
	b.weight += sources.Weight(r)
	if len(b.records) >= sources.BatchRecords || b.weight >= sources.BatchPoints {
		return b.flush(ctx)
	}
	return nil
}

// flush hands over what is gathered; the next batch is a new slice (the last one is
// the receiver's now).
func (b *batcher) flush(ctx context.Context) error {
	if len(b.records) == 0 {
		return nil
	}
	records := b.records
	b.records, b.weight = nil, 0
	return b.out(ctx, records)
}

// toUnit is the batcher of a worker's run: its batches go into the run's unit.
func toUnit(u unit) *batcher {
	return &batcher{out: func(ctx context.Context, records []sources.Record) error {
		select {
		case u <- records:
			return nil
		case <-ctx.Done():
			return sources.CheckContext(ctx)
		}
	}}
}

// emitUnits empties the units in order into the stream, gathering what is ready into
// one batch and handing it over whenever it would otherwise wait.
func (s *fileStore) emitUnits(ctx context.Context) error {
	b := &batcher{out: s.EmitBatch}
	for {
		u, ok, err := receive(ctx, s.order, b)
		if err != nil || !ok {
			if err == nil {
				err = b.flush(ctx)
			}
			return err
		}
		for {
			records, ok, err := receive(ctx, u, b)
			if err != nil {
				return err
			}
			if !ok {
				break
			}
			for _, r := range records {
				if err := b.add(ctx, r); err != nil {
					return err
				}
			}
		}
	}
}

// receive takes the next value of ch, handing over what b gathered first when none is
// ready yet.
func receive[T any](ctx context.Context, ch <-chan T, b *batcher) (T, bool, error) {
	select {
	case v, ok := <-ch:
		return v, ok, nil
	default:
	}
	if err := b.flush(ctx); err != nil {
		var zero T
		return zero, false, err
	}
	v, ok := <-ch
	return v, ok, nil
}
