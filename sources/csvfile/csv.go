package csvfile

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/mlflow-bulk/mlflow-bulk/remedy"
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

// Options are the CSV reader's.
type Options struct {
	sources.Options
	// Params, Metrics and Tags name the columns of a UI "Download CSV" file that are
	// params, metrics and tags; columns not named are inferred.
	Params, Metrics, Tags []string
	// TimeFormat is the strftime format of the times (%d-%m-%Y %H:%M) where the file
	// does not say whether a date puts the day or the month first.
	TimeFormat string
	// Timezone is the IANA time zone (Asia/Kolkata, Europe/Berlin, UTC) of times that
	// carry none: the MLflow UI writes them in the browser's local time. Empty reads
	// them as UTC, and the report says so.
	Timezone string
}

// Open opens a CSV file of runs or metric histories.
func Open(ctx context.Context, path string, opts Options) (sources.Source, error) {
	_, header, f, err := openCSV(path)
	if errors.Is(err, io.EOF) || errors.As(err, new(*csv.ParseError)) {
		return nil, fmt.Errorf("%s: %w", path, sources.ErrNotRecognised)
	}
	if err != nil {
		return nil, err
	}
	f.Close()
	s := &csvSource{path: path, layout: detectCSV(header), opts: opts, chunk: opts.PointsPerRecord(), loc: time.UTC}
	if opts.Timezone != "" {
		if s.loc, err = time.LoadLocation(opts.Timezone); err != nil {
			return nil, remedy.Value(OptionTimezone, opts.Timezone, fmt.Errorf("not a time zone such as Europe/Berlin, Asia/Kolkata or UTC: %w", err))
		}
	}
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
	opts   Options
	chunk  int
	// unknownStatuses holds the status values not of MLflow already named in the
	// report, so each is named once however many rows carry it.
	unknownStatuses map[string]bool
	// roles are the roles of the columns of a file without prefixes, by header index.
	roles map[int]csvRole
	// dates reads the file's times where their layout is its own.
	dates csvDates
	// loc is the time zone of times that carry none (--csv-timezone, UTC by default);
	// zoneless says such a time was read, for the report.
	loc      *time.Location
	zoneless bool
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
	if err := s.Emit(ctx, &sources.Notice{Path: s.path, Message: msg}); err != nil {
		return err
	}
	switch {
	case !s.zoneless:
		return nil
	case s.opts.Timezone == "":
		return s.Emit(ctx, &sources.Notice{Path: s.path, Message: "its times carry no time zone and were read as UTC; the MLflow UI writes them in the browser's local time, " +
			"so give that zone with " + remedy.Mention(OptionTimezone) + " (for example Europe/Berlin or Asia/Kolkata) if they came from it"})
	}
	return s.Emit(ctx, &sources.Notice{Path: s.path, Message: "its times carry no time zone and were read in " + s.loc.String() + " (" + remedy.Mention(OptionTimezone) + ")"})
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
	if s.dates, err = st.dates(s.opts.TimeFormat); err != nil {
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
		roles, how = strippedColumnRoles(cols, st.numeric[fixed:], st.seen[fixed:], st.floatText[fixed:])
	}
	named := map[string]csvRole{}
	for role, names := range map[csvRole][]string{roleParam: s.opts.Params, roleMetric: s.opts.Metrics, roleTag: s.opts.Tags} {
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
		how = "the columns were named with " + csvRoles + ""
	} else if given > 0 {
		how += "; the columns named with " + csvRoles + " took those roles"
	}
	msg := fmt.Sprintf("columns without prefixes: %q read as params, %q as metrics, %q as tags (%s). Name them with "+csvRoles+" if that is wrong",
		byRole[roleParam], byRole[roleMetric], byRole[roleTag], how)
	return s.Emit(ctx, &sources.Notice{Path: s.path, Message: msg})
}

// searchRunsFixed are the columns search_runs writes before metrics, params and tags.
var searchRunsFixed = map[string]bool{"run_id": true, "experiment_id": true, "status": true, "artifact_uri": true, "start_time": true, "end_time": true}

// strippedColumnRoles reads a runs CSV whose prefixes were removed: search_runs writes
// metrics, then params, then tags (not sorted). MLflow's own tags (mlflow.*) start the
// tags; before them, the leading columns written as floats are metrics: search_runs'
// metrics are floats, which pandas always writes with a decimal point (250.0), while a
// param is text, written as given (250). The report names the numeric columns whose
// integer text made them params.
func strippedColumnRoles(cols []string, numeric, seen, floatText []bool) ([]csvRole, string) {
	roles := make([]csvRole, len(cols))
	tagStart := len(cols)
	for i, c := range cols {
		if strings.HasPrefix(c, "mlflow.") {
			tagStart = i
			break
		}
	}
	metricEnd := 0
	for metricEnd < tagStart && numeric[metricEnd] && seen[metricEnd] && floatText[metricEnd] {
		metricEnd++
	}
	var byText []string
	for i := metricEnd; i < tagStart; i++ {
		if numeric[i] && seen[i] && !floatText[i] {
			byText = append(byText, strconv.Quote(cols[i]))
		}
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
	how := "search_runs writes metrics, params and tags in that order: the leading columns written as floats were taken for metrics, the columns from the first mlflow.* one on for tags, the rest for params"
	if len(byText) > 0 {
		how += "; numeric columns written as integers (" + strings.Join(byText, ", ") + ") were taken for params, as search_runs writes every metric as a float (250.0); " + remedy.Mention(OptionMetrics) + " says otherwise"
	}
	return roles, how
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

// The options a CSV file's errors name (package remedy).
const (
	OptionTimeFormat remedy.Option = "csvfile.Options.TimeFormat"
	OptionTimezone   remedy.Option = "csvfile.Options.Timezone"
	OptionParams     remedy.Option = "csvfile.Options.Params"
	OptionMetrics    remedy.Option = "csvfile.Options.Metrics"
	OptionTags       remedy.Option = "csvfile.Options.Tags"
)

// RemedyOptions lists every option the reader's errors may name.
var RemedyOptions = []remedy.Option{OptionTimeFormat, OptionTimezone, OptionParams, OptionMetrics, OptionTags}

var giveTimeFormat = remedy.Remedy{Option: OptionTimeFormat, Value: "FORMAT", Does: "to give their format (for example '%d-%m-%Y %H:%M')"}

// csvRoles names the options that give columns their roles.
var csvRoles = remedy.Mention(OptionParams) + ", " + remedy.Mention(OptionMetrics) + " and " + remedy.Mention(OptionTags)
