package importer

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/mlflow-bulk/mlflow-bulk/internal/testenv"
	"github.com/mlflow-bulk/mlflow-bulk/sinks"
	"github.com/mlflow-bulk/mlflow-bulk/sources"
)

// TestPendingExperiments: experiments held back go in, in statements of many rows,
// before the transaction's next statement and at its commit, whatever columns each
// has; one the database refuses fails the statement after it, naming it.
func TestPendingExperiments(t *testing.T) {
	for name, uri := range map[string]func(testing.TB) string{"sqlite": testenv.SQLite, "postgres": testenv.Postgres, "mariadb": testenv.MySQL} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			sink, raw, rev := newSchemaTx(t, uri(t))
			tx := newPendingTx(raw)
			store := sqlStore{tx: func() sinks.Tx { return tx }, rev: rev, dialect: sink.Dialect()}
			count := func() int64 {
				t.Helper()
				var n int64
				if _, err := store.queryRow(ctx, []any{&n}, "SELECT COUNT(*) FROM experiments"); err != nil {
					t.Fatal(err)
				}
				return n
			}
			// More than one statement's rows, in runs of two column sets.
			const created = 2*maxRowsPerInsert + 7
			for i := 1; i <= created; i++ {
				e := &sources.Experiment{Name: fmt.Sprintf("e%d", i), ArtifactLocation: "file:///a", LifecycleStage: sources.LifecycleActive}
				if i%300 < 150 {
					e.Workspace = "default"
				}
				if err := store.CreateExperiment(ctx, int64(i), e); err != nil {
					t.Fatal(err)
				}
			}
			if len(tx.rows) != created {
				t.Fatalf("%d experiments held back, want %d", len(tx.rows), created)
			}
			if got := count(); got != created+1 {
				t.Fatalf("a query after the experiments found %d, want %d with Default", got, created+1)
			}
			id, _, found, err := store.ExperimentByName(ctx, "default", "e700")
			if err != nil || !found || id != 700 {
				t.Fatalf("e700: id %d found %v (%v)", id, found, err)
			}
			// The same id again: refused at the next statement, which says which one.
			if err := store.CreateExperiment(ctx, 5, &sources.Experiment{Name: "again", LifecycleStage: sources.LifecycleActive}); err != nil {
				t.Fatal(err)
			}
			_, err = tx.Exec(ctx, "SELECT 1")
			if err == nil || !strings.Contains(err.Error(), `experiment "again"`) {
				t.Fatalf("a refused experiment: %v", err)
			}
			if err := tx.Rollback(ctx); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestPendingExperimentsAtCommit: experiments created last are in once the
// transaction commits, with nothing after them.
func TestPendingExperimentsAtCommit(t *testing.T) {
	ctx := context.Background()
	sink, raw, rev := newSchemaTx(t, testenv.SQLite(t))
	tx := newPendingTx(raw)
	store := sqlStore{tx: func() sinks.Tx { return tx }, rev: rev, dialect: sink.Dialect()}
	if err := store.CreateExperiment(ctx, 3, &sources.Experiment{Name: "last", LifecycleStage: sources.LifecycleActive}); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	next, err := sink.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = next.Rollback(ctx) }()
	after := sqlStore{tx: func() sinks.Tx { return next }, rev: rev, dialect: sink.Dialect()}
	if id, _, found, err := after.ExperimentByName(ctx, "default", "last"); err != nil || !found || id != 3 {
		t.Fatalf("after the commit: id %d found %v (%v)", id, found, err)
	}
}
