package live

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/mlflow-bulk/mlflow-bulk/schema"
)

// ErrNotMLflow means the target holds tables but no alembic_version: it is some other
// database, and mlflow-bulk will not write into it.
var ErrNotMLflow = errors.New("the target holds tables but no alembic_version: not an MLflow database")

// Detect reads the revision of the database behind db. It returns (nil, nil) for an
// empty database (no tables at all), the revision for an MLflow database, and
// ErrPartialSchema, ErrNotMLflow or *schema.UnknownRevisionError otherwise.
func Detect(ctx context.Context, db DB, d schema.Dialect) (*schema.Revision, error) {
	tables, err := listTables(ctx, db, d)
	if err != nil {
		return nil, err
	}
	if len(tables) == 0 {
		return nil, nil
	}
	if partial, err := isPartialSchema(ctx, db, d, tables); err != nil || partial {
		if err == nil {
			err = ErrPartialSchema
		}
		return nil, err
	}
	if !tables["alembic_version"] {
		return nil, ErrNotMLflow
	}
	rows, err := db.Query(ctx, "SELECT version_num FROM alembic_version")
	if err != nil {
		return nil, fmt.Errorf("read alembic_version: %w", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("read alembic_version: %w", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read alembic_version: %w", err)
	}
	if len(ids) != 1 {
		return nil, fmt.Errorf("alembic_version holds %d rows, expected exactly 1: the database is not a consistent MLflow database", len(ids))
	}
	r, ok := schema.Lookup(ids[0])
	if !ok {
		return nil, &schema.UnknownRevisionError{ID: ids[0]}
	}
	return r, nil
}

// listTables lists MLflow's tables (and any other program's), mlflow-bulk's own aside.
func listTables(ctx context.Context, db DB, d schema.Dialect) (map[string]bool, error) {
	all, err := allTables(ctx, db, d)
	for name := range all {
		if schema.OwnTable(name) {
			delete(all, name)
		}
	}
	return all, err
}

// allTables lists every table of the database.
func allTables(ctx context.Context, db DB, d schema.Dialect) (map[string]bool, error) {
	rows, err := db.Query(ctx, d.Database().Introspection.Tables)
	if err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	defer rows.Close()
	tables := map[string]bool{}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, fmt.Errorf("list tables: %w", err)
		}
		tables[name] = true
	}
	return tables, rows.Err()
}

// KeyCollation reads the collation of the tracking tables' key columns.
func KeyCollation(ctx context.Context, db DB, d schema.Dialect) (schema.Collation, error) {
	query := d.Database().Introspection.Collation
	if query == "" {
		return schema.Collation{Name: "binary"}, nil
	}
	rows, err := db.Query(ctx, query)
	if err != nil {
		return schema.Collation{}, fmt.Errorf("read key collation: %w", err)
	}
	defer rows.Close()
	var name string
	if rows.Next() {
		if err := rows.Scan(&name); err != nil {
			return schema.Collation{}, fmt.Errorf("read key collation: %w", err)
		}
	}
	if err := rows.Err(); err != nil {
		return schema.Collation{}, err
	}
	lower := strings.ToLower(name)
	return schema.Collation{
		Name:            name,
		CaseInsensitive: strings.Contains(lower, "_ci"),
		// MariaDB's *_nopad_* and MySQL 8's *_0900_* collations compare trailing spaces.
		PadSpace: !strings.Contains(lower, "nopad") && !strings.Contains(lower, "_0900_"),
	}, nil
}

// Fit checks a database at an unknown revision, whose tables are tables, against what
// mlflow-bulk writes at r: CheckColumns, then the columns no row can leave out. It
// returns the columns of the tables it writes that it leaves at their defaults.
func Fit(ctx context.Context, db DB, d schema.Dialect, r *schema.Revision, id string, tables map[string]*schema.TableInfo) (leftAtDefault []string, err error) {
	if err := CheckColumns(ctx, db, d, r); err != nil {
		return nil, fmt.Errorf("%w; and %w", &schema.UnknownRevisionError{ID: id}, err)
	}
	required, leftAtDefault := schema.UnknownColumns(r, d, tables, true)
	if len(required) > 0 {
		return nil, &schema.RequiredColumnError{Revision: id, Columns: required}
	}
	return leftAtDefault, nil
}

// DetectOrFit is the revision a database is read and written as: the one it records,
// or, where mlflow-bulk does not know that revision (a newer MLflow, a branch) or holds
// no schema of it, the one whose columns its tables fit (Fit). It returns the tables as
// the database describes them, read once for the checks and for the caller (nil for an
// empty database), and notes of what the caller should report of the choice. In every
// case no table of MLflow's may be a view, nor have gained a column every row must fill.
// ErrPartialSchema passes through.
func DetectOrFit(ctx context.Context, db DB, d schema.Dialect) (*schema.Revision, map[string]*schema.TableInfo, []string, error) {
	rev, err := Detect(ctx, db, d)
	var unknown *schema.UnknownRevisionError
	isUnknown := errors.As(err, &unknown)
	if !isUnknown && (err != nil || rev == nil) {
		return rev, nil, nil, err
	}
	if err := checkNoViews(ctx, db, d); err != nil {
		return nil, nil, nil, err
	}
	tables, err := Inspect(ctx, db, d)
	if err != nil {
		return nil, nil, nil, err
	}
	var id string
	var fitAs *schema.Revision
	switch {
	case isUnknown:
		id, fitAs = unknown.ID, schema.Newest()
	case !rev.Described():
		id, fitAs = rev.ID, rev
	default:
		if required, _ := schema.UnknownColumns(rev, d, tables, true); len(required) > 0 {
			return nil, nil, nil, &schema.RequiredColumnError{Revision: rev.ID, Columns: required, Known: true}
		}
		return rev, tables, nil, nil
	}
	left, err := Fit(ctx, db, d, fitAs, id, tables)
	if err != nil {
		return nil, nil, nil, err
	}
	var notes []string
	if _, known := schema.Lookup(id); known {
		notes = append(notes, fmt.Sprintf("the target is at %s, newer than %s, the newest schema mlflow-bulk knows column by column: it was read and written by what its tables hold", fitAs, schema.Newest()))
	} else {
		notes = append(notes, fmt.Sprintf("the target's revision %s is unknown to mlflow-bulk (a newer MLflow, or a branch); its tables hold every column mlflow-bulk writes, so it was read and written as %s", id, fitAs))
	}
	if len(left) > 0 {
		notes = append(notes, fmt.Sprintf("columns of the target that mlflow-bulk does not know were left at their defaults: %s", strings.Join(left, ", ")))
	}
	return fitAs, tables, notes, nil
}

// ErrViewInPlace stops reading or writing a database where one of MLflow's tables is a
// view: what it shows is not what was written to it.
var ErrViewInPlace = errors.New("one of MLflow's tables is a view, not a table")

// checkNoViews refuses a database where a table of MLflow's is a view.
func checkNoViews(ctx context.Context, db DB, d schema.Dialect) error {
	query := d.Database().Introspection.Views
	if query == "" {
		return nil
	}
	var views []string
	err := EachRow(ctx, db, query, nil, func(scan func(...any) error) error {
		var name string
		if err := scan(&name); err != nil {
			return err
		}
		if schema.IsTrackingTable(strings.ToLower(name)) || schema.Modelled(strings.ToLower(name)) {
			views = append(views, name)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("list views: %w", err)
	}
	if len(views) > 0 {
		sort.Strings(views)
		return fmt.Errorf("%w: %s; mlflow-bulk reads and writes MLflow's own tables: point it at the database MLflow writes", ErrViewInPlace, strings.Join(views, ", "))
	}
	return nil
}
