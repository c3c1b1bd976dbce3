package live

import (
	"context"
	"fmt"
	"sort"

	"github.com/mlflow-bulk/mlflow-bulk/schema"
)

// ForeignTriggers lists the triggers on the database's tables that MLflow does not
// create: one may drop, change or divert the rows mlflow-bulk writes.
func ForeignTriggers(ctx context.Context, db DB, d schema.Dialect) ([]schema.Trigger, error) {
	query := d.Database().Introspection.Triggers
	if query == "" {
		return nil, fmt.Errorf("mlflow-bulk cannot list the triggers of a %s database", d)
	}
	var out []schema.Trigger
	err := EachRow(ctx, db, query, nil, func(scan func(...any) error) error {
		var t schema.Trigger
		if err := scan(&t.Name, &t.Table); err != nil {
			return err
		}
		if !schema.MLflowTrigger(t.Name) {
			out = append(out, t)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list triggers: %w", err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out, nil
}
