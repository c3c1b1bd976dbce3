package database

import (
	"context"
	"fmt"
	"strings"

	"github.com/mlflow-bulk/mlflow-bulk/schema/live"
	"github.com/mlflow-bulk/mlflow-bulk/sources"
)

// traceTables are the tables that hang off trace_info, the column naming the trace, and
// the revision that created them, in foreign-key order.
var traceTables = []struct{ table, key, since string }{
	{"trace_tags", "request_id", "867495a8f9d4"},
	{"trace_request_metadata", "request_id", "867495a8f9d4"},
	{"assessments", "trace_id", "770bee3ae1dd"},
	{"spans", "trace_id", "a1b2c3d4e5f6"},
	{"trace_metrics", "request_id", "b7c8d9e0f1a2"},
	{"span_metrics", "trace_id", "c8d9e0f1a2b3"},
}

// readTraces streams traces a page of trace_info rows at a time, each with the rows of
// the tables that refer to it: one query per table and page.
func (s *dbSource) readTraces(ctx context.Context) error {
	if !s.rev.AtLeast("867495a8f9d4") {
		return nil
	}
	after := ""
	for {
		page, err := s.tableRows(ctx, "trace_info", "SELECT "+s.selectList("trace_info")+" FROM trace_info WHERE request_id > ? ORDER BY request_id LIMIT ?", after, runsPerPage)
		if err != nil {
			return err
		}
		if len(page.Rows) == 0 {
			return nil
		}
		idCol, expCol := indexOf(page.Columns, "request_id"), indexOf(page.Columns, "experiment_id")
		traces := make([]*sources.Trace, len(page.Rows))
		byID := map[string]*sources.Trace{}
		ids := make([]any, len(page.Rows))
		for i, row := range page.Rows {
			id := fmt.Sprint(row[idCol])
			traces[i] = &sources.Trace{RequestID: id, ExperimentSourceID: fmt.Sprint(row[expCol]), Origin: s.origin("trace_info"),
				Tables: []sources.TableRows{{Table: "trace_info", Columns: page.Columns, Rows: [][]any{row}}}}
			byID[id], ids[i] = traces[i], id
		}
		for _, child := range traceTables {
			if !s.rev.AtLeast(child.since) {
				continue
			}
			rows, err := s.tableRows(ctx, child.table, "SELECT "+s.selectList(child.table)+" FROM "+child.table+" WHERE "+child.key+" IN ("+inList(len(ids))+")", ids...)
			if err != nil {
				return err
			}
			key := indexOf(rows.Columns, child.key)
			for _, row := range rows.Rows {
				tr := byID[fmt.Sprint(row[key])]
				if last := len(tr.Tables) - 1; tr.Tables[last].Table != child.table {
					tr.Tables = append(tr.Tables, sources.TableRows{Table: child.table, Columns: rows.Columns})
				}
				last := &tr.Tables[len(tr.Tables)-1]
				last.Rows = append(last.Rows, row)
			}
		}
		for _, tr := range traces {
			if err := s.Emit(ctx, tr); err != nil {
				return err
			}
		}
		after = traces[len(traces)-1].RequestID
	}
}

func indexOf(list []string, s string) int {
	for i, x := range list {
		if strings.EqualFold(x, s) {
			return i
		}
	}
	return -1
}

// selectList is the column list that reads a table's values as MLflow wrote them:
// generated columns left out (the target computes its own) and JSON documents as their
// stored text (PostgreSQL's driver would decode them, losing key order and spacing).
// Column names come out as the table's.
func (s *dbSource) selectList(table string) string {
	info := s.tables[table]
	if info == nil {
		return "*"
	}
	var exprs []string
	for _, c := range info.Columns {
		if c.Generated {
			continue
		}
		q := s.dialect.Quote(c.Name)
		if text := s.dialect.Database().JSONText; text != nil && (c.Type == "json" || c.Type == "jsonb") {
			q = text(q) + " AS " + q
		}
		exprs = append(exprs, q)
	}
	return strings.Join(exprs, ", ")
}

// tableRows reads a query's rows as generic values: text as strings, bytes of binary
// columns as bytes, JSON documents re-encoded as text, numbers and booleans as they come.
func (s *dbSource) tableRows(ctx context.Context, table, query string, args ...any) (sources.TableRows, error) {
	rows, err := s.q(ctx, query, args...) //nolint:rowserrcheck // live.ScanRows checks them
	if err != nil {
		return sources.TableRows{}, err
	}
	defer rows.Close() // ScanRows closes them too; this covers the early returns
	cols, err := rows.Columns()
	if err != nil {
		return sources.TableRows{}, err
	}
	out := sources.TableRows{Table: table}
	binary := make([]bool, len(cols))
	info := s.tables[table]
	for i, c := range cols {
		out.Columns = append(out.Columns, strings.ToLower(c))
		if info != nil {
			if col := info.Column(out.Columns[i]); col != nil {
				binary[i] = col.Binary
			}
		}
	}
	err = live.ScanRows(rows, func(scan func(...any) error) error {
		values, err := live.ScanValues(scan, len(cols))
		if err != nil {
			return err
		}
		for i, v := range values {
			var err error
			if values[i], err = plainValue(v, binary[i]); err != nil {
				return err
			}
		}
		out.Rows = append(out.Rows, values)
		return nil
	})
	if err != nil {
		if ctx.Err() != nil {
			return sources.TableRows{}, sources.CheckContext(ctx)
		}
		return sources.TableRows{}, fmt.Errorf("read %s table %s: %w", s.where, table, err)
	}
	return out, nil
}
