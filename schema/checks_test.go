package schema_test

import (
	"context"
	"fmt"
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
	// Every index, with its columns and uniqueness, as MLflow's migrations leave them on
	// MariaDB: the leftovers of 3.10's re-keyed tag tables included.
	indexes := func(uri string) map[string]bool {
		out := map[string]bool{}
		importtest.EachRow(t, uri, "SELECT TABLE_NAME, INDEX_NAME, NON_UNIQUE, GROUP_CONCAT(COLUMN_NAME ORDER BY SEQ_IN_INDEX) FROM information_schema.STATISTICS "+
			"WHERE TABLE_SCHEMA = DATABASE() GROUP BY TABLE_NAME, INDEX_NAME, NON_UNIQUE",
			func(scan func(...any) error) error {
				var table, name, cols string
				var nonUnique int
				if err := scan(&table, &name, &nonUnique, &cols); err != nil {
					return err
				}
				out[fmt.Sprintf("%s %s unique=%t (%s)", table, name, nonUnique == 0, cols)] = true
				return nil
			})
		return out
	}
	want, got = indexes(byMLflow), indexes(byBulk)
	if !want["registered_model_tags name unique=false (name)"] {
		t.Errorf("MLflow's schema lacks the leftover index the test expects: the query read %d indexes", len(want))
	}
	for c := range want {
		if !got[c] {
			t.Errorf("MLflow's index %q is not in mlflow-bulk's schema", c)
		}
	}
	for c := range got {
		if !want[c] {
			t.Errorf("mlflow-bulk's index %q is not in MLflow's schema", c)
		}
	}
}

// TestMariaDBRegistryKeyBefore310: before 3.10 MLflow declares registered_models' name
// unique besides its primary key, and on MySQL that is a key of its own, which MariaDB
// names name (as a database MLflow 2.9's migrations made on MariaDB has it).
func TestMariaDBRegistryKeyBefore310(t *testing.T) {
	for _, id := range []string{"acf3f17fdcc7", "0584bdc529eb", "bda7b8c39065", "1b5f0d9ad7c1"} {
		rev, _ := schema.Lookup(id)
		t.Run(id, func(t *testing.T) {
			uri := testenv.MySQL(t)
			createAt(t, uri, schema.MySQL, rev)
			n := 0
			importtest.EachRow(t, uri, "SELECT COUNT(*) FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'registered_models' AND INDEX_NAME = 'name' AND NON_UNIQUE = 0",
				func(scan func(...any) error) error { return scan(&n) })
			if want := !rev.AtLeast("1b5f0d9ad7c1"); (n == 1) != want {
				t.Errorf("registered_models has %d unique keys named name, want one: %v", n, want)
			}
		})
	}
}
