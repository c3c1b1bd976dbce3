package synth

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestWriteStopsWhenCancelled: generate honours Ctrl-C and SIGTERM: a cancelled context
// stops the writing before the next run.
func TestWriteStopsWhenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	root := filepath.Join(t.TempDir(), "mlruns")
	st, err := Write(ctx, root, Options{Experiments: 1, Runs: 1000, MetricKeys: 1, Steps: 1})
	if !errors.Is(err, context.Canceled) || st.Runs != 0 {
		t.Errorf("Write under a cancelled context: %d runs, %v", st.Runs, err)
	}
	if _, err := os.Stat(root); err != nil {
		t.Errorf("the store's folder: %v", err)
	}
	st, err = Write(context.Background(), filepath.Join(t.TempDir(), "mlruns"), Options{Experiments: 1, Runs: 3, MetricKeys: 1, Steps: 1})
	if err != nil || st.Runs != 3 {
		t.Errorf("Write: %d runs, %v", st.Runs, err)
	}
}
