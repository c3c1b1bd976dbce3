package dump

import (
	"context"

	"github.com/mlflow-bulk/mlflow-bulk/schema"
	"github.com/mlflow-bulk/mlflow-bulk/sources"
)

// dumpTables are the entities a dump keeps whose target table may be missing from an
// older schema, by the table that holds them.
var dumpTables = []struct{ entity, table string }{
	{"logged_models", "logged_models"},
	{"registered_models", "registered_models"},
	{"traces", "trace_info"},
	{"datasets", "datasets"},
}

// Unsupported implements sources.TableSource: what of the dump the target has no table
// or column for, before anything is written, as a database source is checked. The
// manifest counts the entities; tables.jsonl is read through a chunk at a time, in the
// memory of one chunk.
func (s *dumpSource) Unsupported(ctx context.Context, target map[string]*schema.TableInfo) ([]sources.Unsupported, error) {
	var out []sources.Unsupported
	for _, e := range dumpTables {
		if n := s.manifest.Counts[e.entity]; n > 0 && target[e.table] == nil {
			out = append(out, sources.Unsupported{Table: e.table, Rows: n})
		}
	}
	if e := target["experiments"]; e != nil && e.Column("workspace") == nil {
		u, err := s.workspacesUnsupported(ctx)
		if err != nil {
			return nil, err
		}
		if u != nil {
			out = append(out, *u)
		}
	}
	l, err := s.open("tables")
	if err != nil || l == nil {
		return out, err
	}
	defer l.close()
	found := map[string]int{} // what -> index in out
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		b, err := l.next()
		if err != nil || b == nil {
			return out, nil // bad lines are the read's to report, with their line
		}
		var w wireTableChunk
		if l.decode(b, &w) != nil || w.Table == nil {
			continue
		}
		c := sources.TableChunk{Table: w.Table.info(), Columns: w.Columns, Rows: w.Rows}
		numbersToValues(c.Rows)
		what, n := c.UnsupportedIn(target[c.Table.Name])
		if n == 0 {
			continue
		}
		if i, ok := found[what]; ok {
			out[i].Rows += int64(n)
			continue
		}
		u := sources.Unsupported{Table: c.Table.Name, Rows: int64(n)}
		if what != "table "+c.Table.Name {
			u.Column = what[len("column "+c.Table.Name+"."):]
		}
		found[what] = len(out)
		out = append(out, u)
	}
}

// workspacesUnsupported counts the experiments and registered models of the dump in
// workspaces other than the default one, which a target without workspaces cannot keep
// apart; nil when there are none.
func (s *dumpSource) workspacesUnsupported(ctx context.Context) (*sources.Unsupported, error) {
	counts := map[string]int64{}
	var total int64
	for _, entity := range []string{"experiments", "registered_models"} {
		l, err := s.open(entity)
		if err != nil {
			return nil, err
		}
		if l == nil {
			continue
		}
		for {
			if err := ctx.Err(); err != nil {
				l.close()
				return nil, err
			}
			b, err := l.next()
			if err != nil || b == nil {
				break // bad lines are the read's to report, with their line
			}
			var row struct {
				Workspace string `json:"workspace"`
			}
			if l.decode(b, &row) == nil && row.Workspace != "" && row.Workspace != "default" {
				counts[row.Workspace]++
				total++
			}
		}
		l.close()
	}
	if total == 0 {
		return nil, nil
	}
	return &sources.Unsupported{Table: "experiments", Column: "workspace", Rows: total, Reason: sources.WorkspacesReason(counts)}, nil
}
