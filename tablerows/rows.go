// Package tablerows is how mlflow-bulk handles the rows of tables it copies as rows
// (jobs, scorers, gateway tables, the rows of a trace, and whatever a newer MLflow
// adds): which columns a target takes, which hold experiment ids and how they are
// mapped, how a row is keyed and compared, and how the target's rows are read back. The
// import writes by these rules and verify checks by the same ones.
package tablerows

import (
	"context"
	"fmt"
	"strings"

	"github.com/mlflow-bulk/mlflow-bulk/schema"
	"github.com/mlflow-bulk/mlflow-bulk/schema/live"
	"github.com/mlflow-bulk/mlflow-bulk/sources"
)

// WritableColumns are the positions and names of the columns a target table takes
// values for: those it has, generated ones left out.
func WritableColumns(target *schema.TableInfo, columns []string) ([]int, []string) {
	var positions []int
	var names []string
	for i, col := range columns {
		if tc := target.Column(col); tc != nil && !tc.Generated {
			positions = append(positions, i)
			names = append(names, col)
		}
	}
	return positions, names
}

// IndexOf is the position of s in list, -1 when it is not there.
func IndexOf(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}

// KeyColumns are the positions of the target's primary key among the written columns;
// all columns where the table has no primary key.
func KeyColumns(t *schema.TableInfo, names []string) []int {
	var key []int
	for _, k := range t.PrimaryKey {
		if i := IndexOf(names, k); i >= 0 {
			key = append(key, i)
		}
	}
	if len(key) == 0 || len(key) != len(t.PrimaryKey) {
		key = key[:0]
		for i := range names {
			key = append(key, i)
		}
	}
	return key
}

// RowKey is a row's key (the values at the positions key) as one comparable text.
func RowKey(row []any, key []int) string {
	parts := make([]string, len(key))
	for i, k := range key {
		parts[i] = sources.ComparableText(row[k])
	}
	return strings.Join(parts, "\x1f")
}

// SameRow tells whether two rows hold the same values, as texts compare them.
func SameRow(a, b []any) bool {
	for i := range a {
		if sources.ComparableText(a[i]) != sources.ComparableText(b[i]) {
			return false
		}
	}
	return true
}

// MaxParams bounds the placeholders of one statement, well inside every dialect's limit.
const MaxParams = 900

// ReadRowsByKey reads the rows of a table that have the keys of rows (the columns at
// the positions key), keyed by rowKey.
// JSON documents are read as the text stored, as the source's are.
func ReadRowsByKey(ctx context.Context, db live.DB, d schema.Dialect, target *schema.TableInfo, names []string, key []int, rows [][]any) (map[string][]any, error) {
	out := map[string][]any{}
	if len(rows) == 0 {
		return out, nil
	}
	cond := make([]string, len(key))
	for i, k := range key {
		cond[i] = d.Quote(names[k]) + " = ?"
	}
	match := "(" + strings.Join(cond, " AND ") + ")"
	per := max(1, MaxParams/len(key))
	for start := 0; start < len(rows); start += per {
		end := min(start+per, len(rows))
		var where []string
		var args []any
		for _, row := range rows[start:end] {
			where = append(where, match)
			for _, k := range key {
				args = append(args, row[k])
			}
		}
		if err := ReadRows(ctx, db, d, target, names, key, strings.Join(where, " OR "), args, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// ReadRows adds to out the rows of target that match where (args its parameters): the
// columns names, keyed by RowKey over key, JSON columns as the text stored.
func ReadRows(ctx context.Context, db live.DB, d schema.Dialect, target *schema.TableInfo, names []string, key []int, where string, args []any, out map[string][]any) error {
	selected := make([]string, len(names))
	for i, n := range names {
		selected[i] = d.Quote(n)
		if c, text := target.Column(n), d.Database().JSONText; text != nil && c != nil && (c.Type == "json" || c.Type == "jsonb") {
			selected[i] = text(selected[i])
		}
	}
	query := fmt.Sprintf("SELECT %s FROM %s WHERE %s", strings.Join(selected, ", "), d.Quote(target.Name), where)
	err := live.EachRow(ctx, db, query, args, func(scan func(...any) error) error {
		values, err := live.ScanValues(scan, len(names))
		if err != nil {
			return err
		}
		out[RowKey(values, key)] = values
		return nil
	})
	if err != nil {
		return fmt.Errorf("read %s: %w", target.Name, err)
	}
	return nil
}
