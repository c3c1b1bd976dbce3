package all_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/mlflow-bulk/mlflow-bulk/drivers/all"
	"github.com/mlflow-bulk/mlflow-bulk/internal/testenv"
	"github.com/mlflow-bulk/mlflow-bulk/sinks"
)

// TestClassifyUniqueViolation: every driver tells a row refused by a primary key from
// other failures, on its real server, which is what the key build's de-duplication and
// retries act on.
func TestClassifyUniqueViolation(t *testing.T) {
	for name, uri := range map[string]func(testing.TB) string{"sqlite": testenv.SQLite, "postgres": testenv.Postgres, "mariadb": testenv.MySQL} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			sink, err := all.Registry().Open(ctx, uri(t), sinks.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer sink.Close()
			tx, err := sink.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = tx.Rollback(ctx) }()
			if _, err := tx.Exec(ctx, "CREATE TABLE classify_probe (id INTEGER PRIMARY KEY)"); err != nil {
				t.Fatal(err)
			}
			if _, err := tx.Exec(ctx, "INSERT INTO classify_probe (id) VALUES (1)"); err != nil {
				t.Fatal(err)
			}
			_, err = tx.Exec(ctx, "INSERT INTO classify_probe (id) VALUES (1)")
			if kind := sink.Classify(err); err == nil || kind != sinks.UniqueViolation {
				t.Errorf("a repeated primary key: %v, classified %d", err, kind)
			}
			if kind := sink.Classify(context.Canceled); kind != sinks.OtherError {
				t.Errorf("a cancelled context classified %d", kind)
			}
		})
	}
}

// TestMariaDBConnectionLostSaysSo: a session the server closed (here killed from
// another session) is named as a lost connection with what to do, not the driver's
// "invalid connection".
func TestMariaDBConnectionLostSaysSo(t *testing.T) {
	ctx := context.Background()
	uri := testenv.MySQL(t)
	sink, err := all.Registry().Open(ctx, uri, sinks.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	tx, err := sink.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var id int64
	rows, err := tx.Query(ctx, "SELECT CONNECTION_ID()")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
	}
	rows.Close()
	killer, err := all.Registry().Open(ctx, uri, sinks.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer killer.Close()
	ktx, err := killer.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ktx.Exec(ctx, fmt.Sprintf("KILL %d", id)); err != nil {
		t.Fatal(err)
	}
	_ = ktx.Rollback(ctx)
	_, err = tx.Exec(ctx, "SELECT 1")
	if err == nil || !strings.Contains(err.Error(), "lost the connection to the server") || !strings.Contains(err.Error(), "same command") {
		t.Errorf("a killed session: %v", err)
	}
}
