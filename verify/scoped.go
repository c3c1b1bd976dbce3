package verify

import (
	"context"
	"fmt"
	"strings"

	"github.com/mlflow-bulk/mlflow-bulk/schema"
	"github.com/mlflow-bulk/mlflow-bulk/schema/live"
	"github.com/mlflow-bulk/mlflow-bulk/tablerows"
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

// scopedRows reads the target's rows of table in scope: the columns names, keyed by
// RowKey over key, as tablerows.ReadRowsByKey reads rows by key.
func (v *verifier) scopedRows(ctx context.Context, target *schema.TableInfo, names []string, key []int, sc scope) (map[string][]any, error) {
	where, args := v.dialect.Quote(sc.column)+" = ?", []any{sc.value}
	if sc.workspace != "" && target.Column("workspace") != nil {
		where += " AND " + v.dialect.Quote("workspace") + " = ?"
		args = append(args, sc.workspace)
	}
	held := map[string][]any{}
	return held, tablerows.ReadRows(ctx, v.tx, v.dialect, target, names, key, where, args, held)
}

// scopedExtras reports the rows held in a scope whose keys are not among the source's
// rows (want), judged against every source at once: two exports of one model may each
// hold versions the other lacks.
func (v *verifier) scopedExtras(target *schema.TableInfo, key []int, want [][]any, held map[string][]any, sc scope) {
	wanted := make(map[string]bool, len(want))
	for _, row := range want {
		wanted[tablerows.RowKey(row, key)] = true
	}
	for _, k := range sortedKeys(held) {
		if !wanted[k] {
			v.extraOf(Difference{Source: v.source, Kind: "row extra", Key: target.Name,
				Detail: fmt.Sprintf("%s holds a row with key %s for %s %v, which the source does not", target.Name, strings.ReplaceAll(k, "\x1f", ", "), sc.column, sc.value)})
		}
	}
}

// ownedEntities are the ids of what the sources hold in experiments, for the check of
// what the target holds beyond them in the experiments that are a source's own.
type ownedEntities struct {
	traces, models, datasets map[string]bool
	// copied holds, per table copied as rows, the keys of the target's rows that a
	// source's row matched (copied.go).
	copied map[string]map[string]bool
}

func newOwnedEntities() ownedEntities {
	return ownedEntities{traces: map[string]bool{}, models: map[string]bool{}, datasets: map[string]bool{}, copied: map[string]map[string]bool{}}
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
			err := live.EachRow(ctx, v.tx, c.query, []any{id}, func(scan func(...any) error) error {
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
