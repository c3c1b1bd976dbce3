package importer_test

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mlflow-bulk/mlflow-bulk/importer"
	"github.com/mlflow-bulk/mlflow-bulk/internal/synth"
	"github.com/mlflow-bulk/mlflow-bulk/internal/testenv"
	"github.com/mlflow-bulk/mlflow-bulk/verify"
)

const sharedModel = "sk-learn-random-forest-reg-model"

// teamStores are two teams' real file stores that share an experiment name (Default)
// and, in team B's copy, the name of team A's registered model.
func teamStores(t *testing.T) (a, b string) {
	a = testenv.Sample(t, "shisian512-registry-aliases/mlruns")
	b = filepath.Join(t.TempDir(), "mlruns")
	if err := os.CopyFS(b, os.DirFS(testenv.Sample(t, "dmatrix-logged-models/mlruns"))); err != nil {
		t.Fatal(err)
	}
	setUpFile(t, b, "models/"+sharedModel+"/meta.yaml", "creation_timestamp: 1756406830000\ndescription: team B's\nlast_updated_timestamp: 1756406830000\nname: "+sharedModel+"\n")
	setUpFile(t, b, "models/"+sharedModel+"/version-1/meta.yaml", "creation_timestamp: 1756406830000\ncurrent_stage: None\nlast_updated_timestamp: 1756406830000\n"+
		"name: "+sharedModel+"\nrun_id: 199979c812f844b4aeb4f156fe79180a\nsource: s3://team-b/model\nstatus: READY\nversion: 1\n")
	return a, b
}

// workspaceRows lists where experiments, models and versions are, by workspace.
func workspaceRows(t *testing.T, uri string) []string {
	d := openDB(t, uri)
	defer d.close()
	var out []string
	for _, q := range []struct{ what, query string }{
		{"experiment", "SELECT workspace, name FROM experiments"},
		{"model", "SELECT workspace, name FROM registered_models"},
		{"version", "SELECT workspace, name, version FROM model_versions"},
		{"runs", "SELECT e.workspace, COUNT(*) FROM runs r JOIN experiments e ON e.experiment_id = r.experiment_id GROUP BY e.workspace"},
		{"workspace", "SELECT name FROM workspaces"},
	} {
		for _, row := range rowsAsText(t, d.tx, q.query) {
			out = append(out, q.what+"|"+row)
		}
	}
	return out
}

// TestTeamsIntoWorkspaces imports two teams' stores into workspaces team-a and team-b of
// one database on every dialect: the experiment and model names they share stay apart,
// each verifies clean within its workspace, and the database moves to each dialect with
// every row in its workspace.
func TestTeamsIntoWorkspaces(t *testing.T) {
	a, b := teamStores(t)
	for _, target := range targets {
		t.Run(target.name, func(t *testing.T) {
			uri := target.uri(t)
			if _, err := importPaths(t, uri, importer.Options{Workspace: "team-a", WorkspaceDescription: "Team A"}, a); err != nil {
				t.Fatal(err)
			}
			report, err := importPaths(t, uri, importer.Options{Workspace: "team-b"}, b)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(strings.Join(report.Notices, "\n"), `workspace "team-b" created`) {
				t.Errorf("notes: %v", report.Notices)
			}
			runsA, runsB := countStore(t, a).runs, countStore(t, b).runs
			got := workspaceRows(t, uri)
			want := []string{"experiment|default|Default", "experiment|team-a|Default", "experiment|team-b|Default", "experiment|team-b|simple-house-prediction",
				"model|team-a|" + sharedModel, "model|team-b|" + sharedModel, "version|team-b|" + sharedModel + "|1",
				"runs|team-a|" + itoa(runsA), "runs|team-b|" + itoa(runsB), "workspace|default", "workspace|team-a", "workspace|team-b"}
			for v := 1; v <= 5; v++ {
				want = append(want, "version|team-a|"+sharedModel+"|"+itoa(v))
			}
			compareSets(t, "rows by workspace", got, want)
			d := openDB(t, uri)
			if n := d.count("SELECT COUNT(*) FROM workspaces WHERE name = 'team-a' AND description = 'Team A'"); n != 1 {
				t.Errorf("team-a's description: %d rows", n)
			}
			d.close()
			for _, c := range []struct {
				store, ws string
			}{{a, "team-a"}, {b, "team-b"}} {
				if r := verifyPathsWith(t, uri, verify.Options{Workspace: c.ws}, c.store); len(r.Differences) != 0 {
					t.Errorf("verify %s in %s: %v", filepath.Base(filepath.Dir(c.store)), c.ws, r.Differences)
				}
			}
			if r := verifyPathsWith(t, uri, verify.Options{Workspace: "team-b"}, a); len(r.Differences) == 0 {
				t.Error("team A's store verified clean against team B's workspace")
			}

			// Its export carries the workspaces back in.
			dir := filepath.Join(t.TempDir(), "dump")
			exportTo(t, uri, dir, false)
			fromDump := testenv.SQLite(t)
			if _, err := importPaths(t, fromDump, importer.Options{}, dir); err != nil {
				t.Fatal(err)
			}
			compareSets(t, "rows by workspace from the export", workspaceRows(t, fromDump), want)

			// The database, workspaces and all, into a new database of each dialect.
			for _, next := range targets {
				copyURI := next.uri(t)
				if _, err := importPaths(t, copyURI, importer.Options{}, uri); err != nil {
					t.Fatalf("into %s: %v", next.name, err)
				}
				compareSets(t, "rows by workspace in "+next.name, workspaceRows(t, copyURI), want)
				if r := verifyPaths(t, copyURI, uri); len(r.Differences) != 0 {
					t.Errorf("verify the copy in %s: %v", next.name, r.Differences)
				}
			}
		})
	}
}

// TestWorkspacesIntoTargetWithout imports a database with two workspaces into a real
// MLflow 3.8 database (no workspaces): it stops before writing, naming the workspaces,
// and goes through with --workspace, naming the experiment names it merged.
func TestWorkspacesIntoTargetWithout(t *testing.T) {
	a, b := teamStores(t)
	src := testenv.SQLite(t)
	for store, ws := range map[string]string{a: "team-a", b: "team-b"} {
		if _, err := importPaths(t, src, importer.Options{Workspace: ws}, store); err != nil {
			t.Fatal(err)
		}
	}
	target := emptiedCopy(t, testenv.Sample(t, "yizhehong-ecu-agent-sqlite/mlflow.db"))
	_, err := importPaths(t, target, importer.Options{}, src)
	if !errors.Is(err, importer.ErrUnsupported) || !strings.Contains(err.Error(), `"team-a" (`) || !strings.Contains(err.Error(), `"team-b" (`) ||
		!hasRemedy(err, importer.OptionWorkspace) || !hasRemedy(err, importer.OptionDefaultWorkspace) {
		t.Fatalf("into a target without workspaces: %v", err)
	}
	d := openDB(t, target)
	if d.count("SELECT COUNT(*) FROM runs") != 0 {
		t.Error("rows were written before the stop")
	}
	d.close()
	// The teams' models of one name have different versions 1: a conflict, as
	// between any two models merged by name.
	if _, err := importPaths(t, target, importer.Options{Workspace: "merged"}, src); err == nil || !strings.Contains(err.Error(), sharedModel+`": version 1 differs`) {
		t.Fatalf("two workspaces' models of one name merged: %v", err)
	}
	report, err := importPaths(t, target, importer.Options{Workspace: "merged", OnModelConflict: "keep-target"}, src)
	if err != nil {
		t.Fatal(err)
	}
	notes := strings.Join(report.Notices, "\n")
	// The teams went into the source in either order (a map's), and the note names
	// their workspaces in the order it met them.
	model := `registered model "` + sharedModel + `" of source workspaces `
	if !strings.Contains(notes, `experiment "Default" of source workspaces`) ||
		!strings.Contains(notes, model+`"team-a" and "team-b"`) && !strings.Contains(notes, model+`"team-b" and "team-a"`) {
		t.Errorf("the merged experiment and model are not reported in\n%s", notes)
	}
	d = openDB(t, target)
	defer d.close()
	if n, want := d.count("SELECT COUNT(*) FROM runs"), countStore(t, a).runs+countStore(t, b).runs; n != want {
		t.Errorf("%d runs, want %d", n, want)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// emptiedCopy is a copy of a real MLflow SQLite database with every row deleted but
// its alembic_version and the Default experiment: the schema that MLflow release made.
func emptiedCopy(t *testing.T, db string) string {
	t.Helper()
	data, err := os.ReadFile(db)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "mlflow.db")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	uri := "sqlite:///" + path
	d := openDB(t, uri)
	tables := rowsAsText(t, d.tx, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT IN ('alembic_version', 'sqlite_sequence')")
	d.close()
	stmts := []string{"PRAGMA defer_foreign_keys = ON"} // inside the transaction setUp holds
	for _, table := range tables {
		stmts = append(stmts, "DELETE FROM "+table)
	}
	stmts = append(stmts, "INSERT INTO experiments (experiment_id, name, artifact_location, lifecycle_stage) VALUES (0, 'Default', 'mlflow-artifacts:/0', 'active')")
	setUp(t, uri, stmts...)
	return uri
}

// storeInWorkspace is a copy of a real file store whose experiment says it is in
// workspace ws, as a workspace-aware MLflow writes it; it returns the store, the
// experiment's meta.yaml and what that held before.
func storeInWorkspace(t *testing.T, ws string) (store, meta string, data []byte) {
	t.Helper()
	store = filepath.Join(t.TempDir(), "mlruns")
	if err := os.CopyFS(store, os.DirFS(testenv.Sample(t, "dmatrix-logged-models/mlruns"))); err != nil {
		t.Fatal(err)
	}
	meta = filepath.Join(store, "445108229672134057", "meta.yaml")
	data, err := os.ReadFile(meta)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(meta, append(append([]byte{}, data...), "workspace: "+ws+"\n"...), 0o600); err != nil {
		t.Fatal(err)
	}
	return store, meta, data
}

// TestFileStoreWorkspaces reads the workspace a workspace-aware MLflow writes into an
// experiment's meta.yaml: kept in a target with workspaces, named before writing in one
// without.
func TestFileStoreWorkspaces(t *testing.T) {
	store, _, _ := storeInWorkspace(t, "team-x")
	uri := testenv.SQLite(t)
	if _, err := importPaths(t, uri, importer.Options{}, store); err != nil {
		t.Fatal(err)
	}
	d := openDB(t, uri)
	compareSets(t, "experiments", rowsAsText(t, d.tx, "SELECT workspace, name FROM experiments"), []string{"default|Default", "team-x|simple-house-prediction"})
	compareSets(t, "workspaces", rowsAsText(t, d.tx, "SELECT name FROM workspaces"), []string{"default", "team-x"})
	d.close()
	if r := verifyPaths(t, uri, store); len(r.Differences) != 0 {
		t.Errorf("verify: %v", r.Differences)
	}

	older := emptiedCopy(t, testenv.Sample(t, "yizhehong-ecu-agent-sqlite/mlflow.db"))
	_, err := importPaths(t, older, importer.Options{}, store)
	if !errors.Is(err, importer.ErrUnsupported) || !strings.Contains(err.Error(), `"team-x" (1)`) {
		t.Fatalf("into a target without workspaces: %v", err)
	}
	// A dump of the database says the same before writing.
	dir := filepath.Join(t.TempDir(), "dump")
	exportTo(t, uri, dir, true)
	_, err = importPaths(t, older, importer.Options{}, dir)
	if !errors.Is(err, importer.ErrUnsupported) || !strings.Contains(err.Error(), `"team-x" (1)`) {
		t.Fatalf("a dump into a target without workspaces: %v", err)
	}
	if _, err := importPaths(t, older, importer.Options{Workspace: "default"}, dir); err != nil {
		t.Fatal(err)
	}
}

// TestVerifyTwoSourcesSharingARun: two stores whose experiment and one run are the same
// (a store and a later copy) merge into one run and one experiment; verify of both is
// clean, and what neither holds is still a difference.
func TestVerifyTwoSourcesSharingARun(t *testing.T) {
	const run = "0123456789abcdef0123456789abcdef"
	stores := map[string]string{}
	for _, s := range []string{"a", "b"} {
		root := filepath.Join(t.TempDir(), "mlruns")
		other := strings.Repeat(s, 32)
		setUpFile(t, root, "1/meta.yaml", "artifact_location: /a/1\ncreation_time: 1700000000000\nexperiment_id: '1'\nlifecycle_stage: active\nname: shared\n")
		for _, r := range []string{run, other} {
			setUpFile(t, root, "1/"+r+"/meta.yaml", "artifact_uri: /a\nexperiment_id: '1'\nlifecycle_stage: active\nrun_id: "+r+"\nrun_name: r\nstart_time: 1\nstatus: 3\nuser_id: u\n")
		}
		setUpFile(t, root, "1/"+run+"/params/p_"+s, "v"+s)
		setUpFile(t, root, "1/"+run+"/metrics/m_"+s, "1 0.5 0\n")
		stores[s] = root
	}
	uri := testenv.SQLite(t)
	if _, err := importPaths(t, uri, importer.Options{}, stores["a"], stores["b"]); err != nil {
		t.Fatal(err)
	}
	if r := verifyPaths(t, uri, stores["a"], stores["b"]); len(r.Differences) != 0 {
		t.Errorf("verify of both: %v", r.Differences)
	}
	// One of them alone: the other's run and keys are extra.
	if r := verifyPaths(t, uri, stores["a"]); len(r.Differences) != 3 {
		t.Errorf("verify of one: %v", r.Differences)
	}
	setUp(t, uri, "INSERT INTO params (\"key\", value, run_uuid) VALUES ('by_hand', 'x', '"+run+"')")
	r := verifyPaths(t, uri, stores["a"], stores["b"])
	if len(r.Differences) != 1 || r.Differences[0].Key != "by_hand" {
		t.Errorf("a param neither store has: %v", r.Differences)
	}
}

// TestVerifyTwoExportsOfOneModel: two stores holding one registered model (the same
// creation time) with different versions merge into one model; verify of both is clean,
// of one alone names the other's version.
func TestVerifyTwoExportsOfOneModel(t *testing.T) {
	stores := map[int]string{}
	for _, v := range []int{1, 2} {
		root := filepath.Join(t.TempDir(), "mlruns")
		setUpFile(t, root, "0/meta.yaml", "artifact_location: /a/0\nexperiment_id: '0'\nlifecycle_stage: active\nname: Default\n")
		setUpFile(t, root, "models/wine/meta.yaml", "creation_timestamp: 1700000000000\nlast_updated_timestamp: 1700000000000\nname: wine\n")
		setUpFile(t, root, "models/wine/version-"+itoa(v)+"/meta.yaml", "creation_timestamp: 1700000000000\ncurrent_stage: None\nlast_updated_timestamp: 1700000000000\n"+
			"name: wine\nsource: s3://m/"+itoa(v)+"\nstatus: READY\nversion: "+itoa(v)+"\n")
		stores[v] = root
	}
	uri := testenv.SQLite(t)
	if _, err := importPaths(t, uri, importer.Options{}, stores[1], stores[2]); err != nil {
		t.Fatal(err)
	}
	if r := verifyPaths(t, uri, stores[1], stores[2]); len(r.Differences) != 0 {
		t.Errorf("verify of both: %v", r.Differences)
	}
	r := verifyPaths(t, uri, stores[1])
	if len(r.Differences) != 1 || r.Differences[0].Kind != "row extra" || !strings.Contains(r.Differences[0].Detail, "model_versions") {
		t.Errorf("verify of one: %v", r.Differences)
	}
}

// TestHostileWorkspacesAndLocations: a source workspace named against MLflow's rules and
// a served location that climbs out of its root are invalid input: the import stops
// naming them, and --skip-invalid leaves them out, writing no such name or location.
func TestHostileWorkspacesAndLocations(t *testing.T) {
	store, meta, data := storeInWorkspace(t, "../evil")
	uri := testenv.SQLite(t)
	if _, err := importPaths(t, uri, importer.Options{}, store); !errors.Is(err, importer.ErrInvalidInput) || !strings.Contains(err.Error(), `"../evil"`) {
		t.Fatalf("a workspace named ../evil: %v", err)
	}
	report, err := importPaths(t, uri, importer.Options{SkipInvalid: true}, store)
	if err != nil {
		t.Fatal(err)
	}
	if report.Count("experiments").Rejected != 1 {
		t.Errorf("experiments: %+v", report.Count("experiments"))
	}
	d := openDB(t, uri)
	if n := d.count("SELECT COUNT(*) FROM workspaces WHERE name LIKE '%evil%'"); n != 0 {
		t.Errorf("%d workspaces named after ../evil", n)
	}
	d.close()

	// A run whose served location climbs out of its root, into a workspace.
	if err := os.WriteFile(meta, data, 0o600); err != nil {
		t.Fatal(err)
	}
	var patched string
	var runData []byte
	entries, err := os.ReadDir(filepath.Join(store, "445108229672134057"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		m := filepath.Join(store, "445108229672134057", e.Name(), "meta.yaml")
		if b, err := os.ReadFile(m); err == nil && strings.Contains(string(b), "run_id:") {
			patched, runData = m, b
			break
		}
	}
	if patched == "" {
		t.Fatal("no run in the sample")
	}
	lines := strings.Split(string(runData), "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "artifact_uri:") {
			lines[i] = "artifact_uri: mlflow-artifacts:/../../workspaces/team-c/1"
		}
	}
	if err := os.WriteFile(patched, []byte(strings.Join(lines, "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	uri = testenv.SQLite(t)
	_, err = importPaths(t, uri, importer.Options{Workspace: "team-a"}, store)
	if !errors.Is(err, importer.ErrInvalidInput) || !strings.Contains(err.Error(), "climbs out") {
		t.Fatalf("a run whose location climbs out: %v", err)
	}
	if _, err := importPaths(t, uri, importer.Options{Workspace: "team-a", SkipInvalid: true}, store); err != nil {
		t.Fatal(err)
	}
	d = openDB(t, uri)
	if n := d.count("SELECT COUNT(*) FROM runs WHERE artifact_uri LIKE '%..%'"); n != 0 {
		t.Errorf("%d runs with a location that climbs", n)
	}
	d.close()
}

// TestWorkspaceAfterAPlainImport: a nightly import that puts the sources into a
// workspace after a plain import reads the runs again rather than skipping them as
// unchanged, and refuses to leave them where they were while saying so.
func TestWorkspaceAfterAPlainImport(t *testing.T) {
	root, _ := synthStore(t, synth.Options{Experiments: 1, Runs: 2, MetricKeys: 1, Steps: 3, Params: 1, Seed: 41})
	age(t, root, time.Hour) // stamped: its files are as old as a night's
	uri := testenv.SQLite(t)
	if _, err := importPaths(t, uri, importer.Options{}, root); err != nil {
		t.Fatal(err)
	}
	report, err := importPaths(t, uri, importer.Options{Workspace: "team-a"}, root)
	if !errors.Is(err, importer.ErrTargetConflict) || !strings.Contains(err.Error(), "placement (workspace") {
		t.Fatalf("runs moved to another workspace: %v", err)
	}
	if report != nil && report.UnchangedRuns != 0 {
		t.Errorf("%d runs skipped as unchanged under another placement", report.UnchangedRuns)
	}
	if _, err := importPaths(t, uri, importer.Options{}, root); err != nil {
		t.Errorf("the plain import again: %v", err)
	}
}

// TestVerifyAWorkspaceImportOfADatabase: a database of two workspaces imported into one
// workspace of another (--workspace) verifies clean with the same option: the source's
// own workspaces rows, which the import does not copy, are not looked for, and the rows
// copied as they are sit in the named workspace.
func TestVerifyAWorkspaceImportOfADatabase(t *testing.T) {
	a := testenv.Sample(t, "shisian512-registry-aliases/mlruns")
	b := testenv.Sample(t, "dmatrix-logged-models/mlruns")
	teams := testenv.SQLite(t)
	if _, err := importPaths(t, teams, importer.Options{Workspace: "team-a"}, a); err != nil {
		t.Fatal(err)
	}
	if _, err := importPaths(t, teams, importer.Options{Workspace: "team-b"}, b); err != nil {
		t.Fatal(err)
	}
	uri := testenv.SQLite(t)
	if _, err := importPaths(t, uri, importer.Options{Workspace: "team-c"}, teams); err != nil {
		t.Fatal(err)
	}
	if r := verifyPathsWith(t, uri, verify.Options{Workspace: "team-c"}, teams); len(r.Differences) != 0 {
		t.Errorf("verify with --workspace team-c: %v", r.Differences)
	}
}
