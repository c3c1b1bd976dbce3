package csvfile

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/mlflow-bulk/mlflow-bulk/remedy"
	"github.com/mlflow-bulk/mlflow-bulk/sources"
)

// parseTime reads the times these files hold: pandas' "2026-05-25 09:31:08.198000+00:00",
// ISO 8601, the UI's "2021-12-08 00:32:32" (taken as UTC) or epoch milliseconds.
func (s *csvSource) parseTime(v string) (*int64, error) {
	v = strings.TrimSpace(v)
	if v == "" || v == "None" || v == "NaT" || v == "nan" {
		return nil, nil
	}
	if ms, ok := s.dates.parse(v, s.loc); ok {
		s.zoneless = true
		return &ms, nil
	}
	if ms, err := strconv.ParseInt(v, 10, 64); err == nil {
		return &ms, nil
	}
	for _, layout := range []string{"2006-01-02 15:04:05.999999999-07:00", "2006-01-02 15:04:05-07:00", time.RFC3339Nano} {
		if t, err := time.Parse(layout, v); err == nil {
			ms := t.UnixMilli()
			return &ms, nil
		}
	}
	for _, layout := range []string{"2006-01-02 15:04:05.999999999", "2006-01-02 15:04:05", "2006-01-02T15:04:05.999999999", "2006-01-02 15:04"} {
		if t, err := time.ParseInLocation(layout, v, s.loc); err == nil {
			s.zoneless = true
			ms := t.UnixMilli()
			return &ms, nil
		}
	}
	return nil, remedy.With(fmt.Errorf("time %q is not a date such as 2026-05-25 09:31:08+00:00 or epoch milliseconds", v), giveTimeFormat)
}

// status reads a run status as MLflow or its UI writes it (RUNNING or Running); an empty
// cell is FINISHED, and any other value is imported as FINISHED with a line in the report.
func (s *csvSource) status(ctx context.Context, v string, line int) (sources.RunStatus, error) {
	if st := sources.RunStatus(strings.ToUpper(strings.TrimSpace(v))); st.Valid() {
		return st, nil
	}
	if strings.TrimSpace(v) != "" && !s.unknownStatuses[v] {
		if s.unknownStatuses == nil {
			s.unknownStatuses = map[string]bool{}
		}
		s.unknownStatuses[v] = true
		msg := fmt.Sprintf("line %d: status %q is not one of MLflow's (RUNNING, SCHEDULED, FINISHED, FAILED, KILLED); "+
			"runs with it were imported as FINISHED", line, v)
		if err := s.Emit(ctx, &sources.Notice{Path: s.path, Message: msg}); err != nil {
			return "", err
		}
	}
	return sources.StatusFinished, nil
}

func (s *csvSource) searchRunsRow(ctx context.Context, header, row []string, line int) error {
	run := &sources.Run{ExperimentSourceID: csvExperimentID, LifecycleStage: sources.LifecycleActive, SourceType: sources.SourceLocal, Origin: sources.Origin{File: s.path, Line: line}}
	var metrics []sources.Metric
	imported, unused := int64(0), map[string]int64{}
	for i, h := range header {
		v := row[i]
		if v == "" {
			continue
		}
		imported++
		role, stripped := s.roles[i]
		var err error
		switch {
		case h == "run_id":
			run.RunID = v
		case h == "status":
			run.Status, err = s.status(ctx, v, line)
			if err != nil {
				return err
			}
		case h == "artifact_uri":
			run.ArtifactURI = v
		case h == "start_time":
			run.StartTime, err = s.parseTime(v)
		case h == "end_time":
			run.EndTime, err = s.parseTime(v)
		case strings.HasPrefix(h, "params.") || stripped && role == roleParam:
			run.Params = append(run.Params, sources.Tag{Key: strings.TrimPrefix(h, "params."), Value: v})
		case strings.HasPrefix(h, "tags.") || stripped && role == roleTag:
			run.Tags = append(run.Tags, sources.Tag{Key: strings.TrimPrefix(h, "tags."), Value: v})
		case strings.HasPrefix(h, "metrics.") || stripped && role == roleMetric:
			var f float64
			if f, err = strconv.ParseFloat(v, 64); err == nil {
				metrics = append(metrics, sources.Metric{Key: strings.TrimPrefix(h, "metrics."), Value: f})
			} else {
				err = fmt.Errorf("metric %s: %q is not a number", h, v)
			}
		default:
			// experiment_id (the runs go into the file's experiment) and columns of no
			// kind search_runs writes.
			imported--
			unused[h]++
		}
		if err != nil {
			return s.invalid(ctx, line, run.RunID, err)
		}
	}
	for _, t := range run.Tags {
		switch t.Key {
		case "mlflow.user":
			run.UserID = t.Value
		case "mlflow.runName":
			run.Name = t.Value
		case "mlflow.source.type":
			if st := sources.SourceType(t.Value); st.Valid() {
				run.SourceType = st
			}
		}
	}
	return s.emitRun(ctx, run, metrics, line, imported, unused)
}

// emitRun emits a run of a runs CSV with its latest metric values as one point each,
// at step 0, timed at the run's end (or start). imported and unused count the row's
// non-empty cells that became a field and those no field took, by column.
func (s *csvSource) emitRun(ctx context.Context, run *sources.Run, metrics []sources.Metric, line int, imported int64, unused map[string]int64) error {
	s.cellsRead += imported
	for c, n := range unused {
		s.cellsRead += n
		s.unused[c] += n
	}
	if !sources.RunIDPattern.MatchString(run.RunID) {
		return s.invalid(ctx, line, run.RunID, fmt.Errorf("run id %q is not 32 lowercase hex digits", run.RunID))
	}
	s.cellsImported += imported
	if run.Status == "" {
		run.Status = sources.StatusFinished
	}
	var ts int64
	switch {
	case run.EndTime != nil:
		ts = *run.EndTime
	case run.StartTime != nil:
		ts = *run.StartTime
	}
	for i := range metrics {
		metrics[i].Timestamp = ts
	}
	if err := s.Emit(ctx, run); err != nil {
		return err
	}
	if len(metrics) == 0 {
		return nil
	}
	return s.Emit(ctx, &sources.Metrics{RunID: run.RunID, Points: metrics, Origin: run.Origin})
}

var durationPattern = regexp.MustCompile(`^([0-9.]+)\s*(ms|s|min|h|d)$`)

func parseUIDuration(v string) (int64, bool) {
	m := durationPattern.FindStringSubmatch(strings.TrimSpace(v))
	if m == nil {
		return 0, false
	}
	n, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return 0, false
	}
	unit := map[string]float64{"ms": 1, "s": 1000, "min": 60000, "h": 3600000, "d": 86400000}[m[2]]
	return int64(math.Round(n * unit)), true
}

func (s *csvSource) uiRow(ctx context.Context, header, row []string, line int) error {
	for i := range row {
		row[i] = unescapeSpreadsheet(row[i])
	}
	run := &sources.Run{ExperimentSourceID: csvExperimentID, LifecycleStage: sources.LifecycleActive, RunID: row[2], Name: row[3],
		SourceType: sources.SourceLocal, UserID: row[6], Origin: sources.Origin{File: s.path, Line: line}}
	imported, unused := int64(0), map[string]int64{}
	for i := 0; i < len(uiColumns); i++ {
		if row[i] != "" {
			imported++
		}
	}
	status, err := s.status(ctx, row[7], line)
	if err != nil {
		return err
	}
	run.Status = status
	start, err := s.parseTime(row[0])
	if err != nil {
		return s.invalid(ctx, line, run.RunID, err)
	}
	run.StartTime = start
	if d, ok := parseUIDuration(row[1]); ok && start != nil {
		end := *start + d
		run.EndTime = &end
	} else if row[1] != "" && row[1] != "-" {
		imported--
		unused[header[1]]++
	}
	if t := sources.SourceType(strings.ToUpper(row[4])); t.Valid() {
		run.SourceType = t
		run.Tags = append(run.Tags, sources.Tag{Key: "mlflow.source.type", Value: string(t)})
	} else if row[4] != "" {
		imported--
		unused[header[4]]++
	}
	if row[5] != "" {
		run.Tags = append(run.Tags, sources.Tag{Key: "mlflow.source.name", Value: row[5]})
	}
	if row[6] != "" {
		run.Tags = append(run.Tags, sources.Tag{Key: "mlflow.user", Value: row[6]})
	}
	var metrics []sources.Metric
	for i := len(uiColumns); i < len(header); i++ {
		h, v := header[i], row[i]
		if v == "" {
			continue
		}
		imported++
		switch s.roles[i] {
		case roleParam:
			run.Params = append(run.Params, sources.Tag{Key: h, Value: v})
		case roleTag:
			run.Tags = append(run.Tags, sources.Tag{Key: h, Value: v})
		case roleMetric:
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return s.invalid(ctx, line, run.RunID, fmt.Errorf("metric %s: %q is not a number", h, v))
			}
			metrics = append(metrics, sources.Metric{Key: h, Value: f})
		}
	}
	return s.emitRun(ctx, run, metrics, line, imported, unused)
}

// readLong streams a long-format history, a run record whenever the run changes.
func (s *csvSource) readLong(ctx context.Context) error {
	r, header, f, err := openCSV(s.path)
	if err != nil {
		return err
	}
	defer f.Close()
	col := map[string]int{}
	for i, h := range header {
		col[h] = i
	}
	var run string
	rejected := map[string]bool{} // runs with a bad row: their other rows are left out too
	points := make([]sources.Metric, 0, s.chunk)
	first := 0
	flush := func() error {
		if len(points) == 0 {
			return nil
		}
		err := s.Emit(ctx, &sources.Metrics{RunID: run, Points: points, Origin: sources.Origin{File: s.path, Line: first}})
		points = make([]sources.Metric, 0, s.chunk)
		return err
	}
	for {
		row, err := r.Read()
		if errors.Is(err, io.EOF) {
			return flush()
		}
		line, _ := r.FieldPos(0)
		if err != nil {
			if err := flush(); err != nil {
				return err
			}
			return s.invalid(ctx, line, run, fmt.Errorf("malformed CSV: %w", err))
		}
		var id string
		var m sources.Metric
		var perr error
		if len(row) != len(header) {
			perr = fmt.Errorf("%d fields, the header has %d", len(row), len(header))
		} else {
			id = row[col["run_id"]]
			m, perr = parseLongPoint(row, col)
		}
		if rejected[id] {
			continue
		}
		if perr != nil {
			if err := flush(); err != nil {
				return err
			}
			rejected[id] = true
			if err := s.invalid(ctx, line, id, perr); err != nil {
				return err
			}
			run = ""
			continue
		}
		if id != run {
			if err := flush(); err != nil {
				return err
			}
			if !sources.RunIDPattern.MatchString(id) {
				return s.invalid(ctx, line, id, fmt.Errorf("run id %q is not 32 lowercase hex digits", id))
			}
			run, first = id, line
			start := m.Timestamp
			if err := s.Emit(ctx, &sources.Run{RunID: id, ExperimentSourceID: csvExperimentID, Status: sources.StatusFinished, LifecycleStage: sources.LifecycleActive,
				SourceType: sources.SourceLocal, StartTime: &start, MetricsOnly: true, Origin: sources.Origin{File: s.path, Line: line}}); err != nil {
				return err
			}
		}
		if len(points) == 0 {
			first = line
		}
		points = append(points, m)
		if len(points) == s.chunk {
			if err := flush(); err != nil {
				return err
			}
		}
	}
}

func parseLongPoint(row []string, col map[string]int) (sources.Metric, error) {
	key := row[col["key"]]
	value, err := strconv.ParseFloat(row[col["value"]], 64)
	if err != nil {
		return sources.Metric{}, fmt.Errorf("metric %q: value %q is not a number", key, row[col["value"]])
	}
	ts, err := strconv.ParseInt(row[col["timestamp"]], 10, 64)
	if err != nil {
		return sources.Metric{}, fmt.Errorf("metric %q: timestamp %q is not epoch milliseconds", key, row[col["timestamp"]])
	}
	step, err := strconv.ParseInt(row[col["step"]], 10, 64)
	if err != nil {
		return sources.Metric{}, fmt.Errorf("metric %q: step %q is not an integer", key, row[col["step"]])
	}
	return sources.Metric{Key: key, Value: value, Timestamp: ts, Step: step}, nil
}
