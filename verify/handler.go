package verify

import (
	"context"
	"fmt"

	"github.com/mlflow-bulk/mlflow-bulk/importer/rules"
	"github.com/mlflow-bulk/mlflow-bulk/schema/live"
	"github.com/mlflow-bulk/mlflow-bulk/tablerows"

	"github.com/mlflow-bulk/mlflow-bulk/schema"
	"github.com/mlflow-bulk/mlflow-bulk/sources"
)

// verifyHandler takes a source's records into the verification: a record other than a
// run's Metrics closes the run being compared.
type verifyHandler verifier

func (h *verifyHandler) v() *verifier { return (*verifier)(h) }

// afterRun finishes the run being compared, then does the rest.
func (h *verifyHandler) afterRun(ctx context.Context, then func() error) error {
	if err := h.v().finishRun(ctx); err != nil {
		return err
	}
	return then()
}

func (h *verifyHandler) Experiment(ctx context.Context, r *sources.Experiment) error {
	return h.afterRun(ctx, func() error { return h.v().experiment(ctx, r) })
}

func (h *verifyHandler) Dataset(ctx context.Context, r *sources.Dataset) error {
	return h.afterRun(ctx, func() error {
		if id, ok := h.expTarget[r.ExperimentSourceID]; ok {
			h.owned.datasets[datasetKey(id, r.Name, r.Digest)] = true
		}
		h.datasetNames[r.ExperimentSourceID+"\x00"+r.Key] = datasetIdentity(r.Name, r.Digest)
		return h.v().verifyRecordRows(ctx, datasetRows(r))
	})
}

func (h *verifyHandler) Run(ctx context.Context, r *sources.Run) error {
	return h.afterRun(ctx, func() error { return h.v().startRun(ctx, r) })
}

func (h *verifyHandler) Metrics(_ context.Context, r *sources.Metrics) error {
	run := h.run
	if run == nil || run.id != r.RunID || run.missing {
		return nil
	}
	for _, p := range r.Points {
		value, isNaN := rules.Sanitize(p.Value)
		// Each point once, as the import stores it, with the import's bounded memory.
		point := rules.MetricPoint{Key: p.Key, Value: value, Timestamp: p.Timestamp, Step: p.Step, IsNaN: isNaN}
		k := rules.KeyOf(point)
		if run.seen.Has(k) {
			continue
		}
		run.seen.Add(k)
		run.history(p.Key).add(point)
	}
	return nil
}

func (h *verifyHandler) LoggedModel(ctx context.Context, r *sources.LoggedModel) error {
	h.owned.models[r.ModelID] = true
	return h.afterRun(ctx, func() error {
		err := h.v().verifyRecordRows(ctx, loggedModelRows(r, func(id string) bool { return h.v().runInTarget(ctx, id) }))
		h.v().settleExtras("logged model " + r.ModelID)
		if err != nil || h.files == nil {
			return err
		}
		want := h.files.expected(r.ArtifactsAt, r.ArtifactLocation, h.expWorkspace[r.ExperimentSourceID], h.expTarget[r.ExperimentSourceID], "models", r.ModelID, "artifacts")
		return h.files.compare(ctx, r.ArtifactsAt, r.ArtifactLocation, want, func(path, detail string) {
			h.v().differ("", KindArtifactFile, "logged model "+r.ModelID+" "+path, detail)
		})
	})
}

func (h *verifyHandler) RegisteredModel(ctx context.Context, r *sources.RegisteredModel) error {
	return h.afterRun(ctx, func() error {
		r, err := h.files.relocateVersions(ctx, h.tx, h.tables["logged_models"] != nil, r)
		if err != nil {
			return err
		}
		sets := registryRows(r)
		ws := h.v().workspaceOf(r.Workspace)
		own, err := h.v().ownModel(ctx, ws, r)
		if err != nil {
			return err
		}
		for i := range sets {
			sets[i].workspace = ws
			if own && i > 0 {
				sets[i].scope = &scope{column: "name", value: r.Name, workspace: ws}
			}
		}
		err = h.v().verifyRecordRows(ctx, sets)
		h.v().settleExtras("registered model " + ws + "\x00" + r.Name)
		return err
	})
}

func (h *verifyHandler) Trace(ctx context.Context, r *sources.Trace) error {
	if len(h.opts.ArtifactMap) > 0 {
		r = tablerows.MapTraceArtifactTag(h.opts.ArtifactMap, r)
	}
	source := r
	if h.files != nil {
		r = tablerows.MapTraceArtifact(r, func(location string) (string, bool) {
			want := h.files.expected(r.ArtifactsAt, location, h.expWorkspace[r.ExperimentSourceID], h.expTarget[r.ExperimentSourceID], "traces", r.RequestID, "artifacts")
			return want, true
		})
	} else if ws := h.expWorkspace[r.ExperimentSourceID]; ws != "" {
		r = tablerows.MapTraceArtifact(r, func(location string) (string, bool) { return rules.WorkspaceArtifact(location, ws) })
	}
	// As the import wrote it: in the columns of MLflow 3.17's trace analytics, or in the
	// rows older releases keep them in.
	r, _ = rules.ShapeTrace(r, rules.TraceShapeOf(func(table, column string) bool {
		t := h.tables[table]
		return t != nil && (column == "" || t.Column(column) != nil)
	}))
	h.owned.traces[r.RequestID] = true
	return h.afterRun(ctx, func() error {
		compared := map[string]bool{}
		for _, t := range r.Tables {
			info := h.tables[t.Table]
			if info == nil {
				info = &schema.TableInfo{Name: t.Table}
			}
			compared[t.Table] = true
			if err := h.v().tableRowsIn(ctx, info, t.Columns, t.Rows, traceScope(t.Table, r.RequestID)); err != nil {
				return err
			}
		}
		// The trace is the source's own (its id): rows of tables it has none of are extra.
		for _, child := range traceChildren {
			if info := h.tables[child.table]; info != nil && !compared[child.table] {
				if err := h.v().tableRowsIn(ctx, info, nil, nil, traceScope(child.table, r.RequestID)); err != nil {
					return err
				}
			}
		}
		h.v().settleExtras("trace " + r.RequestID)
		if location, ok := traceArtifactLocation(source); ok && h.files != nil {
			want := h.files.expected(source.ArtifactsAt, location, h.expWorkspace[source.ExperimentSourceID], h.expTarget[source.ExperimentSourceID], "traces", source.RequestID, "artifacts")
			return h.files.compare(ctx, source.ArtifactsAt, location, want, func(path, detail string) {
				h.v().differ("", KindArtifactFile, "trace "+source.RequestID+" "+path, detail)
			})
		}
		return nil
	})
}

func (h *verifyHandler) TableChunk(ctx context.Context, r *sources.TableChunk) error {
	return h.afterRun(ctx, func() error {
		// Placed as the import placed them: into the one workspace --workspace names,
		// the source's own workspaces rows not copied.
		rows, copied := tablerows.PlaceInWorkspace(r.Table.Name, r.Columns, r.Rows, h.v().opts.Workspace)
		if !copied {
			return nil
		}
		return h.v().tableRows(ctx, r.Table, r.Columns, rows)
	})
}

func (h *verifyHandler) Skipped(ctx context.Context, _ *sources.Skipped) error {
	return h.v().finishRun(ctx)
}

func (h *verifyHandler) Notice(ctx context.Context, _ *sources.Notice) error {
	return h.v().finishRun(ctx)
}

func (h *verifyHandler) Invalid(_ context.Context, r *sources.Invalid) error {
	if v := h.v(); v.opts.SkipInvalid {
		v.report.Accepted.InvalidLeftOut++ // the import left it out, as it said
		v.leftOutRun(r.Err.RunID)
		return nil
	}
	h.v().differ(r.Err.RunID, "source invalid", "", r.Err.Error())
	return nil
}

// traceChildren are the tables that hang off a trace, by the column naming it.
var traceChildren = []struct{ table, column string }{
	{"trace_tags", "request_id"}, {"trace_request_metadata", "request_id"}, {"trace_metrics", "request_id"},
	{"assessments", "trace_id"}, {"spans", "trace_id"}, {"span_metrics", "trace_id"},
}

// traceScope is the scope of a trace's rows in a child table; nil for trace_info.
func traceScope(table, requestID string) *scope {
	for _, c := range traceChildren {
		if c.table == table {
			return &scope{column: c.column, value: requestID}
		}
	}
	return nil
}

// ownModel reports whether the target's registered model of that name is the source's
// own (the same creation time), whose rows the source holds all of; one merged by name
// from elsewhere keeps its own.
func (v *verifier) ownModel(ctx context.Context, ws string, m *sources.RegisteredModel) (bool, error) {
	if m.CreationTime == nil || v.opts.OnModelConflict == rules.ModelConflictKeepTarget || v.tables["registered_models"] == nil {
		return false, nil
	}
	query, args := "SELECT creation_time FROM registered_models WHERE name = ?", []any{m.Name}
	if ws != "" {
		query, args = query+" AND workspace = ?", append(args, ws)
	}
	var created *int64
	err := live.EachRow(ctx, v.tx, query, args, func(scan func(...any) error) error { return scan(&created) })
	if err != nil {
		return false, fmt.Errorf("read registered model %q of the target: %w", m.Name, err)
	}
	return created != nil && *created == *m.CreationTime, nil
}
