package verify

import (
	"context"
	"fmt"
	"strings"

	"github.com/mlflow-bulk/mlflow-bulk/importer"
	"github.com/mlflow-bulk/mlflow-bulk/schema"
)

// Rows an entity owns in the target beyond what the source holds of it (a tag added to
// a trace, a version to a model, a param to a logged model) are differences: a trace
// and a logged model are the source's own by their ids, a registered model where the
// target's is the source's (the same creation time; one merged by name from elsewhere
// keeps its own rows). The scope is the entity's key in the child table.

// scope names the rows of a table an entity owns: the column that names the entity and
// its value, and, for the registry, the workspace.
type scope struct {
	column    string
	value     any
	workspace string // "" where the table has none or it does not apply
}

// scopedExtras reports the target's rows of table in scope whose keys are not among the
// source's rows (want, as tableRows compared them: columns names, key positions key).
func (v *verifier) scopedExtras(ctx context.Context, target *schema.TableInfo, names []string, key []int, want [][]any, sc scope) error {
	if len(key) == 0 {
		return nil
	}
	held := map[string]bool{}
	for _, row := range want {
		held[importer.RowKey(row, key)] = true
	}
	keyNames := make([]string, len(key))
	for i, k := range key {
		keyNames[i] = v.dialect.Quote(names[k])
	}
	query := fmt.Sprintf("SELECT %s FROM %s WHERE %s = ?", strings.Join(keyNames, ", "), v.dialect.Quote(target.Name), v.dialect.Quote(sc.column))
	args := []any{sc.value}
	if sc.workspace != "" && target.Column("workspace") != nil {
		query += " AND " + v.dialect.Quote("workspace") + " = ?"
		args = append(args, sc.workspace)
	}
	return schema.EachRow(ctx, v.tx, query, args, func(scan func(...any) error) error {
		values := make([]any, len(key))
		ptrs := make([]any, len(key))
		for i := range values {
			ptrs[i] = &values[i]
		}
		if err := scan(ptrs...); err != nil {
			return err
		}
		row := make([]any, len(names))
		for i, k := range key {
			row[k] = plain(values[i])
		}
		if k := importer.RowKey(row, key); !held[k] {
			// Judged against every source at once: two exports of one model may each
			// hold versions the other lacks.
			v.extraOf(Difference{Source: v.source, Kind: "row extra", Key: target.Name,
				Detail: fmt.Sprintf("%s holds a row with key %s for %s %v, which the source does not", target.Name, strings.ReplaceAll(k, "\x1f", ", "), sc.column, sc.value)})
		}
		return nil
	})
}

// plain turns the bytes a driver returns for text into a string, as rows compare.
func plain(v any) any {
	if b, ok := v.([]byte); ok {
		return string(b)
	}
	return v
}

// ownedEntities are the ids of what the sources hold in experiments, for the check of
// what the target holds beyond them in the experiments that are a source's own.
type ownedEntities struct {
	traces, models, datasets map[string]bool
}

func newOwnedEntities() ownedEntities {
	return ownedEntities{traces: map[string]bool{}, models: map[string]bool{}, datasets: map[string]bool{}}
}

func datasetKey(experimentID int64, name, digest string) string {
	return fmt.Sprintf("%d\x1f%s\x1f%s", experimentID, name, digest)
}

// extraEntities reports the traces, logged models and datasets that an experiment of a
// source's own holds in the target and no source does.
func (v *verifier) extraEntities(ctx context.Context) error {
	checks := []struct {
		table, query, what string
		held               map[string]bool
	}{
		{"trace_info", "SELECT request_id FROM trace_info WHERE experiment_id = ?", "trace", v.owned.traces},
		{"logged_models", "SELECT model_id FROM logged_models WHERE experiment_id = ?", "logged model", v.owned.models},
		{"datasets", "SELECT name, digest FROM datasets WHERE experiment_id = ?", "dataset", v.owned.datasets},
	}
	for _, id := range sortedInt64Keys(v.sameExperiments) {
		for _, c := range checks {
			if v.tables[c.table] == nil {
				continue
			}
			err := schema.EachRow(ctx, v.tx, c.query, []any{id}, func(scan func(...any) error) error {
				var key, name, digest string
				if c.table == "datasets" {
					if err := scan(&name, &digest); err != nil {
						return err
					}
					key = datasetKey(id, name, digest)
				} else if err := scan(&key); err != nil {
					return err
				}
				if !c.held[key] {
					shown := key
					if c.table == "datasets" {
						shown = name + " (digest " + digest + ")"
					}
					v.differ("", c.what+" extra", shown, fmt.Sprintf("experiment %d %q holds %s %s, which no source does", id, v.sameExperiments[id], c.what, shown))
				}
				return nil
			})
			if err != nil {
				return fmt.Errorf("read the %s of experiment %d in the target: %w", c.table, id, err)
			}
		}
	}
	return nil
}
