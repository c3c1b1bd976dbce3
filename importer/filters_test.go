package importer_test

import (
	"strings"
	"testing"

	"github.com/mlflow-bulk/mlflow-bulk/importer"
	"github.com/mlflow-bulk/mlflow-bulk/importer/rules"
	"github.com/mlflow-bulk/mlflow-bulk/internal/importtest"
	"github.com/mlflow-bulk/mlflow-bulk/internal/testenv"
	"github.com/mlflow-bulk/mlflow-bulk/remedy"
)

// TestFilters runs each filter over the real packt store: 7 experiments (5 of them in
// .trash, deleted), 19 runs (1 of them deleted).
func TestFilters(t *testing.T) {
	t.Parallel()
	root := testenv.Sample(t, "packt-hyperparam-mlflow1.x/mlruns")
	tests := []struct {
		name            string
		filter          rules.Filter
		wantExperiments []string // besides Default
		check           func(t *testing.T, d *db)
	}{
		{name: "experiment glob", filter: rules.Filter{Experiments: []string{"test*"}}, wantExperiments: []string{"test", "test1", "test2", "test3"}},
		{name: "exclude", filter: rules.Filter{ExcludeExperiments: []string{"test?", "Default"}}, wantExperiments: []string{"example", "example1", "test"}},
		{name: "without deleted", filter: rules.Filter{ExcludeDeleted: true}, wantExperiments: []string{"example1"},
			check: func(t *testing.T, d *db) {
				if n := d.count("SELECT COUNT(*) FROM runs WHERE lifecycle_stage = 'deleted'"); n != 0 {
					t.Errorf("%d deleted runs imported", n)
				}
			}},
		{name: "runs since", filter: rules.Filter{RunsSince: 1656994881395},
			wantExperiments: []string{"example", "example1", "test", "test1", "test2", "test3"},
			check: func(t *testing.T, d *db) {
				if n := d.count("SELECT COUNT(*) FROM runs WHERE start_time < 1656994881395"); n != 0 || d.count("SELECT COUNT(*) FROM runs") == 0 {
					t.Errorf("runs before the limit: %d", n)
				}
			}},
		{name: "rename", filter: rules.Filter{Rename: map[string]string{"example1": "tuning", "Default": "was-default"}},
			wantExperiments: []string{"example", "test", "test1", "test2", "test3", "tuning", "was-default"}},
	}
	for _, target := range targets {
		for _, tt := range tests {
			t.Run(target.name+"/"+tt.name, func(t *testing.T) {
				uri := target.uri(t)
				if _, err := importPaths(t, uri, importer.Options{Filter: tt.filter}, root); err != nil {
					t.Fatal(err)
				}
				d := openDB(t, uri)
				got := d.rows("SELECT name FROM experiments WHERE experiment_id <> 0")
				if strings.Join(got, ",") != strings.Join(tt.wantExperiments, ",") {
					t.Errorf("experiments %v, want %v", got, tt.wantExperiments)
				}
				if tt.check != nil {
					tt.check(t, d)
				}
			})
		}
	}
}

// TestArtifactRootMap rewrites the real stores' locations: URL-encoded file URIs,
// Windows file URIs with the drive letter in another case, bare POSIX paths.
func TestArtifactRootMap(t *testing.T) {
	t.Parallel()
	cases := []struct {
		sample, old, new, wantExperiment, wantRun string
	}{
		{"packt-hyperparam-mlflow1.x/mlruns", "file:///mnt/c/Users/Louis%20Owen/Desktop/Packt/Hyperparameter-Tuning-with-Python/mlruns", "s3://bucket/packt",
			"s3://bucket/packt/6", "s3://bucket/packt/6/a3112407148b4966b929bc9f8784a3d3/artifacts"},
		{"lostpet-textintel-mlflow1.30/mlruns", `file:///c:\repos\github\Kashtanka\TextIntelligenceResearch\mlruns`, "mlflow-artifacts:/",
			"mlflow-artifacts:/2", ""},
		{"heart-mlops-bigids-mlflow3/mlruns", "/Users/aadya/Documents/MyLocalDrive/BITS/GitHub.nosync/heart-mlops-project/mlruns/", "gs://heart",
			"gs://heart/269502884478771284", "gs://heart/269502884478771284/0fea9f88cbd342f894b06bb913893aec/artifacts"},
	}
	for _, target := range targets {
		for _, c := range cases {
			t.Run(target.name+"/"+strings.Split(c.sample, "/")[0], func(t *testing.T) {
				uri := target.uri(t)
				maps := []rules.ArtifactMapping{{Old: "/unrelated", New: "s3://wrong"}, {Old: c.old, New: c.new}}
				report, err := importPaths(t, uri, importer.Options{ArtifactMap: maps}, testenv.Sample(t, c.sample))
				if err != nil {
					t.Fatal(err)
				}
				// Each mapping says what it rewrote; the one that matched nothing warns.
				notes := strings.Join(report.Notices, "\n")
				if !strings.Contains(notes, "warning: "+remedy.Mention(importer.OptionArtifactMap)+" /unrelated=s3://wrong matched no artifact location") ||
					!strings.Contains(notes, remedy.Mention(importer.OptionArtifactMap)+" "+c.old+"="+c.new+" rewrote ") {
					t.Errorf("notices: %s", notes)
				}
				d := openDB(t, uri)
				if n := d.count("SELECT COUNT(*) FROM experiments WHERE artifact_location = ?", c.wantExperiment); n != 1 {
					t.Errorf("no experiment at %s: %v", c.wantExperiment, d.rows("SELECT artifact_location FROM experiments"))
				}
				if c.wantRun != "" && d.count("SELECT COUNT(*) FROM runs WHERE artifact_uri = ?", c.wantRun) != 1 {
					t.Errorf("no run at %s: %v", c.wantRun, d.rows("SELECT artifact_uri FROM runs")[:2])
				}
				if n := d.count("SELECT COUNT(*) FROM runs WHERE artifact_uri NOT LIKE ?", c.new+"%"); n != 0 {
					t.Errorf("%d run locations not rewritten", n)
				}
			})
		}
	}
}

// TestRepeatedPointsAreNamed: a metric point logged twice is written once, and the report
// says why the other is counted as skipped.
func TestRepeatedPointsAreNamed(t *testing.T) {
	root := importtest.StoreWith(t, map[string]string{"metrics/loss": "100 1.5 0\n100 1.5 0\n200 1.25 1\n"})
	report, err := importPaths(t, testenv.SQLite(t), importer.Options{}, root)
	if err != nil {
		t.Fatal(err)
	}
	if c := report.Count("metrics"); c.Created != 2 || c.Skipped != 1 {
		t.Errorf("metrics %+v, want 2 created and 1 skipped", c)
	}
	if notes := strings.Join(report.Notices, "\n"); !strings.Contains(notes, "1 metric points were left out (counted as skipped) as repeats") {
		t.Errorf("the report does not say why a point was skipped: %s", notes)
	}
}
