package filestore

import (
	"context"

	"golang.org/x/sync/errgroup"

	"github.com/mlflow-bulk/mlflow-bulk/sources"
)

// inOrder calls load on every item, on workers goroutines side by side and at most
// window items ahead of use, and calls use with the results in the items' order on the
// calling goroutine. A store of many small experiments spends its time in the system
// calls that read each experiment's folder: done one after the other on the walk's
// goroutine they kept one core busy while the other waited. With workers <= 1 every
// item is loaded just before it is used.
//
// The first error of use stops the loading and is returned once every goroutine has
// ended; load cannot fail (its result carries what went wrong).
func inOrder[I, O any](ctx context.Context, workers, window int, items []I, load func(I) O, use func(O) error) error {
	if workers <= 1 {
		for _, item := range items {
			if err := use(load(item)); err != nil {
				return err
			}
		}
		return nil
	}
	if window < workers {
		window = workers
	}
	parent := ctx
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type job struct {
		item I
		out  chan O // buffered: a worker never waits for use
	}
	var g errgroup.Group
	jobs := make(chan job)
	order := make(chan chan O, window)
	g.Go(func() error {
		defer close(jobs)
		defer close(order)
		for _, item := range items {
			out := make(chan O, 1)
			select {
			case order <- out: // a slot in the window first, so loads stay window ahead
			case <-ctx.Done():
				return nil
			}
			select {
			case jobs <- job{item: item, out: out}:
			case <-ctx.Done():
				return nil
			}
		}
		return nil
	})
	for i := 0; i < workers; i++ {
		g.Go(func() error {
			for j := range jobs {
				j.out <- load(j.item)
			}
			return nil
		})
	}
	var useErr error
	for out := range order {
		var result O
		select {
		case result = <-out:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			// Stopped from outside: the result a cancelled walk would have used is not
			// waited for (its job may never have been handed out).
			useErr = sources.CheckContext(parent)
			break
		}
		if useErr = use(result); useErr != nil {
			break
		}
	}
	cancel()
	for range order { // let the producer see the cancel rather than a full window
	}
	_ = g.Wait()
	if useErr == nil {
		// The producer stops handing out items when the walk is cancelled.
		useErr = sources.CheckContext(parent)
	}
	return useErr
}

// orderWindow is how many units (a run, or a record of the walk) the walk puts in order
// ahead of the stream. Small runs are read in a few system calls each, and many of them
// ahead keep both the workers and the stream busy; a large run holds its worker until
// the stream takes its batches, so memory stays bounded by the batches (units.go).
func orderWindow(workers int) int { return max(32, 4*workers) }
