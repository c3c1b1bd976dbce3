package importer

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/mlflow-bulk/mlflow-bulk/importer/rules"
	"github.com/mlflow-bulk/mlflow-bulk/schema/live"
	"github.com/mlflow-bulk/mlflow-bulk/tablerows"

	"github.com/mlflow-bulk/mlflow-bulk/schema"
	"github.com/mlflow-bulk/mlflow-bulk/sources"
)

// trace writes an MLflow trace, row by row, into the trace tables the target has: the
// columns both sides have are copied, experiment ids mapped, generated columns left to
// the database. A trace the target holds (same request id) is skipped, as runs are.
func (ew *entityWriter) trace(ctx context.Context, source int, tr *sources.Trace) error {
	assessments := int64(0)
	for _, t := range tr.Tables {
		if t.Table == "assessments" {
			assessments += int64(len(t.Rows))
		}
	}
	ew.committed.of(entityAssessments).Read += assessments
	expID, write, err := ew.newExperimentEntity(ctx, entityTraces, ew.rev.AtLeast("867495a8f9d4"), expKey{source, tr.ExperimentSourceID},
		tr.Origin.File, "trace_info", "request_id", tr.RequestID)
	if err != nil || !write {
		ew.committed.of(entityAssessments).Skipped += assessments
		return err
	}
	for _, t := range tr.Tables {
		for _, row := range t.Rows {
			if err := ew.asm.CheckRow("trace "+tr.RequestID+" "+t.Table, t.Columns, row); err != nil {
				ew.committed.of(entityTraces).Rejected++
				ew.committed.of(entityAssessments).Rejected += assessments
				return ew.invalid(&sources.InputError{File: tr.Origin.File, Err: err})
			}
		}
	}
	if tr, err = ew.placeTraceArtifacts(ctx, source, tr); err != nil {
		return err
	}
	shape, err := ew.targetTraceShape(ctx)
	if err != nil {
		return err
	}
	tr, notes := rules.ShapeTrace(tr, shape)
	ew.report.Notices = append(ew.report.Notices, notes...)
	for _, t := range tr.Tables {
		for _, row := range t.Rows {
			if err := ew.widths.overLong(ctx, ew.tx, "trace "+tr.RequestID+" "+t.Table, t.Table, t.Columns, row); err != nil {
				var tooLong *tooLongError
				if !errors.As(err, &tooLong) {
					return err // reading the target's columns failed
				}
				ew.committed.of(entityTraces).Rejected++
				ew.committed.of(entityAssessments).Rejected += assessments
				return ew.invalid(&sources.InputError{File: tr.Origin.File, Err: err})
			}
		}
	}
	for _, t := range tr.Tables {
		cols, err := ew.targetColumns(ctx, t.Table)
		if err != nil {
			return err
		}
		if cols == nil {
			if err := ew.lacking(tr.Origin.File, t.Table, "", int64(len(t.Rows)), "trace rows of table "+t.Table); err != nil {
				return err
			}
			if t.Table == "assessments" {
				ew.committed.of(entityAssessments).Skipped += int64(len(t.Rows))
			}
			continue
		}
		if t.Table == "assessments" {
			ew.batch.of(entityAssessments).Created += int64(len(t.Rows))
		}
		for _, row := range t.Rows {
			if err := ew.insertTraceRow(ctx, source, tr.Origin.File, t, row, cols, expID); err != nil {
				return fmt.Errorf("trace %s: %w", tr.RequestID, err)
			}
		}
	}
	ew.batch.of(entityTraces).Created++
	if rollups, err := ew.targetColumns(ctx, traceRollupTable); err != nil {
		return err
	} else if rollups != nil {
		ew.noticeOnce("the target's trace rollup tables (sql_trace_metric_daily_rollups and the others) are left empty, as MLflow's own upgrade leaves them: `mlflow db build-trace-rollups` fills them")
	}
	return nil
}

// traceRollupTable is one of the tables of daily trace summaries MLflow 3.17 added,
// which MLflow builds from the traces on request.
const traceRollupTable = "sql_trace_metric_daily_rollups"

// targetTraceShape is how the target holds a trace's name, session, tokens and costs
// (MLflow 3.17 moved them from rows into columns).
func (ew *entityWriter) targetTraceShape(ctx context.Context) (rules.TraceShape, error) {
	var err error
	shape := rules.TraceShapeOf(func(table, column string) bool {
		cols, e := ew.targetColumns(ctx, table)
		if e != nil {
			err = e
			return false
		}
		if column == "" {
			return cols != nil
		}
		_, ok := cols[column]
		return ok
	})
	return shape, err
}

// mapTraceArtifacts rewrites the location of a trace's spans by --artifact-root-map, as
// experiment and run locations are; the source's record is left as it is.
func (ew *entityWriter) mapTraceArtifacts(tr *sources.Trace) *sources.Trace {
	if len(ew.opts.ArtifactMap) == 0 {
		return tr
	}
	return tablerows.MapTraceArtifactTag(ew.opts.ArtifactMap, tr)
}

// placeTraceArtifacts points a trace's artifact tag where the target keeps its spans:
// mapped by --artifact-root-map and placed in the experiment's workspace, or at the
// copy the import makes of them.
func (ew *entityWriter) placeTraceArtifacts(ctx context.Context, source int, tr *sources.Trace) (*sources.Trace, error) {
	if ew.exps.mover != nil {
		return ew.copyTraceArtifacts(ctx, source, tr)
	}
	tr = ew.mapTraceArtifacts(tr)
	if ws := ew.exps.experimentWorkspace(expKey{source, tr.ExperimentSourceID}); ws != "" {
		tr = tablerows.MapTraceArtifact(tr, func(location string) (string, bool) {
			placed := ew.exps.workspaceLocation(ws, location)
			return placed, placed != location
		})
	}
	return tr, nil
}

// copyTraceArtifacts copies the spans of a trace whose tag names where they are, when
// the import copies artifacts, and points the tag at the copy.
func (ew *entityWriter) copyTraceArtifacts(ctx context.Context, source int, tr *sources.Trace) (*sources.Trace, error) {
	mover := ew.exps.mover
	if mover == nil {
		return tr, nil
	}
	var moveErr error
	to := ew.exps.copiedLocation(expKey{source, tr.ExperimentSourceID}, "traces", tr.RequestID, "artifacts")
	out := tablerows.MapTraceArtifact(tr, func(location string) (string, bool) {
		copied, err := mover.move(ctx, "trace "+tr.RequestID, tr.Origin.File, "", tr.ArtifactsAt, location, to)
		if err != nil {
			moveErr = err
			return location, false
		}
		return copied, copied != location
	})
	return out, moveErr
}

// targetColumns are the insertable columns of a table in the target, read once.
func (ew *entityWriter) targetColumns(ctx context.Context, table string) (map[string]schema.Column, error) {
	if cols, ok := ew.tableColumns[table]; ok {
		return cols, nil
	}
	list, err := live.InsertableColumns(ctx, ew.tx, ew.dialect, table)
	if err != nil {
		return nil, err
	}
	var cols map[string]schema.Column
	if len(list) > 0 {
		cols = map[string]schema.Column{}
		for _, c := range list {
			cols[c.Name] = c
		}
	}
	ew.tableColumns[table] = cols
	return cols, nil
}

// insertTraceRow writes one row of a trace. Experiment ids are mapped by their own value
// (a span may name another experiment than its trace, as MLflow allows); one the import
// did not map takes the trace's experiment, which the report says.
func (ew *entityWriter) insertTraceRow(ctx context.Context, source int, file string, t sources.TableRows, row []any, cols map[string]schema.Column, expID int64) error {
	var names []string
	var args []any
	for i, name := range t.Columns {
		col, ok := cols[name]
		if !ok {
			if row[i] != nil {
				if err := ew.lacking(file, t.Table, name, 1, "trace column "+t.Table+"."+name); err != nil {
					return err
				}
			}
			continue
		}
		v := row[i]
		switch {
		case name == "experiment_id" && v != nil:
			own, ok := ew.exps.expIDs[expKey{source, tablerows.IDText(v)}]
			if !ok {
				own = expID
				ew.report.Notices = append(ew.report.Notices, fmt.Sprintf("%s.experiment_id %s of a row of trace %s names no imported experiment: written as the trace's experiment %d", t.Table, tablerows.IDText(v), tablerows.IDText(row[0]), expID))
			}
			v = own
		case col.Boolean:
			if n, isInt := v.(int64); isInt {
				v = n != 0
			}
		}
		names = append(names, `"`+name+`"`)
		args = append(args, v)
	}
	query := fmt.Sprintf("INSERT INTO %s (%s) VALUES (%s)", t.Table, strings.Join(names, ", "), strings.TrimSuffix(strings.Repeat("?, ", len(names)), ", "))
	stored, err := ew.tx.Exec(ctx, query, args...)
	if err == nil {
		err = checkStored(t.Table, 1, stored)
	}
	if err != nil {
		return fmt.Errorf("insert into %s: %w", t.Table, err)
	}
	return nil
}
