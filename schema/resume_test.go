package schema_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/mlflow-bulk/mlflow-bulk/schema"
	"github.com/mlflow-bulk/mlflow-bulk/schema/live"
	"github.com/mlflow-bulk/mlflow-bulk/sinks"
)

// TestResumeRefusesAnotherRevisionsTables: completing an interrupted creation of the
// newest schema as MLflow 2.9's stops, naming the tables that are not 2.9's, instead of
// leaving a database of two revisions.
func TestResumeRefusesAnotherRevisionsTables(t *testing.T) {
	ctx := context.Background()
	older, err := schema.ForRelease("2.9")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dialects {
		t.Run(string(d.dialect), func(t *testing.T) {
			tx := partialSchema(t, d.dialect, d.uri(t), 1) // all of it, unstamped
			err = live.Create(ctx, tx, d.dialect, older, live.CreateOptions{Resume: true})
			if !errors.Is(err, live.ErrStrayTables) || !strings.Contains(err.Error(), "table registered_models has workspace") {
				t.Fatalf("resumed as 2.9 over the newest schema's tables: %v", err)
			}
		})
	}
}

// TestResumePartialSchema: half a schema, as a crash during creation leaves on MySQL, is
// recognised and completed into exactly the full schema.
func TestResumePartialSchema(t *testing.T) {
	ctx := context.Background()
	for _, d := range dialects {
		t.Run(string(d.dialect), func(t *testing.T) {
			tx := partialSchema(t, d.dialect, d.uri(t), 2)
			if _, err := live.Detect(ctx, tx, d.dialect); !errors.Is(err, live.ErrPartialSchema) {
				t.Fatalf("Detect: %v, want ErrPartialSchema", err)
			}
			if err := live.Create(ctx, tx, d.dialect, schema.Newest(), live.CreateOptions{Resume: true}); err != nil {
				t.Fatal(err)
			}
			if rev, err := live.Detect(ctx, tx, d.dialect); err != nil || rev != schema.Newest() {
				t.Fatalf("after resuming: %v %v", rev, err)
			}
			resumed := describe(t, tx, d.dialect)
			full := open(t, d.uri(t))
			tx2, _ := full.Begin(ctx)
			defer func() { _ = tx2.Rollback(ctx) }()
			if err := live.Create(ctx, tx2, d.dialect, schema.Newest(), live.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
			diff(t, resumed, describe(t, tx2, d.dialect), nil)
			// A table with rows is data, not an interrupted creation.
			if _, err := tx2.Exec(ctx, "DELETE FROM alembic_version"); err != nil {
				t.Fatal(err)
			}
			if _, err := live.Detect(ctx, tx2, d.dialect); errors.Is(err, live.ErrPartialSchema) {
				t.Error("a schema holding the Default experiment taken for an interrupted creation")
			}
		})
	}
}

// partialSchema is a transaction on a new database holding the first 1/part of the
// newest schema's statements, as an interrupted creation leaves it; it is rolled back
// when the test ends.
func partialSchema(t *testing.T, d schema.Dialect, uri string, part int) sinks.Tx {
	t.Helper()
	ctx := context.Background()
	stmts, err := schema.Statements(schema.Newest(), d)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := open(t, uri).Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tx.Rollback(ctx) })
	if stmts, err = live.ServerForm(ctx, tx, d, stmts); err != nil {
		t.Fatal(err)
	}
	for _, stmt := range stmts[:len(stmts)/part] {
		if _, err := tx.Exec(ctx, stmt); err != nil {
			t.Fatal(err)
		}
	}
	return tx
}
