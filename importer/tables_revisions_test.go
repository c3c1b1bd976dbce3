package importer_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/mlflow-bulk/mlflow-bulk/drivers/all"
	"github.com/mlflow-bulk/mlflow-bulk/export"
	"github.com/mlflow-bulk/mlflow-bulk/importer"
	"github.com/mlflow-bulk/mlflow-bulk/internal/testenv"
	"github.com/mlflow-bulk/mlflow-bulk/schema"
	"github.com/mlflow-bulk/mlflow-bulk/sinks"
	"github.com/mlflow-bulk/mlflow-bulk/sources"
	"github.com/mlflow-bulk/mlflow-bulk/sources/database"
	"github.com/mlflow-bulk/mlflow-bulk/sources/formats"
)

// TestTableOfANewerMLflow: a source at a revision mlflow-bulk does not know, holding a
// table it has never heard of and a column it does not know in a table it has rules for,
// is read without a flag, and says so, naming the column; the table is named before
// anything is written when the target lacks it, and copied, its experiment ids mapped,
// into a target that has it.
func TestTableOfANewerMLflow(t *testing.T) {
	src, _ := everyTableDB(t)
	setUp(t, src,
		"UPDATE alembic_version SET version_num = 'f00dfeedbeef'",
		"ALTER TABLE experiments ADD COLUMN future_note VARCHAR(40)",
		"CREATE TABLE future_things (thing_id VARCHAR(36) NOT NULL, experiment_id INTEGER NOT NULL, label VARCHAR(100), "+
			"CONSTRAINT future_things_pk PRIMARY KEY (thing_id), CONSTRAINT fk_future_things_experiment_id FOREIGN KEY(experiment_id) REFERENCES experiments (experiment_id))",
		fmt.Sprintf("INSERT INTO future_things VALUES ('t-1', %d, 'from the future')", sourceExperiment))
	for _, target := range targets {
		t.Run(target.name, func(t *testing.T) {
			uri := target.uri(t)
			createAt(t, uri, schema.Newest())
			setUp(t, uri, fmt.Sprintf("INSERT INTO experiments (experiment_id, name, artifact_location, lifecycle_stage) VALUES (%d, 'occupied', 'x', 'active')", sourceExperiment))
			ctx := ctxT(t)
			importUnknown := func(opts importer.Options) (*importer.Report, error) {
				sink, err := all.Registry().Open(ctx, uri, sinks.Options{})
				if err != nil {
					t.Fatal(err)
				}
				defer sink.Close()
				s, err := formats.Open(ctx, src, formats.Options{Database: database.Options{Drivers: all.Registry()}})
				if err != nil {
					t.Fatal(err)
				}
				defer s.Close()
				return importer.Import(ctx, sink, []sources.Source{s}, opts)
			}
			if _, err := importUnknown(importer.Options{}); !errors.Is(err, importer.ErrUnsupported) || !strings.Contains(err.Error(), "table future_things, 1 rows") {
				t.Fatalf("a table the target lacks: %v", err)
			}
			if n := count(t, uri, "experiments"); n != 2 {
				t.Errorf("%d experiments after a refused import", n)
			}
			setUp(t, uri, "CREATE TABLE future_things (thing_id VARCHAR(36) NOT NULL, experiment_id INTEGER NOT NULL, label VARCHAR(100), "+
				"CONSTRAINT future_things_pk PRIMARY KEY (thing_id), CONSTRAINT fk_future_things_experiment_id FOREIGN KEY(experiment_id) REFERENCES experiments (experiment_id))")
			report, err := importUnknown(importer.Options{})
			if err != nil {
				t.Fatal(err)
			}
			var mapped int64 = -1
			for _, m := range report.Experiments {
				if m.SourceID == strconv.Itoa(sourceExperiment) {
					mapped = m.TargetID
				}
			}
			d := openDB(t, uri)
			defer d.close()
			if got := d.rows("SELECT thing_id || ' ' || CAST(experiment_id AS CHAR(20)) || ' ' || label FROM future_things"); len(got) != 1 || got[0] != fmt.Sprintf("t-1 %d from the future", mapped) || mapped == sourceExperiment {
				t.Errorf("future_things: %v (experiment %d mapped to %d)", got, sourceExperiment, mapped)
			}
			if c := report.Count("future_things"); c.Created != 1 {
				t.Errorf("future_things counted %+v", c)
			}
			if notes := strings.Join(report.Notices, "\n"); !strings.Contains(notes, "alembic revision f00dfeedbeef, unknown to mlflow-bulk") || !strings.Contains(notes, "not read: experiments.future_note") {
				t.Errorf("the report does not name the unknown revision and the column not read: %s", notes)
			}
		})
	}
}

// TestOtherWorkspacesKept: an experiment of a workspace other than the default keeps
// its workspace in the target, which gets the workspace's row.
func TestOtherWorkspacesKept(t *testing.T) {
	src, _ := everyTableDB(t)
	setUp(t, src, fmt.Sprintf("UPDATE experiments SET workspace = 'team-a' WHERE experiment_id = %d", sourceExperiment))
	uri := testenv.SQLite(t)
	if _, err := importPaths(t, uri, importer.Options{}, src); err != nil {
		t.Fatal(err)
	}
	d := openDB(t, uri)
	defer d.close()
	if n := d.count("SELECT COUNT(*) FROM experiments e JOIN workspaces w ON w.name = e.workspace WHERE e.workspace = 'team-a'"); n != 1 {
		t.Errorf("experiments in team-a with the workspace's row: %d", n)
	}
}

// TestDumpTablesTheTargetLacks: a dump's rows of a table the target lacks are never
// dropped without a word: the import stops naming the table, or notes it under
// --skip-unsupported.
func TestDumpTablesTheTargetLacks(t *testing.T) {
	ctx := ctxT(t)
	src, _ := everyTableDB(t)
	dir := filepath.Join(t.TempDir(), "dump")
	s, err := formats.Open(ctx, src, formats.Options{Database: database.Options{Drivers: all.Registry()}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = export.Write(ctx, s, dir, export.Options{})
	s.Close()
	if err != nil {
		t.Fatal(err)
	}
	older, _ := schema.Lookup("7d34483879f0")
	uri := testenv.SQLite(t)
	createAt(t, uri, older)
	if _, err := importPaths(t, uri, importer.Options{}, dir); !errors.Is(err, importer.ErrUnsupported) || !strings.Contains(err.Error(), "label_schemas") {
		t.Fatalf("err = %v", err)
	}
	report, err := importPaths(t, uri, importer.Options{SkipUnsupported: true}, dir)
	if err != nil {
		t.Fatal(err)
	}
	noted := 0
	for _, n := range report.Skipped {
		if strings.Contains(n.Reason, "has no such") {
			noted++
		}
	}
	if noted < 5 || report.Count("label_schemas").Skipped != 1 || report.Count("scorers").Created != 1 {
		t.Errorf("%d notes, label_schemas %+v, scorers %+v", noted, report.Count("label_schemas"), report.Count("scorers"))
	}
}
