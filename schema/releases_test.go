package schema_test

import (
	"context"
	"database/sql"
	"strings"
	"testing"

	"github.com/mlflow-bulk/mlflow-bulk/internal/testenv"
	"github.com/mlflow-bulk/mlflow-bulk/schema"
	"github.com/mlflow-bulk/mlflow-bulk/schema/live"
	"github.com/mlflow-bulk/mlflow-bulk/sinks"
)

// TestDerivedMatchesRealDatabases: the schema mlflow-bulk derives for a release head
// equals, item by item, the schema of a database that release of MLflow created.
func TestDerivedMatchesRealDatabases(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ rev, sample string }{
		{"bd07f7e963c5", "sqlite-peco602-zoomcamp-mlflow1.26/02-experiment-tracking/mlflow.db"},
		{"0584bdc529eb", "sqlite-arnaud-p7sentiment-mlflow2.2x/notebooks/mlflow.db"},
		{"bda7b8c39065", "sqlite-bloodglucose-mlflow3/mlflow/mlflow.db"},
		{"1bd49d398cd23", "yizhehong-ecu-agent-sqlite/mlflow.db"},
		{"b7e4c1a90f23", "hcigu-pgpt-sqlite-prompts/backend/mlflow.db"},
	} {
		t.Run(c.rev, func(t *testing.T) {
			real, err := sql.Open("sqlite", "file:"+testenv.Sample(t, c.sample)+"?mode=ro")
			if err != nil {
				t.Fatal(err)
			}
			defer real.Close()
			var stamped string
			if err := real.QueryRow("SELECT version_num FROM alembic_version").Scan(&stamped); err != nil || stamped != c.rev {
				t.Fatalf("sample at %q (%v), want %s", stamped, err, c.rev)
			}
			rev, _ := schema.Lookup(c.rev)
			tx := created(t, dialects[0], rev)
			ours := withoutTableSQL(describe(t, tx, schema.SQLite))
			theirs := withoutTableSQL(describe(t, sqlDB{real}, schema.SQLite))
			diff(t, ours, theirs, nil)
			diff(t, checksOnly(describe(t, tx, schema.SQLite)), checksOnly(describe(t, sqlDB{real}, schema.SQLite)), nil)
			triggers := "SELECT name || ' ' || tbl_name FROM sqlite_master WHERE type = 'trigger'"
			diff(t, describeWith(t, tx, triggers), describeWith(t, sqlDB{real}, triggers), nil)
		})
	}
}

// withoutTableSQL drops the SQLite description's table SQL, whose text shows the ALTERs
// that built a table over the years; columns, keys and indexes stay.
func withoutTableSQL(items []string) []string {
	var out []string
	for _, s := range items {
		if !strings.Contains(s, " CREATE TABLE ") {
			out = append(out, s)
		}
	}
	return out
}

// TestEveryReleaseHead creates the schema of every MLflow release from 1.0 to the newest
// mlflow-bulk describes, on every dialect: the DDL runs, the database reads back as that
// revision, and its tables hold the columns the importer writes at it.
func TestEveryReleaseHead(t *testing.T) {
	var heads []*schema.Revision
	for _, r := range schema.Chain() {
		if r.Releases != "" && r.Described() {
			heads = append(heads, r)
		}
	}
	if len(heads) < 34 {
		t.Fatalf("only %d release heads", len(heads))
	}
	for _, d := range dialects {
		t.Run(string(d.dialect), func(t *testing.T) {
			t.Parallel()
			for _, rev := range heads {
				t.Run(rev.ID, func(t *testing.T) {
					ctx := context.Background()
					tx := created(t, d, rev)
					if got, err := live.Detect(ctx, tx, d.dialect); err != nil || got != rev {
						t.Fatalf("Detect = %v, %v", got, err)
					}
					if err := live.CheckColumns(ctx, tx, d.dialect, rev); err != nil {
						t.Fatal(err)
					}
					// MLflow 3.8 and later guard the secrets table with a trigger.
					var n int64
					if err := live.EachRow(ctx, tx, triggerQuery[d.dialect], nil, func(scan func(...any) error) error { return scan(&n) }); err != nil {
						t.Fatal(err)
					}
					if want := rev.AtLeast("1bd49d398cd23"); (n == 1) != want {
						t.Errorf("%d secrets triggers, want one: %v", n, want)
					}
				})
			}
		})
	}
}

var triggerQuery = map[schema.Dialect]string{
	schema.SQLite:   "SELECT COUNT(*) FROM sqlite_master WHERE type = 'trigger' AND name = 'prevent_secrets_aad_mutation'",
	schema.Postgres: "SELECT COUNT(*) FROM pg_trigger WHERE tgname = 'prevent_secrets_aad_mutation'",
	schema.MySQL:    "SELECT COUNT(*) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE() AND TRIGGER_NAME = 'prevent_secrets_aad_mutation'",
}

// created is a transaction on a new database of the dialect holding the schema of rev,
// rolled back when the test ends.
func created(t *testing.T, d dialectCase, rev *schema.Revision) sinks.Tx {
	t.Helper()
	ctx := context.Background()
	tx, err := open(t, d.uri(t)).Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tx.Rollback(ctx) })
	if err := live.Create(ctx, tx, d.dialect, rev, live.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	return tx
}
