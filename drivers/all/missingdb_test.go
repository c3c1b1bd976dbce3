package all_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/mlflow-bulk/mlflow-bulk/drivers/all"
	"github.com/mlflow-bulk/mlflow-bulk/internal/testenv"
	"github.com/mlflow-bulk/mlflow-bulk/sinks"
)

// TestMissingDatabaseSaysHowToCreateIt: a target database the server does not have is
// an error that says how to create it, with the server's own client; a source that does
// not exist is only named (nothing is to be created for reading).
func TestMissingDatabaseSaysHowToCreateIt(t *testing.T) {
	for name, c := range map[string]struct {
		uri  func(testing.TB) string
		want string
	}{"postgres": {testenv.Postgres, "createdb -h "}, "mariadb": {testenv.MySQL, "CREATE DATABASE `no_such_db_here` CHARACTER SET utf8mb4"}} {
		t.Run(name, func(t *testing.T) {
			u, err := url.Parse(c.uri(t))
			if err != nil {
				t.Fatal(err)
			}
			u.Path = "/no_such_db_here"
			ctx := context.Background()
			_, err = all.Registry().Open(ctx, u.String(), sinks.Options{})
			if err == nil || !strings.Contains(err.Error(), "Create it first") || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("a missing target database: %v", err)
			}
			_, err = all.Registry().Open(ctx, u.String(), sinks.Options{ReadOnly: true})
			if err == nil || strings.Contains(err.Error(), "Create it first") {
				t.Fatalf("a missing source database: %v", err)
			}
		})
	}
}
