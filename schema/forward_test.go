package schema_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlflow-bulk/mlflow-bulk/internal/testenv"
	"github.com/mlflow-bulk/mlflow-bulk/schema"
	"github.com/mlflow-bulk/mlflow-bulk/schema/live"
)

// The schemas of MLflow 3.15, 3.16 and 3.17 are derived forward from 3.14's
// (schema/history_after.go). These tests hold each against what MLflow itself made.

// TestForward315MatchesMLflow: 3.15's schema (6f8d9c3b2a1e) equals, item by item, the
// schema of a database MLflow 3.15.1 wrote: columns, keys, foreign keys with their
// actions, indexes and CHECKs.
func TestForward315MatchesMLflow(t *testing.T) {
	t.Parallel()
	rev, _ := schema.Lookup("6f8d9c3b2a1e")
	text, err := os.ReadFile(filepath.Join(filepath.Dir(testenv.Samples(t)), "mlflow-reference", "schemas-after-3.14", rev.ID, "sqlite.schema.sql"))
	if err != nil {
		t.Fatal(err)
	}
	real, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "mlflow-3.15.1.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer real.Close()
	if _, err := real.Exec(string(text)); err != nil {
		t.Fatal(err)
	}
	ours := describe(t, created(t, dialects[0], rev), schema.SQLite)
	theirs := describe(t, sqlDB{real}, schema.SQLite)
	if len(theirs) < 500 {
		t.Fatalf("MLflow 3.15.1's schema described in only %d items", len(theirs))
	}
	diff(t, withoutTableSQL(ours), withoutTableSQL(theirs), nil)
	diff(t, checksOnly(ours), checksOnly(theirs), nil)
}

// TestForwardMatchesMLflowDumps: 3.17 on SQLite and 3.16 on MariaDB equal MLflow's own
// later dumps, less what those branch states have beyond the release
// (mlflow-reference/AFTER-3.14.md): 3.17's dump is of a tree that also holds the job
// executor tables of dc11669786a5, and 3.16's MySQL dump carries an unmerged collation.
func TestForwardMatchesMLflowDumps(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, c := range []struct {
		d         dialectCase
		rev, dump string
		// beyond turns the dump into the release's schema.
		beyond []string
	}{
		{dialects[0], "75868b020152", "dc11669786a5", append([]string{"DROP TABLE job_locks", "DROP TABLE scheduler_leases"},
			dropColumns("jobs", "executor_backend", "lease_expires_at", "status_message", "progress", "progress_updated_at", "token_hash", "scoped_permissions", "next_attempt_at")...)},
		{dialects[2], "b7e2c1a4d9f3", "7c4d9e2f1a86", nil},
	} {
		t.Run(string(c.d.dialect)+"/"+c.rev, func(t *testing.T) {
			rev, _ := schema.Lookup(c.rev)
			ours := describe(t, created(t, c.d, rev), c.d.dialect)
			tx, err := open(t, c.d.uri(t)).Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = tx.Rollback(ctx) }()
			stmts := testenv.MLflowDump(t, c.dump, string(c.d.dialect))
			if stmts, err = live.ServerForm(ctx, tx, c.d.dialect, stmts); err != nil {
				t.Fatal(err)
			}
			for _, stmt := range append(stmts, c.beyond...) {
				if _, err := tx.Exec(ctx, strings.ReplaceAll(stmt, ` COLLATE "utf8mb4_bin"`, "")); err != nil {
					t.Fatalf("MLflow's dump: %v\n%s", err, stmt)
				}
			}
			theirs := describe(t, tx, c.d.dialect)
			allowed := declaredIndexes(t, rev, c.d.dialect)
			if c.d.dialect == schema.MySQL {
				// MLflow's MySQL dumps leave out unique keys, 3.14's two among them.
				allowed = append(allowed, append(mysqlUniqueKeys, "uq_label_schemas_exp_name", "uq_review_queues_experiment_name_key")...)
				diff(t, ours, theirs, allowed)
				return
			}
			diff(t, withoutTableSQL(ours), withoutTableSQL(theirs), allowed)
			diff(t, checksOnly(ours), checksOnly(theirs), nil)
		})
	}
}

func dropColumns(table string, columns ...string) []string {
	out := make([]string, len(columns))
	for i, c := range columns {
		out[i] = "ALTER TABLE " + table + " DROP COLUMN " + c
	}
	return out
}

// TestForwardReleasesOnEveryDialect creates 3.15, 3.16 and 3.17 on every dialect: the
// database reads back as its revision, holds every table its DDL names, and MLflow's
// tracking tables with every column the importer writes.
func TestForwardReleasesOnEveryDialect(t *testing.T) {
	for _, release := range []string{"3.15", "3.16", "3.17"} {
		rev, err := schema.ForRelease(release)
		if err != nil {
			t.Fatal(err)
		}
		if rev.Described() {
			t.Fatalf("%s is held, not derived forward", rev)
		}
		for _, d := range dialects {
			t.Run(release+"/"+string(d.dialect), func(t *testing.T) {
				ctx := context.Background()
				if !schema.CanCreate(rev, d.dialect) {
					t.Fatalf("cannot create %s", rev)
				}
				tx := created(t, d, rev)
				if got, err := live.Detect(ctx, tx, d.dialect); err != nil || got != rev {
					t.Fatalf("Detect = %v, %v", got, err)
				}
				if err := live.CheckColumns(ctx, tx, d.dialect, rev.DescribedBase()); err != nil {
					t.Fatal(err)
				}
				tables, err := live.Inspect(ctx, tx, d.dialect)
				if err != nil {
					t.Fatal(err)
				}
				stmts, err := schema.Statements(rev, d.dialect)
				if err != nil {
					t.Fatal(err)
				}
				for table := range schema.DDLColumnsOf(stmts) {
					if tables[table] == nil {
						t.Errorf("table %s was not created", table)
					}
				}
				if _, ok := tables["mcp_servers"]; !ok {
					t.Error("no MCP registry")
				}
			})
		}
	}
}
