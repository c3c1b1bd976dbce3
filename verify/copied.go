package verify

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/mlflow-bulk/mlflow-bulk/schema"
	"github.com/mlflow-bulk/mlflow-bulk/tablerows"
)

// Tables copied as rows (scorers, online scoring configs, issues, review queues, …) hang
// off experiments too. In an experiment of a source's own, the target's rows of such a
// table that no source holds were added since the import (or deleted from the source):
// differences, as a run or a trace would be. A table is scoped to an experiment by a
// column naming it, or by a foreign key to a table that has one (a scorer's versions);
// tables without either (jobs, secrets, workspaces) belong to no experiment.

// noteCopied remembers the key of a target row that a source's row of a table copied as
// rows matched, when the key is the table's primary key.
func (v *verifier) noteCopied(target *schema.TableInfo, names []string, key []int, k string) {
	if len(target.PrimaryKey) == 0 || len(key) != len(target.PrimaryKey) {
		return
	}
	for i, pos := range key {
		if names[pos] != target.PrimaryKey[i] {
			return
		}
	}
	if v.owned.copied[target.Name] == nil {
		v.owned.copied[target.Name] = map[string]bool{}
	}
	v.owned.copied[target.Name][k] = true
}

// experimentScope is the condition that picks a table's rows of one experiment (one '?'),
// "" for a table that belongs to no experiment.
func (v *verifier) experimentScope(t *schema.TableInfo) string {
	if col := experimentColumn(t); col != "" {
		return v.dialect.Quote(col) + " = ?"
	}
	for _, fk := range t.ForeignKeys {
		parent := v.tables[fk.RefTable]
		if len(fk.Columns) != 1 || parent == nil || parent.Name == t.Name {
			continue
		}
		if col := experimentColumn(parent); col != "" {
			return fmt.Sprintf("%s IN (SELECT %s FROM %s WHERE %s = ?)", v.dialect.Quote(fk.Columns[0]),
				v.dialect.Quote(fk.RefColumns[0]), v.dialect.Quote(parent.Name), v.dialect.Quote(col))
		}
	}
	return ""
}

func experimentColumn(t *schema.TableInfo) string {
	names := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		names[i] = c.Name
	}
	if cols := tablerows.ExperimentColumns(t, names); len(cols) > 0 {
		return names[cols[0]]
	}
	return ""
}

// extraCopiedRows reports the rows of tables copied as rows that an experiment of a
// source's own holds in the target and no source does.
func (v *verifier) extraCopiedRows(ctx context.Context) error {
	if len(v.sameExperiments) == 0 {
		return nil
	}
	for _, name := range sortedKeys(v.tables) {
		t := v.tables[name]
		if schema.Modelled(name) || slices.Contains(schema.DerivedTables, name) || len(t.PrimaryKey) == 0 {
			continue
		}
		where := v.experimentScope(t)
		if where == "" {
			continue
		}
		key := make([]int, len(t.PrimaryKey))
		for i := range key {
			key[i] = i
		}
		for _, id := range sortedInt64Keys(v.sameExperiments) {
			held := map[string][]any{}
			if err := tablerows.ReadRows(ctx, v.tx, v.dialect, t, t.PrimaryKey, key, where, []any{id}, held); err != nil {
				return fmt.Errorf("read the %s of experiment %d in the target: %w", name, id, err)
			}
			for _, k := range sortedKeys(held) {
				if !v.owned.copied[name][k] {
					v.differ("", "row extra", name, fmt.Sprintf("experiment %d %q holds a row of %s with key %s, which no source does",
						id, v.sameExperiments[id], name, strings.ReplaceAll(k, "\x1f", ", ")))
				}
			}
		}
	}
	return nil
}
