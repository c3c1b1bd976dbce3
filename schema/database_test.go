package schema_test

import (
	"strings"
	"testing"

	"github.com/mlflow-bulk/mlflow-bulk/drivers/all"
	"github.com/mlflow-bulk/mlflow-bulk/schema"
)

// TestDatabases: every database descriptor is complete, its schemes are its own, and
// the sinks' table writes to exactly the databases described.
func TestDatabases(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, db := range schema.Databases() {
		if db.Name == "" || len(db.Schemes) == 0 || db.Quote == nil || db.MetricOrder == "" || db.MaxExperimentID <= 0 {
			t.Errorf("%s: incomplete descriptor", db)
		}
		if db.Dialect.Database() != db {
			t.Errorf("%s: its dialect names another descriptor", db)
		}
		if !schema.CanCreate(schema.Newest(), db.Dialect) {
			t.Errorf("%s: no DDL for the newest revision", db)
		}
		for _, s := range db.Schemes {
			if seen[s] {
				t.Errorf("scheme %s named by two databases", s)
			}
			seen[s] = true
			if got, ok := schema.DatabaseFor(strings.ToUpper(s) + "+somedriver"); !ok || got != db {
				t.Errorf("%s+somedriver: %v %v", s, got, ok)
			}
		}
		if got := db.Query("SELECT ? WHERE x = '?'"); (db.Placeholders == nil) != (got == "SELECT ? WHERE x = '?'") {
			t.Errorf("%s: placeholders: %s", db, got)
		}
	}
	if _, ok := schema.DatabaseFor("mssql"); ok {
		t.Error("a database mlflow-bulk does not know was found")
	}
	if got, want := strings.Join(all.Registry().Schemes(), " "), strings.Join(schema.URISchemes(), " "); got != want {
		t.Errorf("sinks write to %s, the descriptors name %s", got, want)
	}
	if q := schema.Postgres.Database().Query("a = ? AND b = '?'"); q != "a = $1 AND b = '?'" {
		t.Errorf("PostgreSQL placeholders: %s", q)
	}
}

// TestEveryRegisteredDatabaseHasEveryText: each database the command's registry holds has
// a form of every recorded schema change, of the triggers, and held DDL at the newest
// revision, so that a database added without them fails here rather than getting
// derived DDL that silently lacks constraints.
func TestEveryRegisteredDatabaseHasEveryText(t *testing.T) {
	t.Parallel()
	for _, db := range all.Registry().Databases() {
		if missing := schema.MissingTexts(db.Dialect); len(missing) > 0 {
			t.Errorf("%s: no text for %d recorded changes: %s", db, len(missing), strings.Join(missing, "; "))
		}
		for _, r := range []*schema.Revision{schema.Newest(), schema.CreatableRevisions(db.Dialect)[0]} {
			if _, err := schema.Statements(r, db.Dialect); err != nil {
				t.Errorf("%s at %s: %v", db, r, err)
			}
		}
	}
}
