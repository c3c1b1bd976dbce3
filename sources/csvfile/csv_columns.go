package csvfile

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/mlflow-bulk/mlflow-bulk/remedy"
)

// How the columns of a CSV without prefixes are told apart, and how its times are read.
// Everything here is decided from the whole file before the first run is streamed (the
// reader reads the file twice, holding one flag per column, never the rows).

// csvColumnStats is what a pass over a CSV learned of each column.
type csvColumnStats struct {
	numeric, seen []bool
	// floatText: every value is written as pandas writes a float (a decimal point, an
	// exponent, nan or inf): 250.0, not 250, which is how a param's text reads.
	floatText []bool
	// dayFirst and monthFirst count the cells of time columns that only one reading
	// of a day-month-year or month-day-year date allows.
	dayFirst, monthFirst int
	// ambiguousTime is the first time cell that both readings allow, for messages.
	ambiguousTime string
}

// numericDates are dates such as 04-08-2024 14:28 or 4/8/2024, whose first two fields
// are a day and a month in an order the text does not say.
var numericDates = regexp.MustCompile(`^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$`)

// scanCSVColumns reads the rest of a CSV (after its header) and notes, per column,
// whether it held anything and whether every value is a number, and for the time
// columns which day/month order their dates allow.
func scanCSVColumns(r *csv.Reader, n int, timeColumns map[int]bool) (*csvColumnStats, error) {
	st := &csvColumnStats{numeric: make([]bool, n), seen: make([]bool, n), floatText: make([]bool, n)}
	for i := range st.numeric {
		st.numeric[i], st.floatText[i] = true, true
	}
	for {
		row, err := r.Read()
		if errors.Is(err, io.EOF) {
			return st, nil
		}
		if err != nil {
			return nil, err
		}
		for i := 0; i < n && i < len(row); i++ {
			v := unescapeSpreadsheet(row[i])
			if v == "" {
				continue
			}
			st.seen[i] = true
			if _, err := strconv.ParseFloat(v, 64); err != nil {
				st.numeric[i] = false
			}
			if !strings.ContainsAny(v, ".eEnNiI") {
				st.floatText[i] = false // an integer's text: 250, not 250.0
			}
			if timeColumns[i] {
				st.noteDate(v)
			}
		}
	}
}

func (st *csvColumnStats) noteDate(v string) {
	m := numericDates.FindStringSubmatch(strings.TrimSpace(v))
	if m == nil {
		return
	}
	a, _ := strconv.Atoi(m[1])
	b, _ := strconv.Atoi(m[2])
	switch {
	case a > 12 && b <= 12:
		st.dayFirst++
	case b > 12 && a <= 12:
		st.monthFirst++
	case st.ambiguousTime == "":
		st.ambiguousTime = v
	}
}

// csvDates reads the times of a CSV that are not in a layout every reader agrees on:
// numeric dates in the day/month order the file's dates allow, or a format given with
// --csv-time-format.
type csvDates struct {
	layout   string // a Go layout from --csv-time-format
	dayFirst bool   // numeric dates put the day first
	order    bool   // numeric dates have a known order
	how      string // what the report says about it
}

// dates decides how dates such as 04-08-2024 are read: as given (--csv-time-format), or
// in the one order every date of the file allows.
func (st *csvColumnStats) dates(given string) (csvDates, error) {
	switch {
	case given != "":
		layout, err := strftimeLayout(given)
		if err != nil {
			return csvDates{}, remedy.Value(OptionTimeFormat, given, err)
		}
		return csvDates{layout: layout, how: fmt.Sprintf("times read as %s (%s)", given, remedy.Mention(OptionTimeFormat))}, nil
	case st.dayFirst > 0 && st.monthFirst > 0:
		return csvDates{}, remedy.With(fmt.Errorf("numeric dates put the day first in %d cells and the month first in %d", st.dayFirst, st.monthFirst), giveTimeFormat)
	case st.dayFirst > 0:
		return csvDates{dayFirst: true, order: true, how: "numeric dates read day first (DD-MM-YYYY), the only order all of them allow"}, nil
	case st.monthFirst > 0:
		return csvDates{order: true, how: "numeric dates read month first (MM-DD-YYYY), the only order all of them allow"}, nil
	case st.ambiguousTime != "":
		return csvDates{}, remedy.With(fmt.Errorf("times such as %q are valid dates with the day first and with the month first", st.ambiguousTime),
			remedy.Remedy{Option: OptionTimeFormat, Value: "FORMAT", Does: "to give their format (for example '%d-%m-%Y %H:%M' or '%m-%d-%Y %H:%M')"})
	}
	return csvDates{}, nil
}

// parse reads a time in the file's own layout, in loc unless it names its zone, as
// epoch milliseconds; ok is false when the text is not in it.
func (d csvDates) parse(v string, loc *time.Location) (ms int64, ok bool) {
	v = strings.TrimSpace(v)
	if d.layout != "" {
		t, err := time.ParseInLocation(d.layout, v, loc)
		return t.UnixMilli(), err == nil
	}
	m := numericDates.FindStringSubmatch(v)
	if !d.order || m == nil {
		return 0, false
	}
	n := make([]int, 7)
	for i := 1; i < len(m); i++ {
		if m[i] != "" {
			n[i], _ = strconv.Atoi(m[i])
		}
	}
	day, month := n[2], n[1]
	if d.dayFirst {
		day, month = n[1], n[2]
	}
	t := time.Date(n[3], time.Month(month), day, n[4], n[5], n[6], 0, loc)
	if t.Day() != day || int(t.Month()) != month || n[4] > 23 || n[5] > 59 || n[6] > 59 {
		return 0, false // 31-02-2024 and the like
	}
	return t.UnixMilli(), true
}

// unescapeSpreadsheet undoes the UI's guard against spreadsheet formulas: a cell that
// would start with =, +, - or @ (or a tab or carriage return) is written with a leading
// apostrophe ('-1). Any other apostrophe is data.
func unescapeSpreadsheet(v string) string {
	if len(v) >= 2 && v[0] == '\'' && strings.ContainsRune("=+-@\t\r", rune(v[1])) {
		return v[1:]
	}
	return v
}

// jsLess orders strings as JavaScript's default sort does (by UTF-16 code units), which
// is how MLflow's UI sorts the column names it writes.
func jsLess(a, b string) bool {
	ua, ub := utf16.Encode([]rune(a)), utf16.Encode([]rune(b))
	for i := 0; i < len(ua) && i < len(ub); i++ {
		if ua[i] != ub[i] {
			return ua[i] < ub[i]
		}
	}
	return len(ua) < len(ub)
}

// sortedRuns splits columns where their names stop ascending: the UI writes params, then
// metrics, then tags, each sorted by name, so each break in the order is a boundary.
func sortedRuns(cols []string) [][2]int {
	var runs [][2]int
	start := 0
	for i := 1; i < len(cols); i++ {
		if !jsLess(cols[i-1], cols[i]) {
			runs = append(runs, [2]int{start, i})
			start = i
		}
	}
	if len(cols) > 0 {
		runs = append(runs, [2]int{start, len(cols)})
	}
	return runs
}

// uiColumnRoles decides which of a UI CSV's columns are params, metrics and tags, from
// the order the UI writes them in and, where that order cannot tell, from the values. It
// says how it decided.
func uiColumnRoles(cols []string, numeric, seen []bool) (roles []csvRole, how string) {
	roles = make([]csvRole, len(cols))
	set := func(from, to int, role csvRole) {
		for i := from; i < to; i++ {
			roles[i] = role
		}
	}
	isNumeric := func(i int) bool { return numeric[i] || !seen[i] }
	// numericSuffix is where the trailing numeric columns of [from, to) begin.
	numericSuffix := func(from, to int) int {
		i := to
		for i > from && isNumeric(i-1) {
			i--
		}
		return i
	}
	// numericPrefix is where the leading numeric columns of [from, to) end.
	numericPrefix := func(from, to int) int {
		i := from
		for i < to && isNumeric(i) {
			i++
		}
		return i
	}
	runs := sortedRuns(cols)
	switch len(runs) {
	case 3:
		set(runs[0][0], runs[0][1], roleParam)
		set(runs[1][0], runs[1][1], roleMetric)
		set(runs[2][0], runs[2][1], roleTag)
		return roles, "the column names fall into three sorted groups, which the UI writes as params, metrics and tags"
	case 2:
		a, b := runs[0], runs[1]
		if end := numericPrefix(b[0], b[1]); end > b[0] {
			// The second group starts with numbers: params, then metrics (and tags, where
			// the numbers stop, the one place the values decide).
			set(a[0], a[1], roleParam)
			set(b[0], end, roleMetric)
			set(end, b[1], roleTag)
			if end < b[1] {
				return roles, "the names fall into two sorted groups: the first are params; in the second, the numeric columns were taken for metrics and the rest for tags"
			}
			return roles, "the names fall into two sorted groups, which the UI writes as params and metrics"
		}
		// The second group holds text: it is the tags, and the metrics end the first.
		start := numericSuffix(a[0], a[1])
		set(a[0], start, roleParam)
		set(start, a[1], roleMetric)
		set(b[0], b[1], roleTag)
		return roles, "the names fall into two sorted groups and the second holds text, so it was taken for the tags; in the first, the trailing numeric columns were taken for metrics"
	}
	// One sorted group (or an order the UI does not write): only the values can tell.
	last := -1
	for i := range cols {
		if numeric[i] && seen[i] {
			last = i
		}
	}
	first := last
	for first > 0 && numeric[first-1] && seen[first-1] {
		first--
	}
	for i := range cols {
		switch {
		case last >= 0 && i >= first && i <= last:
			roles[i] = roleMetric
		case last >= 0 && i > last:
			roles[i] = roleTag
		default:
			roles[i] = roleParam
		}
	}
	if len(runs) > 3 {
		return roles, "the column names are not in the UI's order (params, metrics, tags, each sorted), so the values decided: the last run of numeric columns was taken for metrics, what comes before for params, what comes after for tags"
	}
	return roles, "the column names are sorted as one group, so the order cannot tell params from metrics and the values decided: the last run of numeric columns was taken for metrics, what comes before for params, what comes after for tags"
}

// strftimeLiterals are the characters a strftime format may hold between its
// directives: a Go layout reads digits and most letters as parts of a time, so these
// alone keep their literal meaning.
const strftimeLiterals = " -/:.,TZ()[]"

// strftimeLayout turns a strftime format (%d-%m-%Y %H:%M, as Python writes them) into a
// Go time layout.
func strftimeLayout(format string) (string, error) {
	directives := map[byte]string{'d': "02", 'm': "01", 'Y': "2006", 'y': "06", 'H': "15", 'M': "04", 'S': "05",
		'f': "000000", 'z': "-0700", 'b': "Jan", 'B': "January", 'p': "PM", 'I': "03", '%': "%"}
	var b strings.Builder
	for i := 0; i < len(format); i++ {
		if format[i] != '%' {
			if !strings.ContainsRune(strftimeLiterals, rune(format[i])) {
				return "", fmt.Errorf("it holds %q between its directives; mlflow-bulk reads formats whose other characters are among %q", format[i], strftimeLiterals)
			}
			b.WriteByte(format[i])
			continue
		}
		if i+1 == len(format) {
			return "", errors.New("it ends with a lone %")
		}
		i++
		d, ok := directives[format[i]]
		if !ok {
			return "", fmt.Errorf("%%%c is not a directive mlflow-bulk reads (%%d %%m %%Y %%y %%H %%M %%S %%f %%z %%b %%B %%p %%I)", format[i])
		}
		b.WriteString(d)
	}
	return b.String(), nil
}

type csvRole int

const (
	roleParam csvRole = iota
	roleMetric
	roleTag
)
