package csvfile

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/mlflow-bulk/mlflow-bulk/sources"
)

// The CSV reader: MLflow's runs CSV (search_runs, `mlflow experiments csv`), the MLflow
// UI's "Download CSV", and long-format metric histories. docs/dump-format.md says what
// each can and cannot carry.

type csvLayout int

const (
	csvNone csvLayout = iota
	csvSearchRuns
	csvUI
	csvLong
)

// csvExperimentID is the source id of the one experiment a CSV file holds.
const csvExperimentID = "csv"

var uiColumns = []string{"Start Time", "Duration", "Run ID", "Name", "Source Type", "Source Name", "User", "Status"}

func detectCSV(header []string) csvLayout {
	if len(header) >= len(uiColumns) {
		ui := true
		for i, c := range uiColumns {
			ui = ui && header[i] == c
		}
		if ui {
			return csvUI
		}
	}
	cols := map[string]bool{}
	prefixed := false
	for _, h := range header {
		cols[h] = true
		prefixed = prefixed || strings.HasPrefix(h, "metrics.") || strings.HasPrefix(h, "params.") || strings.HasPrefix(h, "tags.")
	}
	switch {
	case len(header) == 5 && cols["run_id"] && cols["key"] && cols["value"] && cols["timestamp"] && cols["step"]:
		return csvLong
	case cols["run_id"] && (prefixed || cols["status"]):
		return csvSearchRuns
	}
	return csvNone
}

// openCSV opens a CSV file (byte-order mark, CRLF line ends and quoted fields over
// several lines allowed) and reads its header. The caller closes f.
func openCSV(path string) (r *csv.Reader, header []string, f *os.File, err error) {
	f, err = os.Open(path)
	if err != nil {
		return nil, nil, nil, err
	}
	br := bufio.NewReader(f)
	if bom, _ := br.Peek(3); string(bom) == "\xef\xbb\xbf" {
		_, _ = br.Discard(3) // the 3 bytes were just peeked: discarding them cannot fail
	}
	r = csv.NewReader(br)
	r.FieldsPerRecord = -1
	if header, err = r.Read(); err != nil {
		f.Close()
		return nil, nil, nil, err
	}
	return r, header, f, nil
}

// Detect reports whether path is a CSV file in one of the layouts mlflow-bulk reads.
func Detect(path string) bool {
	info, err := os.Stat(path)
	if err != nil || info.IsDir() {
		return false
	}
	_, header, f, err := openCSV(path)
	if err != nil {
		return false
	}
	defer f.Close()
	return detectCSV(header) != csvNone
}

// Open opens a CSV file of runs or metric histories.
func Open(ctx context.Context, path string, opts sources.Options) (sources.Source, error) {
	_, header, f, err := openCSV(path)
	if errors.Is(err, io.EOF) || errors.As(err, new(*csv.ParseError)) {
		return nil, fmt.Errorf("%s: %w", path, sources.ErrNotRecognised)
	}
	if err != nil {
		return nil, err
	}
	f.Close()
	s := &csvSource{path: path, layout: detectCSV(header), opts: opts, chunk: opts.PointsPerRecord()}
	if s.layout == csvNone {
		return nil, fmt.Errorf("%s: %w (not a runs CSV, a UI CSV or a long-format metric history)", path, sources.ErrNotRecognised)
	}
	s.Start(ctx, "CSV "+path, s.read)
	return s, nil
}

type csvSource struct {
	sources.Producer
	path   string
	layout csvLayout
	opts   sources.Options
	chunk  int
	// unknownStatuses holds the status values not of MLflow already named in the
	// report, so each is named once however many rows carry it.
	unknownStatuses map[string]bool
	// roles are the roles of the columns of a file without prefixes, by header index.
	roles map[int]csvRole
	// dates reads the file's times where their layout is its own.
	dates csvDates
	// cells counts the non-empty cells read and imported; unused counts, per column,
	// the non-empty cells no field took, for the report.
	cellsRead, cellsImported int64
	unused                   map[string]int64
}

func (s *csvSource) read(ctx context.Context) error {
	stem := strings.TrimSuffix(filepath.Base(s.path), filepath.Ext(s.path))
	if err := s.Emit(ctx, &sources.Experiment{SourceID: csvExperimentID, Name: stem, LifecycleStage: sources.LifecycleActive, Origin: sources.Origin{File: s.path}}); err != nil {
		return err
	}
	s.unused = map[string]int64{}
	row, infer := s.searchRunsRow, stripped(s.header())
	switch s.layout {
	case csvUI:
		row, infer = s.uiRow, true
	case csvLong:
		return s.readLong(ctx)
	}
	ok, err := s.prepare(ctx, infer)
	if !ok || err != nil {
		return err // a file that cannot be read as it stands was reported as invalid
	}
	if err := s.readRows(ctx, row); err != nil {
		return err
	}
	return s.reportCells(ctx)
}

// header is the file's header row (already read once by OpenCSV).
func (s *csvSource) header() []string {
	_, header, f, err := openCSV(s.path)
	if err != nil {
		return nil
	}
	f.Close()
	return header
}

// stripped reports whether a runs CSV lost its metrics./params./tags. prefixes (user
// code renaming the columns of search_runs' data frame).
func stripped(header []string) bool {
	for _, h := range header {
		if strings.HasPrefix(h, "metrics.") || strings.HasPrefix(h, "params.") || strings.HasPrefix(h, "tags.") {
			return false
		}
	}
	return true
}

// reportCells says, for the file, how many cells it held and how many were imported,
// naming every column whose cells no field took.
func (s *csvSource) reportCells(ctx context.Context) error {
	msg := fmt.Sprintf("%d non-empty cells read, %d imported", s.cellsRead, s.cellsImported)
	if len(s.unused) > 0 {
		var parts []string
		for _, c := range sortedKeysOf(s.unused) {
			parts = append(parts, fmt.Sprintf("%q (%d cells)", c, s.unused[c]))
		}
		msg += "; not imported: " + strings.Join(parts, ", ")
	}
	return s.Emit(ctx, &sources.Notice{Path: s.path, Message: msg})
}

func sortedKeysOf(m map[string]int64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// prepare reads the file once to decide what its columns are and how its times read,
// and says so in the report. ok is false when the file cannot be read as it stands
// (its times fit two orders): that is reported as invalid input naming the flag to give.
func (s *csvSource) prepare(ctx context.Context, inferRoles bool) (ok bool, err error) {
	r, header, f, err := openCSV(s.path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	times := map[int]bool{}
	for i, h := range header {
		if h == "Start Time" || h == "start_time" || h == "end_time" {
			times[i] = true
		}
	}
	st, err := scanCSVColumns(r, len(header), times)
	if err != nil {
		return false, &sources.InputError{File: s.path, Err: err}
	}
	if s.dates, err = st.dates(s.opts.CSVTimeFormat); err != nil {
		return false, s.Emit(ctx, &sources.Invalid{Err: &sources.InputError{File: s.path, Err: err}})
	}
	if s.dates.how != "" {
		if err := s.Emit(ctx, &sources.Notice{Path: s.path, Message: s.dates.how}); err != nil {
			return false, err
		}
	}
	if inferRoles {
		if err := s.inferRoles(ctx, header, st); err != nil {
			return false, err
		}
	}
	return true, nil
}

// inferRoles decides the role of every column a file without prefixes holds beyond its
// fixed ones; --csv-params, --csv-metrics and --csv-tags always win.
func (s *csvSource) inferRoles(ctx context.Context, header []string, st *csvColumnStats) error {
	fixed := len(uiColumns)
	var cols []string
	var how string
	var roles []csvRole
	if s.layout == csvUI {
		cols = header[fixed:]
		roles, how = uiColumnRoles(cols, st.numeric[fixed:], st.seen[fixed:])
	} else {
		fixed = 0
		for fixed < len(header) && searchRunsFixed[header[fixed]] {
			fixed++
		}
		cols = header[fixed:]
		roles, how = strippedColumnRoles(cols, st.numeric[fixed:], st.seen[fixed:])
	}
	named := map[string]csvRole{}
	for role, names := range map[csvRole][]string{roleParam: s.opts.CSVParams, roleMetric: s.opts.CSVMetrics, roleTag: s.opts.CSVTags} {
		for _, n := range names {
			named[n] = role
		}
	}
	s.roles = map[int]csvRole{}
	byRole := map[csvRole][]string{}
	given := 0
	for i, c := range cols {
		role := roles[i]
		if r, ok := named[c]; ok {
			role = r
			given++
		}
		s.roles[fixed+i] = role
		byRole[role] = append(byRole[role], c)
	}
	if len(cols) == 0 {
		return nil
	}
	if given == len(cols) {
		how = "the columns were named with --csv-params, --csv-metrics and --csv-tags"
	} else if given > 0 {
		how += "; the columns named with --csv-params, --csv-metrics or --csv-tags took those roles"
	}
	msg := fmt.Sprintf("columns without prefixes: %q read as params, %q as metrics, %q as tags (%s). Name them with --csv-params, --csv-metrics, --csv-tags if that is wrong",
		byRole[roleParam], byRole[roleMetric], byRole[roleTag], how)
	return s.Emit(ctx, &sources.Notice{Path: s.path, Message: msg})
}

// searchRunsFixed are the columns search_runs writes before metrics, params and tags.
var searchRunsFixed = map[string]bool{"run_id": true, "experiment_id": true, "status": true, "artifact_uri": true, "start_time": true, "end_time": true}

// strippedColumnRoles reads a runs CSV whose prefixes were removed: search_runs writes
// metrics, then params, then tags (not sorted). MLflow's own tags (mlflow.*) start the
// tags; before them, the leading numeric columns are taken for metrics.
func strippedColumnRoles(cols []string, numeric, seen []bool) ([]csvRole, string) {
	roles := make([]csvRole, len(cols))
	tagStart := len(cols)
	for i, c := range cols {
		if strings.HasPrefix(c, "mlflow.") {
			tagStart = i
			break
		}
	}
	metricEnd := 0
	for metricEnd < tagStart && numeric[metricEnd] && seen[metricEnd] {
		metricEnd++
	}
	for i := range cols {
		switch {
		case i < metricEnd:
			roles[i] = roleMetric
		case i >= tagStart:
			roles[i] = roleTag
		default:
			roles[i] = roleParam
		}
	}
	return roles, "search_runs writes metrics, params and tags in that order: the leading numeric columns were taken for metrics, the columns from the first mlflow.* one on for tags, the rest for params"
}

// readRows calls each for every data row, with bad rows reported as Invalid.
func (s *csvSource) readRows(ctx context.Context, each func(ctx context.Context, header, row []string, line int) error) error {
	r, header, f, err := openCSV(s.path)
	if err != nil {
		return err
	}
	defer f.Close()
	for {
		if err := sources.CheckContext(ctx); err != nil {
			return err
		}
		row, err := r.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		line, _ := r.FieldPos(0)
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return s.Emit(ctx, &sources.Invalid{Err: &sources.InputError{File: s.path, Line: pe.Line, Err: fmt.Errorf("malformed CSV: %w", pe.Err)}})
			}
			return err
		}
		if len(row) != len(header) {
			if err := s.Emit(ctx, &sources.Invalid{Err: &sources.InputError{File: s.path, Line: line, Err: fmt.Errorf("%d fields, the header has %d", len(row), len(header))}}); err != nil {
				return err
			}
			continue
		}
		if err := each(ctx, header, row, line); err != nil {
			return err
		}
	}
}

func (s *csvSource) invalid(ctx context.Context, line int, runID string, err error) error {
	return s.Emit(ctx, &sources.Invalid{Err: &sources.InputError{File: s.path, Line: line, RunID: runID, Err: err}})
}

// parseTime reads the times these files hold: pandas' "2026-05-25 09:31:08.198000+00:00",
// ISO 8601, the UI's "2021-12-08 00:32:32" (taken as UTC) or epoch milliseconds.
func (s *csvSource) parseTime(v string) (*int64, error) {
	v = strings.TrimSpace(v)
	if v == "" || v == "None" || v == "NaT" || v == "nan" {
		return nil, nil
	}
	if ms, ok := s.dates.parse(v); ok {
		return &ms, nil
	}
	if ms, err := strconv.ParseInt(v, 10, 64); err == nil {
		return &ms, nil
	}
	for _, layout := range []string{"2006-01-02 15:04:05.999999999-07:00", "2006-01-02 15:04:05-07:00", time.RFC3339Nano,
		"2006-01-02 15:04:05.999999999", "2006-01-02 15:04:05", "2006-01-02T15:04:05.999999999", "2006-01-02 15:04"} {
		if t, err := time.Parse(layout, v); err == nil {
			ms := t.UnixMilli()
			return &ms, nil
		}
	}
	return nil, fmt.Errorf("time %q is not a date such as 2026-05-25 09:31:08+00:00 or epoch milliseconds; give its format with --csv-time-format (for example '%%d-%%m-%%Y %%H:%%M')", v)
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

type csvRole int

const (
	roleParam csvRole = iota
	roleMetric
	roleTag
)

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
