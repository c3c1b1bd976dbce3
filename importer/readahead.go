package importer

import (
	"context"
	"slices"

	"github.com/mlflow-bulk/mlflow-bulk/importer/rules"
	"github.com/mlflow-bulk/mlflow-bulk/schema"

	"github.com/mlflow-bulk/mlflow-bulk/sources"
)

// A target that already holds runs is asked, for every run read, whether it has it and
// what it holds of it. Asked run by run, a nightly re-import of many small runs is a
// handful of round trips per run and takes longer than the first import did. So the
// importer holds the next runs of a source back, with their metric points, up to a
// window, and reads what the target holds of all of them in a few queries while the
// source goes on filling the next window; then it imports the window's runs, each exactly
// as it would have been one by one. The transaction is the read's alone while it runs:
// filling a window touches no database.
// The bounds are variables only so that tests can make windows small.
var (
	// aheadRuns and aheadPoints bound a window: its runs, and the metric points of the
	// source held with them. A run of more points ends its window and streams on.
	aheadRuns   = 500
	aheadPoints = 100_000
	// aheadStoredPoints bounds the stored points read for a window; a run past it has
	// its stored history read when it is merged.
	aheadStoredPoints int64 = 200_000
)

// aheadRecord is a run, or a chunk of its history, held back with what it owned copied:
// sources may reuse their records once asked for the next.
type aheadRecord struct {
	run     *sources.Run
	metrics *sources.Metrics
}

// readAhead is the window of records held back.
type readAhead struct {
	records []aheadRecord
	runs    int
	points  int
}

func (ra *readAhead) holdRun(r *sources.Run) {
	c := *r
	c.Params = slices.Clone(r.Params)
	c.Tags = slices.Clone(r.Tags)
	c.LatestMetrics = slices.Clone(r.LatestMetrics)
	c.Inputs = slices.Clone(r.Inputs)
	for i := range c.Inputs {
		c.Inputs[i].Tags = slices.Clone(c.Inputs[i].Tags)
	}
	ra.records = append(ra.records, aheadRecord{run: &c})
	ra.runs++
}

func (ra *readAhead) holdMetrics(m *sources.Metrics) {
	c := *m
	c.Points = slices.Clone(m.Points)
	ra.records = append(ra.records, aheadRecord{metrics: &c})
	ra.points += len(m.Points)
}

// take empties the window and returns what it held.
func (ra *readAhead) take() []aheadRecord {
	records := ra.records
	*ra = readAhead{}
	return records
}

// storedRunData is what the target held of a run before the import reached it.
type storedRunData struct {
	present  bool
	progress storedRun
	// complete is set when params, tags and latest metrics were read with the window.
	complete     bool
	params, tags []sources.Tag
	latest       []rules.MetricPoint
	// metricsRead is set when the stored history was read with the window (it was
	// within aheadStoredPoints).
	metricsRead bool
	metrics     []rules.PointKey
	// inputs is nil unless read with the window (only runs whose source has inputs).
	inputs map[inputEdge]bool
}

// windowRead is a window whose stored state is being read on its own goroutine. The
// goroutine shares nothing with the importer: it gets a storedReader and the ids to ask
// for, and hands back what it read in stored, read once done is closed.
type windowRead struct {
	records []aheadRecord
	stored  map[string]*storedRunData // the read's result, once done is closed
	err     error                     // the read's, once done is closed
	done    chan struct{}             // closed when the read is over
}

// rotate starts reading the stored state of the window just filled, once the window
// read before it is imported.
func (h *importHandler) rotate(ctx context.Context) error {
	if err := h.importRead(ctx); err != nil {
		return err
	}
	records := h.im.runs.ahead.take()
	w := &windowRead{records: records, done: make(chan struct{})}
	reader, ids := h.im.runs.storedReader(), h.im.runs.storedToAsk(records)
	go func() {
		defer close(w.done)
		w.stored, w.err = reader.read(ctx, ids)
	}()
	h.reading = w
	return nil
}

// importRead waits for the window being read and imports its runs.
func (h *importHandler) importRead(ctx context.Context) error {
	w := h.reading
	if w == nil {
		return nil
	}
	h.reading = nil
	<-w.done
	if w.err != nil {
		return w.err
	}
	h.im.runs.stored = w.stored
	return h.replay(ctx, w.records)
}

// drain imports every run held ahead: the window being read, then the one filling.
func (h *importHandler) drain(ctx context.Context) error {
	if err := h.importRead(ctx); err != nil {
		return err
	}
	records := h.im.runs.ahead.take()
	if len(records) == 0 {
		return nil
	}
	stored, err := h.im.runs.storedReader().read(ctx, h.im.runs.storedToAsk(records))
	if err != nil {
		return err
	}
	h.im.runs.stored = stored
	return h.replay(ctx, records)
}

// abandon drops what is held ahead after the source failed, once the transaction is
// free again. The read's own error is of no account: the import fails with the source's.
func (h *importHandler) abandon() {
	if h.reading != nil {
		<-h.reading.done
		h.reading = nil
	}
	h.im.runs.ahead.take()
}

// replay imports held records in the order the source gave them.
func (h *importHandler) replay(ctx context.Context, records []aheadRecord) error {
	for _, rec := range records {
		var err error
		if rec.run != nil {
			err = h.run(ctx, rec.run)
		} else {
			err = h.keysAsked(h.im.runs.addMetrics(ctx, rec.metrics))
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// readsAhead says whether runs are held back: only where the target holds runs to ask
// about. An empty target is never asked, so its first import streams straight through.
func (w *runWriter) readsAhead() bool { return w.targetHasRuns }

// storedAsk is what a window asks the target: its runs' ids, and which of them have
// inputs in the source.
type storedAsk struct {
	ids        []string
	withInputs map[string]bool
}

// storedToAsk lists the runs of a window whose stored state to read. A run already seen
// in this import is left to be read when merged: rows of it may still be in the buffers.
func (w *runWriter) storedToAsk(records []aheadRecord) storedAsk {
	ask := storedAsk{withInputs: map[string]bool{}}
	asked := map[string]bool{}
	for _, rec := range records {
		r := rec.run
		if r == nil || r.Unchanged || asked[r.RunID] {
			continue
		}
		if _, seen := w.seenRuns[r.RunID]; seen {
			continue
		}
		asked[r.RunID] = true
		ask.ids = append(ask.ids, r.RunID)
		if len(r.Inputs) > 0 {
			ask.withInputs[r.RunID] = true
		}
	}
	return ask
}

// storedReader reads what the target holds of a window's runs. It holds only what the
// read needs (the store, whose transaction is the read's alone while it runs), so that
// it can run beside the importer filling the next window.
type storedReader struct {
	store Store
	rev   *schema.Revision
	// merge: stored runs are merged (the default policy), so what they hold is read.
	merge bool
}

func (w *runWriter) storedReader() storedReader {
	policy := w.opts.OnExistingRun
	return storedReader{store: w.store, rev: w.rev, merge: policy != rules.ExistingRunSkip && policy != rules.ExistingRunFail}
}

// read reads what the target holds of the runs asked for.
func (r storedReader) read(ctx context.Context, ask storedAsk) (map[string]*storedRunData, error) {
	stored := map[string]*storedRunData{}
	for _, id := range ask.ids {
		stored[id] = &storedRunData{}
	}
	progress, err := r.store.RunsProgress(ctx, ask.ids)
	if err != nil {
		return nil, err
	}
	var present []string
	for _, id := range ask.ids {
		if p, ok := progress[id]; ok {
			stored[id].present, stored[id].progress = true, p
			present = append(present, id)
		}
	}
	if len(present) == 0 || !r.merge {
		return stored, nil
	}
	err = r.store.RunsKeyValues(ctx, "params", present, func(id string, t sources.Tag) {
		stored[id].params = append(stored[id].params, t)
	})
	if err == nil {
		err = r.store.RunsKeyValues(ctx, "tags", present, func(id string, t sources.Tag) {
			stored[id].tags = append(stored[id].tags, t)
		})
	}
	if err == nil && r.rev.HasTable("latest_metrics") {
		err = r.store.RunsLatestMetrics(ctx, present, func(id string, p rules.MetricPoint) {
			stored[id].latest = append(stored[id].latest, p)
		})
	}
	if err != nil {
		return nil, err
	}
	for _, id := range present {
		stored[id].complete = true
	}
	if err := r.readMetrics(ctx, present, stored); err != nil {
		return nil, err
	}
	if !r.rev.HasTable("inputs") {
		return stored, nil
	}
	var inputsOf []string
	for _, id := range present {
		if ask.withInputs[id] {
			inputsOf = append(inputsOf, id)
			stored[id].inputs = map[inputEdge]bool{}
		}
	}
	err = r.store.RunsInputEdges(ctx, inputsOf, func(id string, e inputEdge) {
		stored[id].inputs[e] = true
	})
	return stored, err
}

// readMetrics reads the stored histories of the window's runs, as many whole as fit in
// aheadStoredPoints.
func (r storedReader) readMetrics(ctx context.Context, present []string, stored map[string]*storedRunData) error {
	counts, err := r.store.RunsMetricCounts(ctx, present)
	if err != nil {
		return err
	}
	var within []string
	var total int64
	for _, id := range present {
		n := counts[id]
		if total+n > aheadStoredPoints {
			continue
		}
		total += n
		within = append(within, id)
		stored[id].metricsRead = true
	}
	return r.store.RunsMetrics(ctx, within, func(id string, k rules.PointKey) {
		stored[id].metrics = append(stored[id].metrics, k)
	})
}

// takeStored hands over what the window read of a run, once: a second copy of the run
// in the same import finds the target changed by the first.
func (w *runWriter) takeStored(id string) *storedRunData {
	d := w.stored[id]
	delete(w.stored, id)
	return d
}
