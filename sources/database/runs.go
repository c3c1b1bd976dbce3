package database

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"strings"

	"github.com/mlflow-bulk/mlflow-bulk/sources"
)

// readRuns pages through runs by id; each page's params, tags, inputs and latest
// metrics come in one query per table, then each run's history streams in chunks.
func (s *dbSource) readRuns(ctx context.Context) error {
	deleted := "NULL"
	if s.rev.HasColumn("runs", "deleted_time") {
		deleted = "deleted_time"
	}
	after := ""
	for {
		if err := sources.CheckContext(ctx); err != nil {
			return err
		}
		var page []*sources.Run
		byID := map[string]*sources.Run{}
		err := s.each(ctx, "SELECT run_uuid, experiment_id, name, source_type, source_name, entry_point_name, source_version, user_id, status, "+
			"start_time, end_time, "+deleted+", lifecycle_stage, artifact_uri FROM runs WHERE run_uuid > ? ORDER BY run_uuid LIMIT ?", []any{after, runsPerPage},
			func(scan func(...any) error) error {
				r := &sources.Run{Verbatim: true, Origin: s.origin("runs")}
				var expID sql.NullInt64
				var name, st, sn, ep, sv, user, status, stage, art sql.NullString
				var start, end, del sql.NullInt64
				if err := scan(&r.RunID, &expID, &name, &st, &sn, &ep, &sv, &user, &status, &start, &end, &del, &stage, &art); err != nil {
					return err
				}
				r.ExperimentSourceID = fmt.Sprint(expID.Int64)
				r.Name, r.SourceType, r.SourceName, r.EntryPointName = name.String, sources.SourceType(st.String), sn.String, ep.String
				r.SourceVersion, r.UserID, r.Status, r.LifecycleStage, r.ArtifactURI = sv.String, user.String, sources.RunStatus(status.String), sources.Lifecycle(stage.String), art.String
				r.StartTime, r.EndTime, r.DeletedTime = nullable(start), nullable(end), nullable(del)
				page = append(page, r)
				byID[r.RunID] = r
				return nil
			})
		if err != nil {
			return err
		}
		if len(page) == 0 {
			return nil
		}
		after = page[len(page)-1].RunID
		if err := s.readPageChildren(ctx, page, byID); err != nil {
			return err
		}
		for _, r := range page {
			if err := s.Emit(ctx, r); err != nil {
				return err
			}
			if err := s.readMetrics(ctx, r.RunID); err != nil {
				return err
			}
		}
	}
}

func inList(n int) string { return strings.TrimSuffix(strings.Repeat("?, ", n), ", ") }

func (s *dbSource) readPageChildren(ctx context.Context, page []*sources.Run, byID map[string]*sources.Run) error {
	ids := make([]any, len(page))
	for i, r := range page {
		ids[i] = r.RunID
	}
	in := inList(len(ids))
	kv := func(table string, add func(r *sources.Run, k, v string)) error {
		return s.each(ctx, `SELECT run_uuid, "key", value FROM `+table+` WHERE run_uuid IN (`+in+`) ORDER BY run_uuid, "key"`, ids, func(scan func(...any) error) error {
			var id, k string
			var v sql.NullString
			if err := scan(&id, &k, &v); err != nil {
				return err
			}
			add(byID[id], k, v.String)
			return nil
		})
	}
	if err := kv("params", func(r *sources.Run, k, v string) { r.Params = append(r.Params, sources.Tag{Key: k, Value: v}) }); err != nil {
		return err
	}
	if err := kv("tags", func(r *sources.Run, k, v string) { r.Tags = append(r.Tags, sources.Tag{Key: k, Value: v}) }); err != nil {
		return err
	}
	if s.rev.HasTable("latest_metrics") {
		err := s.each(ctx, `SELECT run_uuid, "key", value, "timestamp", step, is_nan FROM latest_metrics WHERE run_uuid IN (`+in+`) ORDER BY run_uuid, "key"`, ids,
			func(scan func(...any) error) error {
				var id string
				var m sources.Metric
				var ts sql.NullInt64
				var isNaN bool
				if err := scan(&id, &m.Key, &m.Value, &ts, &m.Step, &isNaN); err != nil {
					return err
				}
				m.Timestamp = ts.Int64
				if isNaN {
					m.Value = math.NaN()
				}
				byID[id].LatestMetrics = append(byID[id].LatestMetrics, m)
				return nil
			})
		if err != nil {
			return err
		}
	}
	if s.rev.HasTable("inputs") {
		return s.readInputs(ctx, ids, in, byID)
	}
	return nil
}

// readInputs reads the page's edges: datasets used by a run (destination = run) and
// logged models used or produced by it (source = run).
func (s *dbSource) readInputs(ctx context.Context, ids []any, in string, byID map[string]*sources.Run) error {
	step := "0"
	if s.rev.HasColumn("inputs", "step") {
		step = "step"
	}
	args := append(append([]any{}, ids...), ids...)
	type located struct {
		run *sources.Run
		i   int
	}
	byUUID := map[string]located{}
	var uuids []any
	err := s.each(ctx, "SELECT input_uuid, source_type, source_id, destination_type, destination_id, "+step+
		" FROM inputs WHERE (destination_type = 'RUN' AND destination_id IN ("+in+")) OR (source_type IN ('RUN_INPUT', 'RUN_OUTPUT') AND source_id IN ("+in+"))"+
		" ORDER BY input_uuid", args, func(scan func(...any) error) error {
		var in sources.Input
		if err := scan(&in.UUID, &in.SourceType, &in.SourceID, &in.DestinationType, &in.DestinationID, &in.Step); err != nil {
			return err
		}
		run := byID[in.DestinationID]
		if in.DestinationType != "RUN" {
			run = byID[in.SourceID]
		}
		run.Inputs = append(run.Inputs, in)
		byUUID[in.UUID] = located{run, len(run.Inputs) - 1}
		uuids = append(uuids, in.UUID)
		return nil
	})
	if err != nil || len(uuids) == 0 {
		return err
	}
	return s.each(ctx, "SELECT input_uuid, name, value FROM input_tags WHERE input_uuid IN ("+inList(len(uuids))+") ORDER BY input_uuid, name", uuids,
		func(scan func(...any) error) error {
			var id, k, v string
			if err := scan(&id, &k, &v); err != nil {
				return err
			}
			loc := byUUID[id]
			loc.run.Inputs[loc.i].Tags = append(loc.run.Inputs[loc.i].Tags, sources.Tag{Key: k, Value: v})
			return nil
		})
}

func (s *dbSource) readMetrics(ctx context.Context, runID string) error {
	isNaN := s.rev.IsNaNColumn()
	points := make([]sources.Metric, 0, s.chunk)
	err := s.each(ctx, `SELECT "key", value, "timestamp", step, `+isNaN+` FROM metrics WHERE run_uuid = ? ORDER BY `+s.dialect.Database().MetricOrder, []any{runID},
		func(scan func(...any) error) error {
			var m sources.Metric
			var nan bool
			if err := scan(&m.Key, &m.Value, &m.Timestamp, &m.Step, &nan); err != nil {
				return err
			}
			if nan {
				m.Value = math.NaN()
			}
			points = append(points, m)
			if len(points) == s.chunk {
				if err := s.Emit(ctx, &sources.Metrics{RunID: runID, Points: points, Origin: s.origin("metrics")}); err != nil {
					return err
				}
				points = make([]sources.Metric, 0, s.chunk)
			}
			return nil
		})
	if err != nil {
		return err
	}
	if len(points) > 0 {
		return s.Emit(ctx, &sources.Metrics{RunID: runID, Points: points, Origin: s.origin("metrics")})
	}
	return nil
}

func nullString(v sql.NullString) *string {
	if !v.Valid {
		return nil
	}
	x := v.String
	return &x
}

// pagesOf calls fn with the ids in pages of at most runsPerPage, each with its IN list.
func pagesOf[T any](items []T, id func(T) any, fn func(page []T, ids []any, in string) error) error {
	for start := 0; start < len(items); start += runsPerPage {
		page := items[start:min(start+runsPerPage, len(items))]
		ids := make([]any, len(page))
		for i, it := range page {
			ids[i] = id(it)
		}
		if err := fn(page, ids, inList(len(ids))); err != nil {
			return err
		}
	}
	return nil
}
