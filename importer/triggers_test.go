package importer_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/mlflow-bulk/mlflow-bulk/importer"
	"github.com/mlflow-bulk/mlflow-bulk/internal/synth"
	"github.com/mlflow-bulk/mlflow-bulk/schema"
)

// dropOddSteps is, per target, a trigger MLflow does not create on metrics: on SQLite and
// PostgreSQL it drops the rows of odd steps without an error; MariaDB's triggers cannot
// drop rows, so there it leaves them as they are.
var dropOddSteps = map[string][]string{
	"sqlite": {"CREATE TRIGGER drop_odd BEFORE INSERT ON metrics WHEN NEW.step % 2 = 1 BEGIN SELECT RAISE(IGNORE); END"},
	"postgres": {"CREATE FUNCTION drop_odd() RETURNS trigger AS $$ BEGIN IF NEW.step % 2 = 1 THEN RETURN NULL; END IF; RETURN NEW; END $$ LANGUAGE plpgsql",
		"CREATE TRIGGER drop_odd BEFORE INSERT ON metrics FOR EACH ROW EXECUTE FUNCTION drop_odd()"},
	"mariadb": {"CREATE TRIGGER drop_odd BEFORE INSERT ON metrics FOR EACH ROW SET NEW.value = NEW.value"},
}

// TestTriggersThatDropRows: a trigger MLflow does not create on a table the import writes
// is named before anything is written, and the import stops; with --allow-triggers, a
// write that stores fewer rows than it wrote stops the import with nothing of the batch
// committed, and never yields a report of rows that are not there.
func TestTriggersThatDropRows(t *testing.T) {
	root, _ := synthStore(t, synth.Options{Experiments: 1, Runs: 3, MetricKeys: 2, Steps: 20, Params: 1, Seed: 31})
	for _, target := range targets {
		t.Run(target.name, func(t *testing.T) {
			uri := target.uri(t)
			createAt(t, uri, schema.Newest())
			setUp(t, uri, dropOddSteps[target.name]...)

			_, err := importPaths(t, uri, importer.Options{}, root)
			if !errors.Is(err, importer.ErrForeignTriggers) || !strings.Contains(err.Error(), "drop_odd on metrics") {
				t.Fatalf("a foreign trigger: %v", err)
			}
			d := openDB(t, uri)
			if n := d.count("SELECT COUNT(*) FROM runs"); n != 0 {
				t.Errorf("%d runs written before the trigger was named", n)
			}
			d.close()

			report, err := importPaths(t, uri, importer.Options{AllowTriggers: true}, root)
			d = openDB(t, uri)
			defer d.close()
			stored := d.count("SELECT COUNT(*) FROM metrics")
			if target.name == "mariadb" {
				if err != nil || report.Count("metrics").Created != int64(stored) || stored != 3*2*20 {
					t.Fatalf("a trigger that drops nothing: %v, %d created, %d stored", err, report.Count("metrics").Created, stored)
				}
				if !strings.Contains(strings.Join(report.Notices, "\n"), "drop_odd on metrics") {
					t.Errorf("notices: %v", report.Notices)
				}
				return
			}
			if !errors.Is(err, importer.ErrRowsNotStored) {
				t.Fatalf("a trigger that drops rows: %v (%d metric rows stored)", err, stored)
			}
			if report != nil && report.Count("metrics").Created != int64(stored) {
				t.Errorf("the report says %d metric rows created, the target holds %d", report.Count("metrics").Created, stored)
			}
			if runs := d.count("SELECT COUNT(*) FROM runs"); runs != 0 || stored != 0 {
				t.Errorf("%d runs and %d metric rows committed of the batch a trigger cut", runs, stored)
			}
		})
	}
}
