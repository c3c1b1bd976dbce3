package live

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/mlflow-bulk/mlflow-bulk/schema"
)

// CheckColumns verifies that the database holds every tracking table and column of
// revision r, at least as wide: the check for a target at an unknown revision. It
// returns what is missing or too narrow.
func CheckColumns(ctx context.Context, db DB, d schema.Dialect, r *schema.Revision) error {
	var problems []string
	for _, name := range schema.TrackingTables() {
		if !r.HasTable(name) {
			continue
		}
		have, err := ColumnWidths(ctx, db, d, name)
		if err != nil {
			return err
		}
		if len(have) == 0 {
			problems = append(problems, "table "+name+" is missing")
			continue
		}
		for _, c := range r.Columns(name) {
			w, ok := have[c]
			switch {
			case !ok:
				problems = append(problems, fmt.Sprintf("column %s.%s is missing", name, c))
			case d.EnforcesWidths() && w > 0 && w < r.MaxChars(name, c):
				problems = append(problems, fmt.Sprintf("column %s.%s holds %d characters, mlflow-bulk writes up to %d", name, c, w, r.MaxChars(name, c)))
			}
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("the target's tables do not hold what mlflow-bulk writes: %s", strings.Join(problems, "; "))
	}
	return nil
}

// InsertableColumns lists the columns of a table that take inserted values (generated
// ones left out), as the database has them; nil when the table does not exist. It serves
// tables whose shape mlflow-bulk copies rather than models (traces).
func InsertableColumns(ctx context.Context, db DB, d schema.Dialect, table string) ([]schema.Column, error) {
	rows, err := db.Query(ctx, d.Database().Introspection.Insertable, table)
	if err != nil {
		return nil, fmt.Errorf("read columns of %s: %w", table, err)
	}
	defer rows.Close()
	var cols []schema.Column
	for rows.Next() {
		var name, typ string
		if err := rows.Scan(&name, &typ); err != nil {
			return nil, fmt.Errorf("read columns of %s: %w", table, err)
		}
		cols = append(cols, schema.Column{Name: strings.ToLower(name), Boolean: d.Database().NativeBooleans && typ == "boolean"})
	}
	return cols, rows.Err()
}

// Count runs a query of one count (0 when it returns no row).
func Count(ctx context.Context, db DB, query string) (int64, error) {
	rows, err := db.Query(ctx, query)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	var n int64
	if rows.Next() {
		if err := rows.Scan(&n); err != nil {
			return 0, err
		}
	}
	return n, rows.Err()
}

// KeysDeferred reports whether metrics is in the state DeferKeys leaves it in: a bulk
// load into a new database that has not finished (its keys are still to be built).
func KeysDeferred(ctx context.Context, db DB, d schema.Dialect) (bool, error) {
	k := d.Database().DeferredKeys
	if k == nil {
		return false, nil
	}
	n, err := Count(ctx, db, k.Pending)
	if err != nil {
		return false, fmt.Errorf("read metrics' keys: %w", err)
	}
	return n == 0, nil
}

// ColumnWidths are the columns of a table, lower case, with how many characters each
// holds: 0 where that is unbounded or unknown. An empty map: no such table.
func ColumnWidths(ctx context.Context, db DB, d schema.Dialect, table string) (map[string]int, error) {
	rows, err := db.Query(ctx, d.Database().Introspection.ColumnWidths, table)
	if err != nil {
		return nil, fmt.Errorf("read columns of %s: %w", table, err)
	}
	defer rows.Close()
	have := map[string]int{}
	for rows.Next() {
		var name, width string
		if err := rows.Scan(&name, &width); err != nil {
			return nil, fmt.Errorf("read columns of %s: %w", table, err)
		}
		have[strings.ToLower(name)], _ = strconv.Atoi(width)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read columns of %s: %w", table, err)
	}
	return have, nil
}

// HasRunStamps reports whether the database holds schema.RunStampsTable.
func HasRunStamps(ctx context.Context, db DB, d schema.Dialect) (bool, error) {
	tables, err := allTables(ctx, db, d)
	for name := range tables {
		if strings.EqualFold(name, schema.RunStampsTable) {
			return true, err
		}
	}
	return false, err
}
