package schema_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/mlflow-bulk/mlflow-bulk/schema"
	"github.com/mlflow-bulk/mlflow-bulk/schema/live"
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
