package importer

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/mlflow-bulk/mlflow-bulk/schema"
	"github.com/mlflow-bulk/mlflow-bulk/schema/live"
)

// Rows copied as they are (tables without rules of their own, a trace's rows) are
// checked against the widths of the target's columns before anything of them is
// written: a database that enforces VARCHAR(n) would refuse a longer value with its own
// message halfway through, naming neither the row nor the source.

// columnWidths are the widths of the target's columns of tables copied as rows, read
// once per table, and only where the target enforces widths (not SQLite, which stores
// any length).
type columnWidths struct {
	dialect schema.Dialect
	read    map[string]map[string]int
}

func newColumnWidths(d schema.Dialect) *columnWidths {
	return &columnWidths{dialect: d, read: map[string]map[string]int{}}
}

// overLong names the first value of a row that its column in the target cannot hold:
// what says which row it is (its table and key).
func (w *columnWidths) overLong(ctx context.Context, db live.DB, what, table string, columns []string, row []any) error {
	if !w.dialect.EnforcesWidths() {
		return nil
	}
	widths, ok := w.read[table]
	if !ok {
		var err error
		if widths, err = live.ColumnWidths(ctx, db, w.dialect, table); err != nil {
			return err
		}
		w.read[table] = widths
	}
	for i, c := range columns {
		text, isText := row[i].(string)
		limit := widths[strings.ToLower(c)]
		if !isText || limit <= 0 {
			continue
		}
		if n := utf8.RuneCountInString(text); n > limit {
			return &tooLongError{what: what, table: table, column: c, chars: n, limit: limit}
		}
	}
	return nil
}

// tooLongError is a value longer than its column in the target takes.
type tooLongError struct {
	what, table, column string
	chars, limit        int
}

func (e *tooLongError) Error() string {
	return fmt.Sprintf("%s: %s.%s holds %d characters here, and the target's column takes at most %d", e.what, e.table, e.column, e.chars, e.limit)
}

// rowKeyText names a row by its key columns, for messages: "(a=1, b=x)".
func rowKeyText(columns []string, row []any, key []string) string {
	var parts []string
	for _, k := range key {
		for i, c := range columns {
			if strings.EqualFold(c, k) && i < len(row) {
				parts = append(parts, fmt.Sprintf("%s=%v", c, row[i]))
			}
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, ", ") + ")"
}
