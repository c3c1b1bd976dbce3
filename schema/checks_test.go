package schema_test

import (
	"context"
	"strings"
	"testing"

	"github.com/mlflow-bulk/mlflow-bulk/drivers/all"
	"github.com/mlflow-bulk/mlflow-bulk/internal/importtest"
	"github.com/mlflow-bulk/mlflow-bulk/internal/testenv"
	"github.com/mlflow-bulk/mlflow-bulk/schema"
	"github.com/mlflow-bulk/mlflow-bulk/schema/live"
	"github.com/mlflow-bulk/mlflow-bulk/sinks"
)

// TestPostgresChecksAsMLflowWritesThem: on PostgreSQL, the CHECK constraints of a schema
// mlflow-bulk creates read back exactly as those of the schema MLflow's own server
// creates in an empty database (its head, 7d34483879f0): PostgreSQL stores a constraint
// by how it was written, and MLflow writes x IN (…).
func TestPostgresChecksAsMLflowWritesThem(t *testing.T) {
	byMLflow := testenv.Postgres(t)
	testenv.MLflowServer(t, byMLflow) // migrates the empty database to its head as it starts
	rev, ok := schema.Lookup("7d34483879f0")
	if !ok {
		t.Fatal("7d34483879f0 unknown")
	}
	byBulk := testenv.Postgres(t)
	createAt(t, byBulk, schema.Postgres, rev)
	want, got := checks(t, byMLflow), checks(t, byBulk)
	if len(want) == 0 {
		t.Fatal("MLflow's schema has no CHECK constraints: the query read nothing")
	}
	for key, def := range want {
		if got[key] != def {
			t.Errorf("%s: mlflow-bulk's reads %q, MLflow's %q", key, got[key], def)
		}
	}
}

// checks are a database's CHECK constraints, by table and a key of their definition's
// column list (names differ where MLflow lets PostgreSQL name them), as PostgreSQL
// writes them back.
func checks(t *testing.T, uri string) map[string]string {
	t.Helper()
	out := map[string]string{}
	importtest.EachRow(t, uri, "SELECT conrelid::regclass::text, pg_get_constraintdef(oid) FROM pg_constraint WHERE contype = 'c' AND connamespace = current_schema()::regnamespace",
		func(scan func(...any) error) error {
			var table, def string
			if err := scan(&table, &def); err != nil {
				return err
			}
			out[table+" "+strings.SplitN(def, "::", 2)[0]] = def
			return nil
		})
	return out
}

// createAt creates MLflow's schema at rev in the database at uri, as schema init does.
func createAt(t *testing.T, uri string, d schema.Dialect, rev *schema.Revision) {
	t.Helper()
	ctx := context.Background()
	writer, err := all.Registry().Open(ctx, uri, sinks.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer writer.Close() // and its lock with it
	tx, err := writer.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := live.Create(ctx, tx, d, rev, live.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestMariaDBChecksAsMLflowWritesThem: on MariaDB, the CHECK constraints of a schema
// mlflow-bulk creates have the names and text of those MLflow's own server creates in an
// empty database (its head, 7d34483879f0): MariaDB names an unnamed constraint
// CONSTRAINT_N and keeps a literal as written, where MySQL's dumps, which the held DDL
// comes from, say runs_chk_1 and _utf8mb4'…'.
func TestMariaDBChecksAsMLflowWritesThem(t *testing.T) {
	byMLflow := testenv.MySQL(t)
	testenv.MLflowServer(t, byMLflow)
	rev, ok := schema.Lookup("7d34483879f0")
	if !ok {
		t.Fatal("7d34483879f0 unknown")
	}
	byBulk := testenv.MySQL(t)
	createAt(t, byBulk, schema.MySQL, rev)
	read := func(uri string) map[string]bool {
		out := map[string]bool{}
		importtest.EachRow(t, uri, "SELECT TABLE_NAME, CONSTRAINT_NAME, CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE()",
			func(scan func(...any) error) error {
				var table, name, clause string
				if err := scan(&table, &name, &clause); err != nil {
					return err
				}
				out[table+" "+name+" "+clause] = true
				return nil
			})
		return out
	}
	want, got := read(byMLflow), read(byBulk)
	if len(want) == 0 {
		t.Fatal("MLflow's schema has no CHECK constraints: the query read nothing")
	}
	for c := range want {
		if !got[c] {
			t.Errorf("MLflow's %q is not in mlflow-bulk's schema", c)
		}
	}
	for c := range got {
		if !want[c] {
			t.Errorf("mlflow-bulk's %q is not in MLflow's schema", c)
		}
	}
}
