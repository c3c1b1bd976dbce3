package database

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/mlflow-bulk/mlflow-bulk/schema/live"
	"github.com/mlflow-bulk/mlflow-bulk/sources"

	"github.com/mlflow-bulk/mlflow-bulk/schema"
)

// The tables of an MLflow database that mlflow-bulk has no rules for travel as rows:
// every table the database holds beyond the modelled ones below, as the database
// describes itself at run time, so tables of releases newer than mlflow-bulk are copied
// too.

// tableChunkRows bounds the rows of one TableChunk.
const tableChunkRows = 500

// otherTables lists the source's tables copied as rows, parents first.
func (s *dbSource) otherTables() []string {
	var names []string
	for name := range s.tables {
		if !schema.Modelled(name) && !slices.Contains(schema.DerivedTables, name) {
			names = append(names, name)
		}
	}
	return schema.ParentsFirst(s.tables, names)
}

// readOtherTables streams every table without rules, one query per table in key order.
func (s *dbSource) readOtherTables(ctx context.Context) error {
	for _, name := range schema.DerivedTables {
		if s.tables[name] == nil {
			continue
		}
		// On the reading connection: the source reads through that one alone.
		var n int64
		if err := s.conn.QueryRowContext(ctx, connDB{s.conn, s.dialect}.query("SELECT COUNT(*) FROM "+s.dialect.Quote(name))).Scan(&n); err != nil {
			return s.readError(ctx, err)
		}
		if n > 0 {
			if err := s.Emit(ctx, &sources.Notice{Path: s.where, Message: fmt.Sprintf("%d rows of %s were not copied: MLflow builds that table from the traces (`mlflow db build-trace-rollups`)", n, name)}); err != nil {
				return err
			}
		}
	}
	for _, name := range s.otherTables() {
		if err := s.readTable(ctx, s.tables[name]); err != nil {
			return err
		}
	}
	return nil
}

func (s *dbSource) readTable(ctx context.Context, t *schema.TableInfo) error {
	var cols, quoted []string
	var binary []bool
	for _, c := range t.Columns {
		if c.Generated {
			continue // the target computes its own
		}
		cols = append(cols, c.Name)
		quoted = append(quoted, s.dialect.Quote(c.Name))
		binary = append(binary, c.Binary)
	}
	selected := s.selectList(t.Name)
	order := make([]string, 0, len(t.PrimaryKey))
	for _, c := range t.PrimaryKey {
		order = append(order, s.dialect.Quote(c))
	}
	if len(order) == 0 {
		order = quoted
	}
	// The argument makes MySQL's driver use its binary protocol, which types values.
	query := fmt.Sprintf("SELECT %s FROM %s WHERE 1 = ? ORDER BY %s", selected, s.dialect.Quote(t.Name), strings.Join(order, ", "))
	rows, err := s.conn.QueryContext(ctx, connDB{s.conn, s.dialect}.query(query), 1) //nolint:rowserrcheck // live.ScanRows checks them
	if err != nil {
		return s.readError(ctx, err)
	}
	chunk := &sources.TableChunk{Table: t, Columns: cols, Origin: s.origin(t.Name)}
	line := 0
	err = live.ScanRows(rows, func(scan func(...any) error) error {
		values, err := live.ScanValues(scan, len(cols))
		if err != nil {
			return err
		}
		line++
		for i, v := range values {
			if values[i], err = plainValue(v, binary[i]); err != nil {
				return &sources.InputError{File: s.where + " table " + t.Name, Line: line, Err: fmt.Errorf("column %s: %w", cols[i], err)}
			}
		}
		chunk.Rows = append(chunk.Rows, values)
		if len(chunk.Rows) == tableChunkRows {
			if err := s.Emit(ctx, chunk); err != nil {
				return err
			}
			chunk = &sources.TableChunk{Table: t, Columns: cols, Origin: sources.Origin{File: chunk.Origin.File, Line: line + 1}}
		}
		return nil
	})
	if err != nil {
		if ctx.Err() != nil {
			return sources.CheckContext(ctx)
		}
		return fmt.Errorf("read %s table %s: %w", s.where, t.Name, err)
	}
	if len(chunk.Rows) > 0 {
		return s.Emit(ctx, chunk)
	}
	return nil
}

// plainValue turns what a driver scanned into what a TableChunk holds: text as a string,
// bytes only for binary columns, JSON documents as their text.
func plainValue(v any, binary bool) (any, error) {
	switch x := v.(type) {
	case []byte:
		if binary {
			return append([]byte(nil), x...), nil
		}
		return string(x), nil
	case map[string]any, []any:
		b, err := json.Marshal(x)
		if err != nil {
			return nil, err
		}
		return string(b), nil
	}
	return v, nil
}

// Unsupported compares the source's tables with the target's: a table the target lacks
// counts its rows, a column it lacks the rows whose value is not the column's default
// (MLflow's workspace columns hold 'default' where workspaces are not used). It reads on
// a connection of its own, since the source's is busy streaming.
func (s *dbSource) Unsupported(ctx context.Context, target map[string]*schema.TableInfo) ([]sources.Unsupported, error) {
	s.db.SetMaxOpenConns(2)
	var out []sources.Unsupported
	names := make([]string, 0, len(s.tables))
	for name := range s.tables {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if name == "alembic_version" || slices.Contains(schema.DerivedTables, name) {
			continue
		}
		src, dst := s.tables[name], target[name]
		if dst == nil {
			query := "SELECT COUNT(*) FROM " + s.dialect.Quote(name)
			if name == "workspaces" {
				// The default workspace is every database's, with or without workspaces.
				query += " WHERE name <> 'default'"
			}
			n, err := s.count(ctx, query)
			if err != nil {
				return nil, err
			}
			if n > 0 {
				out = append(out, sources.Unsupported{Table: name, Rows: n})
			}
			continue
		}
		for _, c := range src.Columns {
			if c.Generated || dst.Column(c.Name) != nil || schema.HeldElsewhere(name, c.Name, target) {
				continue
			}
			query := fmt.Sprintf("SELECT COUNT(*) FROM %s WHERE %s IS NOT NULL", s.dialect.Quote(name), s.dialect.Quote(c.Name))
			if _, ok := c.LiteralDefault(); ok {
				// The default as the database itself spells it, so it compares as its type.
				query += " AND " + s.dialect.Quote(c.Name) + " <> " + c.Default
			}
			n, err := s.count(ctx, query)
			if err != nil {
				return nil, err
			}
			if n == 0 {
				continue
			}
			u := sources.Unsupported{Table: name, Column: c.Name, Rows: n}
			if c.Name == "workspace" {
				if u.Reason, err = s.workspaceCounts(ctx, name); err != nil {
					return nil, err
				}
			}
			out = append(out, u)
		}
	}
	return out, nil
}

// workspaceCounts names the workspaces other than the default one that rows of a table
// are in, with their row counts, for a target without workspaces.
func (s *dbSource) workspaceCounts(ctx context.Context, table string) (string, error) {
	ws := s.dialect.Quote("workspace")
	rows, err := s.db.QueryContext(ctx, connDB{dialect: s.dialect}.query(fmt.Sprintf("SELECT %s, COUNT(*) FROM %s WHERE %s <> 'default' GROUP BY %s ORDER BY %s", ws, s.dialect.Quote(table), ws, ws, ws)))
	if err != nil {
		return "", fmt.Errorf("read %s: %w", s.where, err)
	}
	defer rows.Close()
	counts := map[string]int64{}
	for rows.Next() {
		var name string
		var n int64
		if err := rows.Scan(&name, &n); err != nil {
			return "", fmt.Errorf("read %s: %w", s.where, err)
		}
		counts[name] = n
	}
	if err := rows.Err(); err != nil {
		return "", fmt.Errorf("read %s: %w", s.where, err)
	}
	return sources.WorkspacesReason(counts), nil
}

func (s *dbSource) count(ctx context.Context, query string, args ...any) (int64, error) {
	var n int64
	if err := s.db.QueryRowContext(ctx, connDB{dialect: s.dialect}.query(query), args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("read %s: %w", s.where, err)
	}
	return n, nil
}
