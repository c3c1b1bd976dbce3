package importer_test

import (
	"strings"
	"testing"

	"github.com/mlflow-bulk/mlflow-bulk/importer"
	"github.com/mlflow-bulk/mlflow-bulk/internal/testenv"
)

// TestSourceNewerThanCreatable: a source at a revision mlflow-bulk knows but does not
// create goes into an empty target at the newest revision before it that it creates; a
// source at a revision it does not know, into the newest schema it holds. Either way the
// report says the target is older than the source, and what to do.
func TestSourceNewerThanCreatable(t *testing.T) {
	for _, c := range []struct{ stamp, want string }{
		{"dc11669786a5", "75868b020152"},
		{"ffffeeee0001", "b7e4c1a90f23"},
	} {
		t.Run(c.stamp, func(t *testing.T) {
			src := testenv.SQLite(t)
			mlflow3151Target(t, src)
			setUp(t, src, "UPDATE alembic_version SET version_num = '"+c.stamp+"'")
			report, err := importPaths(t, testenv.SQLite(t), importer.Options{SkipUnsupported: true}, src)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(report.Revision, c.want) {
				t.Errorf("created at %s, want %s", report.Revision, c.want)
			}
			if notes := strings.Join(report.Notices, "\n"); !strings.Contains(notes, " at "+c.stamp+", which mlflow-bulk does not create: ") {
				t.Errorf("the report does not say the target is older than the source: %s", notes)
			}
		})
	}
}

// TestTwoSourcesOfNewerRevisions: of two database sources at 3.15 and 3.17, the newer
// one's revision is created, and neither is said to be newer than the target.
func TestTwoSourcesOfNewerRevisions(t *testing.T) {
	a, b := testenv.SQLite(t), testenv.SQLite(t)
	mlflow3151Target(t, a)
	mlflow3151Target(t, b)
	setUp(t, b, "UPDATE alembic_version SET version_num = '75868b020152'")
	report, err := importPaths(t, testenv.SQLite(t), importer.Options{SkipUnsupported: true}, a, b)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(report.Revision, "75868b020152") {
		t.Errorf("created at %s, want 75868b020152", report.Revision)
	}
	if notes := strings.Join(report.Notices, "\n"); strings.Contains(notes, "older than") {
		t.Errorf("a source is said to be newer than the target: %s", notes)
	}
}
