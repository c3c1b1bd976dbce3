package trackingserver

import (
	"context"
	"fmt"
	"net/url"
	"strconv"

	"github.com/mlflow-bulk/mlflow-bulk/sources"
)

// pipeline emits records in the order they are handed to it while the metric histories
// among them are fetched side by side: at most `workers` requests at once, each history
// holding at most one page ahead of the emitter, so memory stays flat however long the
// histories are. The stream order (a run, then its histories) is the order given.
type pipeline struct {
	// ctx is the readers' context, cancelled when the emitter fails.
	ctx    context.Context
	cancel context.CancelFunc
	queue  chan *item
	slots  chan struct{}
	done   chan struct{}
	emit   func(context.Context, sources.Record) error
	err    error // the emitter's, read after done is closed
}

// item is a record, or a history being fetched: its pages arrive on pages, which is
// closed when the history is complete or err is set.
type item struct {
	rec        sources.Record
	runID, key string
	origin     sources.Origin
	pages      chan []sources.Metric
	err        error
}

func newPipeline(ctx context.Context, workers int, emit func(context.Context, sources.Record) error) *pipeline {
	inner, cancel := context.WithCancel(ctx)
	p := &pipeline{ctx: inner, cancel: cancel, queue: make(chan *item, 4*workers), slots: make(chan struct{}, workers), done: make(chan struct{}), emit: emit}
	go p.run(ctx)
	return p
}

// run emits the items in order.
func (p *pipeline) run(ctx context.Context) {
	defer close(p.done)
	for it := range p.queue {
		if it.pages == nil {
			if p.err == nil {
				p.err = p.emit(ctx, it.rec)
			}
		} else {
			for points := range it.pages {
				if p.err == nil {
					p.err = p.emit(ctx, &sources.Metrics{RunID: it.runID, Points: points, Origin: it.origin})
				}
			}
			if p.err == nil && it.err != nil {
				p.err = it.err
			}
		}
		if p.err != nil {
			p.cancel() // the fetches stop; what is queued is drained unsent
		}
	}
}

// record hands a record to be emitted after everything handed before it.
func (p *pipeline) record(ctx context.Context, rec sources.Record) error {
	return p.push(ctx, &item{rec: rec})
}

func (p *pipeline) push(ctx context.Context, it *item) error {
	select {
	case p.queue <- it:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// history starts fetching the history of one metric of a run, to be emitted in chunks
// of at most chunk points after everything handed before it.
func (p *pipeline) history(ctx context.Context, c *client, runID, key string, chunk int) error {
	select {
	case p.slots <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	it := &item{runID: runID, key: key, pages: make(chan []sources.Metric, 1),
		origin: sources.Origin{File: fmt.Sprintf("%s run %s metric %q", c.base.Redacted(), runID, key)}}
	go func() {
		defer func() { <-p.slots }()
		defer close(it.pages)
		it.err = p.fetch(c, it, chunk)
	}()
	return p.push(ctx, it)
}

// fetch reads a history page by page (MLflow's get-history, always with max_results:
// without it the server returns nothing and a token that never advances).
func (p *pipeline) fetch(c *client, it *item, chunk int) error {
	token := ""
	for {
		q := url.Values{"run_id": {it.runID}, "metric_key": {it.key}, "max_results": {strconv.Itoa(historyPage)}}
		if token != "" {
			q.Set("page_token", token)
		}
		var page metricHistory
		if err := c.get(p.ctx, "/api/2.0/mlflow/metrics/get-history", q, &page); err != nil {
			return fmt.Errorf("run %s metric %q: %w", it.runID, it.key, err)
		}
		points := make([]sources.Metric, len(page.Metrics))
		for i, m := range page.Metrics {
			points[i] = sources.Metric{Key: it.key, Value: float64(m.Value), Timestamp: int64(m.Timestamp), Step: int64(m.Step)}
		}
		for len(points) > 0 {
			n := min(chunk, len(points))
			select {
			case it.pages <- points[:n:n]:
			case <-p.ctx.Done():
				return p.ctx.Err()
			}
			points = points[n:]
		}
		next := page.NextPageToken
		if next == "" || len(page.Metrics) == 0 {
			return nil
		}
		if next == token {
			return fmt.Errorf("run %s metric %q: the server's next page token does not advance (%q)", it.runID, it.key, next)
		}
		token = next
	}
}

// wait ends the pipeline once the reader returned readErr: what was handed is emitted
// (or dropped after an error), and the first error is returned.
func (p *pipeline) wait(readErr error) error {
	if readErr != nil {
		p.cancel()
	}
	close(p.queue)
	<-p.done
	p.cancel()
	if p.err != nil {
		return p.err
	}
	return readErr
}
