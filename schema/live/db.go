// Package live is the live side of MLflow's schema: reading what a database holds (its
// revision, tables, columns, widths, collation, triggers) and creating MLflow's schema in
// one, through the queries its descriptor gives. MLflow's facts themselves (the revision
// chain, the columns of each revision, the DDL) are package schema's.
package live

import (
	"context"
	"fmt"
	"strings"

	"github.com/mlflow-bulk/mlflow-bulk/schema"
)

// DB is what the live reading needs of a connection or transaction. Queries use '?' placeholders;
// sinks translate them for their dialect.
type DB interface {
	Exec(ctx context.Context, query string, args ...any) (int64, error)
	Query(ctx context.Context, query string, args ...any) (Rows, error)
}

// Rows is the result of Query, in the shape of database/sql's Rows.
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close() error
}

// Inspect reads every table of the database with its columns, primary key and foreign
// keys. Names are lower case, as MLflow writes them.
func Inspect(ctx context.Context, db DB, d schema.Dialect) (map[string]*schema.TableInfo, error) {
	q := d.Database().Introspection
	tables := map[string]*schema.TableInfo{}
	get := func(name string) *schema.TableInfo {
		name = strings.ToLower(name)
		t, ok := tables[name]
		if !ok {
			t = &schema.TableInfo{Name: name}
			tables[name] = t
		}
		return t
	}
	err := EachRow(ctx, db, q.Columns, nil, func(scan func(...any) error) error {
		var table, name, typ, def, generated, required string
		if err := scan(&table, &name, &typ, &def, &generated, &required); err != nil {
			return err
		}
		t := get(table)
		t.Columns = append(t.Columns, schema.ColumnInfo{
			Name: strings.ToLower(name), Type: typ, Default: def, Generated: generated == "1", Required: required == "1",
			Boolean: typ == "boolean" || typ == "tinyint(1)" || typ == "bool",
			Binary:  strings.Contains(typ, "blob") || strings.Contains(typ, "binary") || typ == "bytea",
		})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read the columns of the database's tables: %w", err)
	}
	err = EachRow(ctx, db, q.PrimaryKeys, nil, func(scan func(...any) error) error {
		var table, column string
		if err := scan(&table, &column); err != nil {
			return err
		}
		t := get(table)
		t.PrimaryKey = append(t.PrimaryKey, strings.ToLower(column))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read the primary keys of the database's tables: %w", err)
	}
	var lastKey string
	err = EachRow(ctx, db, q.ForeignKeys, nil, func(scan func(...any) error) error {
		var name, table, column, refTable, refColumn string
		if err := scan(&name, &table, &column, &refTable, &refColumn); err != nil {
			return err
		}
		t := get(table)
		key := strings.ToLower(table) + "/" + name
		if key != lastKey || len(t.ForeignKeys) == 0 {
			t.ForeignKeys = append(t.ForeignKeys, schema.ForeignKey{RefTable: strings.ToLower(refTable)})
			lastKey = key
		}
		fk := &t.ForeignKeys[len(t.ForeignKeys)-1]
		fk.Columns = append(fk.Columns, strings.ToLower(column))
		fk.RefColumns = append(fk.RefColumns, strings.ToLower(refColumn))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read the foreign keys of the database's tables: %w", err)
	}
	for name := range tables {
		if schema.OwnTable(name) {
			delete(tables, name) // mlflow-bulk's, not MLflow's data
		}
	}
	// SQLite names the referenced column only where it is not the primary key.
	for _, t := range tables {
		for i := range t.ForeignKeys {
			fk := &t.ForeignKeys[i]
			for j, c := range fk.RefColumns {
				if ref := tables[fk.RefTable]; c == "" && ref != nil && j < len(ref.PrimaryKey) {
					fk.RefColumns[j] = ref.PrimaryKey[j]
				}
			}
		}
	}
	return tables, nil
}

// EachRow runs a query and calls fn for every row with the row's Scan, then checks the
// rows' own error: a read that fails half-way is an error, never a short result.
func EachRow(ctx context.Context, db DB, query string, args []any, fn func(scan func(...any) error) error) error {
	rows, err := db.Query(ctx, query, args...)
	if err != nil {
		return err
	}
	return ScanRows(rows, fn)
}

// ScanValues scans a row of n columns into generic values, as the driver gives them.
func ScanValues(scan func(...any) error, n int) ([]any, error) {
	values := make([]any, n)
	ptrs := make([]any, n)
	for i := range values {
		ptrs[i] = &values[i]
	}
	if err := scan(ptrs...); err != nil {
		return nil, err
	}
	return values, nil
}

// ScanRows calls fn for every row, closes the rows and returns the first error of fn,
// of the rows while reading, or of closing them.
func ScanRows(rows Rows, fn func(scan func(...any) error) error) error {
	for rows.Next() {
		if err := fn(rows.Scan); err != nil {
			rows.Close()
			return err
		}
	}
	if err := rows.Err(); err != nil {
		rows.Close()
		return err
	}
	return rows.Close()
}
