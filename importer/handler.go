package importer

import (
	"context"

	"github.com/mlflow-bulk/mlflow-bulk/sources"
)

// importHandler takes one source's records into the import. A record other than a Run's
// Metrics closes the run being read; entities outside runs (logged models, the registry,
// traces, tables copied as rows) are written by the first shard only.
type importHandler struct {
	im     *importer
	source int
	// reading is the window of runs whose stored state is being read (readahead.go).
	reading *windowRead
}

// closeRun imports the runs held ahead, then completes the last of them.
func (h *importHandler) closeRun(ctx context.Context) error {
	if err := h.drain(ctx); err != nil {
		return err
	}
	return h.im.runs.finishRun(ctx)
}

func (h *importHandler) Experiment(ctx context.Context, r *sources.Experiment) error {
	if err := h.closeRun(ctx); err != nil {
		return err
	}
	return h.keysAsked(h.im.exps.experiment(ctx, h.source, r))
}

// keysAsked returns err, or the failure of a look-up of how the target compares keys.
func (h *importHandler) keysAsked(err error) error {
	if err != nil {
		return err
	}
	return h.im.keys.failed()
}

func (h *importHandler) Dataset(ctx context.Context, r *sources.Dataset) error {
	if err := h.closeRun(ctx); err != nil {
		return err
	}
	return h.im.exps.dataset(ctx, h.source, r)
}

func (h *importHandler) Run(ctx context.Context, r *sources.Run) error {
	if !h.im.runs.readsAhead() {
		return h.run(ctx, r)
	}
	if h.im.runs.ahead.runs >= aheadRuns {
		if err := h.rotate(ctx); err != nil {
			return err
		}
	}
	h.im.runs.ahead.holdRun(r)
	return nil
}

// run completes the run before and starts r.
func (h *importHandler) run(ctx context.Context, r *sources.Run) error {
	if err := h.im.runs.finishRun(ctx); err != nil {
		return err
	}
	if h.im.runs.unchangedRun(h.source, r) {
		return nil
	}
	return h.keysAsked(h.im.runs.startRun(ctx, h.source, r))
}

func (h *importHandler) Metrics(ctx context.Context, r *sources.Metrics) error {
	if len(h.im.runs.ahead.records) == 0 && h.reading == nil {
		return h.keysAsked(h.im.runs.addMetrics(ctx, r))
	}
	h.im.runs.ahead.holdMetrics(r) // the history of the last run held
	if h.im.runs.ahead.points >= aheadPoints {
		return h.rotate(ctx)
	}
	return nil
}

// outsideRuns runs write for an entity that is not part of a run, on the first shard.
func (h *importHandler) outsideRuns(ctx context.Context, write func() error) error {
	if err := h.closeRun(ctx); err != nil || !h.im.opts.Filter.FirstShard() {
		return err
	}
	return write()
}

func (h *importHandler) LoggedModel(ctx context.Context, r *sources.LoggedModel) error {
	return h.outsideRuns(ctx, func() error { return h.im.entities.loggedModel(ctx, h.source, r) })
}

func (h *importHandler) RegisteredModel(ctx context.Context, r *sources.RegisteredModel) error {
	return h.outsideRuns(ctx, func() error { return h.im.entities.registeredModel(ctx, r) })
}

func (h *importHandler) Trace(ctx context.Context, r *sources.Trace) error {
	return h.outsideRuns(ctx, func() error { return h.im.entities.trace(ctx, h.source, r) })
}

func (h *importHandler) TableChunk(ctx context.Context, r *sources.TableChunk) error {
	return h.outsideRuns(ctx, func() error { return h.im.copier.tableChunk(ctx, h.source, r) })
}

func (h *importHandler) Skipped(_ context.Context, r *sources.Skipped) error {
	h.im.noteSkipped(r.Path, r.Reason)
	return nil
}

func (h *importHandler) Notice(_ context.Context, r *sources.Notice) error {
	h.im.report.Notices = append(h.im.report.Notices, r.Path+": "+r.Message)
	return nil
}

// Invalid first imports the runs held ahead: the run it spoils is the last of them.
func (h *importHandler) Invalid(ctx context.Context, r *sources.Invalid) error {
	if err := h.drain(ctx); err != nil {
		return err
	}
	return h.im.runs.invalidRun(ctx, r.Err)
}
