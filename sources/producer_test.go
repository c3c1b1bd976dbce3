package sources

import (
	"context"
	"testing"
)

// TestProducerBatches: records handed over in batches, one by one and in empty
// batches come out one at a time in the order they were emitted.
func TestProducerBatches(t *testing.T) {
	var p Producer
	p.Start(context.Background(), "test", func(ctx context.Context) error {
		if err := p.EmitBatch(ctx, []Record{&Skipped{Path: "1"}, &Skipped{Path: "2"}, &Skipped{Path: "3"}}); err != nil {
			return err
		}
		if err := p.EmitBatch(ctx, nil); err != nil {
			return err
		}
		if err := p.Emit(ctx, &Skipped{Path: "4"}); err != nil {
			return err
		}
		return p.EmitBatch(ctx, []Record{&Skipped{Path: "5"}})
	})
	defer p.Close()
	var got string
	for p.Next() {
		got += p.Record().(*Skipped).Path
	}
	if err := p.Err(); err != nil {
		t.Fatal(err)
	}
	if got != "12345" {
		t.Errorf("records came as %q, want 12345", got)
	}
	if p.Record() != nil {
		t.Error("a record is still current after the end")
	}
}

// TestWeight: a chunk of metric points weighs the points it holds memory for.
func TestWeight(t *testing.T) {
	if w := Weight(&Metrics{Points: make([]Metric, 3, 100)}); w != 100 {
		t.Errorf("a chunk of 3 points in room for 100 weighs %d", w)
	}
	if w := Weight(&Run{}); w != 1 {
		t.Errorf("a run weighs %d", w)
	}
}
