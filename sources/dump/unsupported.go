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
		var c sources.TableChunk
		if l.decode(b, &c) != nil || c.Table == nil {
			continue
		}
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
