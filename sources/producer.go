package sources

import (
	"context"
	"errors"
	"sync"
)

// Producer runs a reader in a goroutine that stays at most a bounded number of records
// ahead of the consumer, so reading overlaps writing and memory does not grow with the
// input. Formats embed it and implement only the reading.
//
// Records travel in batches: a store of many small runs otherwise pays a hand-over
// between goroutines (a wake-up of the other side) per record, which is most of its time.
type Producer struct {
	name   string
	out    chan []Record
	batch  []Record // what Next hands out one by one
	cancel context.CancelFunc
	done   chan struct{} // closed when read has returned
	err    error         // set by read before done is closed
	cur    Record
	// launch starts the reader, once: at the first Next, so that a consumer can set the
	// source up (RunStamper) after Open and before anything is read.
	launch sync.Once
	run    func()
}

// aheadBatches bounds how far a reader runs ahead of the importer: batches of one
// record, or of at most BatchRecords records and about BatchPoints metric points.
const aheadBatches = 64

// BatchRecords and BatchPoints bound a batch a reader hands over with EmitBatch.
const (
	BatchRecords = 64
	BatchPoints  = 4096
)

// Weight is what a record counts toward BatchPoints: the metric points it holds memory
// for, or 1.
func Weight(r Record) int {
	if m, ok := r.(*Metrics); ok && cap(m.Points) > 0 {
		return cap(m.Points)
	}
	return 1
}

// Start runs read in a goroutine; read emits records with p.Emit and returns nil at the
// end of the input or the error that ends it.
func (p *Producer) Start(ctx context.Context, name string, read func(context.Context) error) {
	ctx, p.cancel = context.WithCancel(ctx)
	p.name = name
	p.out = make(chan []Record, aheadBatches)
	p.done = make(chan struct{})
	p.run = func() {
		go func() {
			defer close(p.done)
			defer close(p.out)
			p.err = read(ctx)
		}()
	}
}

func (p *Producer) Describe() string { return p.name }

func (p *Producer) Next() bool {
	p.launch.Do(p.run)
	if len(p.batch) > 1 {
		p.batch[0] = nil // the consumer is done with it
		p.batch = p.batch[1:]
		p.cur = p.batch[0]
		return true
	}
	batch, ok := <-p.out
	for ok && len(batch) == 0 {
		batch, ok = <-p.out
	}
	if !ok {
		p.batch, p.cur = nil, nil
		<-p.done
		return false
	}
	p.batch, p.cur = batch, batch[0]
	return true
}

func (p *Producer) Record() Record { return p.cur }

func (p *Producer) Err() error {
	select {
	case <-p.done:
		return p.err
	default:
		return nil
	}
}

// Close stops the reader and waits for it; it is safe to call more than once.
func (p *Producer) Close() error {
	p.cancel()
	p.launch.Do(p.run) // a reader never started sees the cancellation and returns at once
	for range p.out {  // drain, so the reader sees the cancellation and returns
	}
	<-p.done
	return nil
}

// Emit hands a record to the consumer, or gives up when the context ends.
func (p *Producer) Emit(ctx context.Context, r Record) error {
	return p.EmitBatch(ctx, []Record{r})
}

// EmitBatch hands records to the consumer in one hand-over; the reader must not touch
// the slice or its records afterwards. Batches are kept within BatchRecords and
// BatchPoints, so memory stays bounded.
func (p *Producer) EmitBatch(ctx context.Context, rs []Record) error {
	if len(rs) == 0 {
		return nil
	}
	select {
	case p.out <- rs:
		return nil
	case <-ctx.Done():
		return CheckContext(ctx)
	}
}

func (p *Producer) Skip(ctx context.Context, path, reason string) error {
	return p.Emit(ctx, &Skipped{Path: path, Reason: reason})
}

// InvalidOrFatal emits bad input as Invalid and returns other errors.
func (p *Producer) InvalidOrFatal(ctx context.Context, err error) error {
	var inErr *InputError
	if errors.As(err, &inErr) {
		return p.Emit(ctx, &Invalid{Err: inErr})
	}
	return err
}
