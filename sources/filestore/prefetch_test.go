package filestore

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
)

// TestInOrder: results come in the items' order whatever order the loads finish in,
// no more than the window are loaded ahead of use, and use's error stops the loading.
func TestInOrder(t *testing.T) {
	items := make([]int, 500)
	for i := range items {
		items[i] = i
	}
	for _, workers := range []int{1, 2, 7} {
		var used, ahead, mostAhead atomic.Int64
		load := func(i int) int {
			if n := ahead.Add(1); n > mostAhead.Load() {
				mostAhead.Store(n)
			}
			return i * 2
		}
		var got []int
		err := inOrder(context.Background(), workers, 3*workers, items, load, func(v int) error {
			ahead.Add(-1)
			used.Add(1)
			got = append(got, v)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range got {
			if v != 2*i {
				t.Fatalf("workers %d: result %d is %d, want %d", workers, i, v, 2*i)
			}
		}
		if len(got) != len(items) {
			t.Fatalf("workers %d: %d results of %d items", workers, len(got), len(items))
		}
		// The window, the result being used and the ones the workers hold.
		if limit := int64(3*workers + workers + 1); mostAhead.Load() > limit {
			t.Errorf("workers %d: %d loaded ahead of use, more than %d", workers, mostAhead.Load(), limit)
		}
	}
	stop := errors.New("stop")
	var loads atomic.Int64
	err := inOrder(context.Background(), 4, 8, items, func(i int) int { loads.Add(1); return i }, func(v int) error {
		if v == 10 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) {
		t.Fatalf("use's error: %v", err)
	}
	if n := loads.Load(); n > 10+8+4+1 {
		t.Errorf("%d items loaded after use stopped at item 10", n)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := inOrder(ctx, 4, 8, items, func(i int) int { return i }, func(int) error { return nil }); err == nil {
		t.Error("a cancelled walk went on")
	}
}
