package artifacts_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlflow-bulk/mlflow-bulk/artifacts"
	"github.com/mlflow-bulk/mlflow-bulk/importer"
	"github.com/mlflow-bulk/mlflow-bulk/internal/importtest"
	"github.com/mlflow-bulk/mlflow-bulk/internal/testenv"
	"github.com/mlflow-bulk/mlflow-bulk/schema"
	"github.com/mlflow-bulk/mlflow-bulk/verify"
)

// artifactSamples are real file stores whose runs, logged models and traces hold files.
var artifactSamples = []string{"dmatrix-logged-models/mlruns", "sh0r0ukk-agentic-traces-v3/mlruns", "khangtt-zoomcamp-datasets-mlflow2/mlruns"}

// sampleFiles counts the files under the artifacts folders of the stores' runs, logged
// models and traces (<exp>/<run>/artifacts, <exp>/models/<id>/artifacts,
// <exp>/traces/<id>/artifacts).
func sampleFiles(t *testing.T, stores []string) (int64, int64) {
	t.Helper()
	var files, bytes int64
	for _, s := range stores {
		err := filepath.WalkDir(s, func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			rel, _ := filepath.Rel(s, p)
			parts := strings.Split(filepath.ToSlash(rel), "/")
			inRun := len(parts) > 3 && parts[2] == "artifacts"
			inEntity := len(parts) > 4 && (parts[1] == "models" || parts[1] == "traces") && parts[3] == "artifacts"
			if inRun || inEntity {
				fi, err := d.Info()
				if err != nil {
					return err
				}
				files++
				bytes += fi.Size()
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return files, bytes
}

func copyInto(t *testing.T, dest, servedAs string) *importer.ArtifactCopy {
	t.Helper()
	l, err := artifacts.NewLayout(dest, servedAs)
	if err != nil {
		t.Fatal(err)
	}
	return &importer.ArtifactCopy{Layout: l, Workers: 4}
}

// TestCopyArtifactsIntoEachStore imports real file stores with their files into a
// database and each object store: every file arrives under MLflow's layout, verify
// finds the same names, sizes and MD5s, and a second import copies nothing.
func TestCopyArtifactsIntoEachStore(t *testing.T) {
	var stores []string
	for _, s := range artifactSamples {
		stores = append(stores, testenv.Sample(t, s))
	}
	wantFiles, wantBytes := sampleFiles(t, stores)
	if wantFiles < 40 {
		t.Fatalf("the samples hold %d artifact files: fewer than this test was written for", wantFiles)
	}
	for _, kind := range append([]string{"local"}, testenv.ObjectStores...) {
		t.Run(kind, func(t *testing.T) {
			dest := filepath.Join(t.TempDir(), "artifacts")
			target := testenv.SQLite(t)
			if kind != "local" {
				dest = testenv.Bucket(t, kind)
			}
			if kind == "s3" {
				target = testenv.Postgres(t) // the issue's own case: PostgreSQL and S3
			}
			opts := importer.Options{SkipUnsupported: true, CopyArtifacts: copyInto(t, dest, "")}
			report, err := importtest.Import(t, target, opts, stores...)
			if err != nil {
				t.Fatal(err)
			}
			a := report.Artifacts
			if a.Files != wantFiles || a.Bytes != wantBytes || len(a.NotCopied) != 0 {
				t.Fatalf("copied %d files (%d bytes), want %d (%d); not copied: %v", a.Files, a.Bytes, wantFiles, wantBytes, a.NotCopied)
			}
			vr := importtest.Verify(t, target, verify.Options{SkipUnsupported: true, CopyArtifacts: &opts.CopyArtifacts.Layout}, stores...)
			if len(vr.Differences) != 0 || vr.ArtifactFiles != wantFiles {
				t.Fatalf("verify: %d files the same, want %d; %+v", vr.ArtifactFiles, wantFiles, vr.Differences)
			}
			for _, uri := range columnValues(t, target, "SELECT artifact_uri FROM runs") {
				if !strings.HasPrefix(uri, strings.TrimSuffix(opts.CopyArtifacts.Layout.Served, "/")+"/") || !strings.HasSuffix(uri, "/artifacts") {
					t.Errorf("a run's artifact_uri %q is not in the copy's layout", uri)
				}
			}
			again, err := importtest.Import(t, target, opts, stores...)
			if err != nil {
				t.Fatal(err)
			}
			if again.Artifacts.Files != 0 {
				t.Fatalf("the second import copied %d files", again.Artifacts.Files)
			}
		})
	}
}

// TestVerifyCatchesTamperedArtifacts: a file removed, one added and one changed (same
// size) at the destination are each a difference; a re-read import puts back the one
// removed and the one changed.
func TestVerifyCatchesTamperedArtifacts(t *testing.T) {
	store := testenv.Sample(t, "dmatrix-logged-models/mlruns")
	dest := filepath.Join(t.TempDir(), "artifacts")
	target := testenv.SQLite(t)
	opts := importer.Options{CopyArtifacts: copyInto(t, dest, "")}
	if _, err := importtest.Import(t, target, opts, store); err != nil {
		t.Fatal(err)
	}
	runFile := fileNamed(t, dest, "estimator.html")
	if err := os.Remove(runFile); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(filepath.Dir(runFile), "added.txt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	modelFile := fileNamed(t, filepath.Join(dest, "445108229672134057", "models"), "MLmodel")
	content, err := os.ReadFile(modelFile)
	if err != nil {
		t.Fatal(err)
	}
	content[0] ^= 1
	if err := os.WriteFile(modelFile, content, 0o644); err != nil {
		t.Fatal(err)
	}
	vr := importtest.Verify(t, target, verify.Options{CopyArtifacts: &opts.CopyArtifacts.Layout}, store)
	found := map[string]bool{}
	for _, d := range vr.Differences {
		if d.Kind != verify.KindArtifactFile {
			t.Errorf("unexpected difference %+v", d)
			continue
		}
		found[d.Key[strings.LastIndexAny(d.Key, " /")+1:]] = true
	}
	if len(vr.Differences) != 3 {
		t.Errorf("%d differences, want 3", len(vr.Differences))
	}
	for _, name := range []string{"estimator.html", "added.txt", "MLmodel"} {
		if !found[name] {
			t.Errorf("verify missed the tampered %s: %+v", name, vr.Differences)
		}
	}
	opts.Reread = true
	report, err := importtest.Import(t, target, opts, store)
	if err != nil {
		t.Fatal(err)
	}
	if report.Artifacts.Files != 1 {
		t.Errorf("a re-read import copied %d files, want the 1 removed", report.Artifacts.Files)
	}
}

func fileNamed(t *testing.T, dir, name string) string {
	t.Helper()
	var found string
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && found == "" && d.Name() == name {
			found = p
		}
		return err
	})
	if found == "" {
		t.Fatalf("no %s under %s", name, dir)
	}
	return found
}

// TestMLflowServesCopiedArtifacts: MLflow's own server, pointed at the database and at
// the copy as its --artifacts-destination, lists every file of every run and serves
// each one byte for byte as the source holds it.
func TestMLflowServesCopiedArtifacts(t *testing.T) {
	store := testenv.Sample(t, "khangtt-zoomcamp-datasets-mlflow2/mlruns")
	dir := t.TempDir()
	dest := filepath.Join(dir, "served")
	target := "sqlite:///" + filepath.ToSlash(filepath.Join(dir, "mlflow.db"))
	rev311, err := schema.ForRelease("3.11")
	if err != nil {
		t.Fatal(err)
	}
	opts := importer.Options{SchemaRevision: rev311, CopyArtifacts: copyInto(t, dest, "mlflow-artifacts:/")}
	report, err := importtest.Import(t, target, opts, store)
	if err != nil {
		t.Fatal(err)
	}
	server := testenv.MLflowServer(t, target, "--artifacts-destination", dest)
	if served := serveEveryFile(t, server, target, store); int64(served) != report.Artifacts.Files || served == 0 {
		t.Fatalf("MLflow served %d files, the import copied %d", served, report.Artifacts.Files)
	}
}

// TestMLflowReadsCopyInS3: the issue's own case end to end. A real file store goes into
// PostgreSQL and an S3 bucket in one import, and MLflow's own server, pointed at both,
// lists every file of every run and serves each byte for byte, reading S3 with its own
// artifact repository (boto3).
func TestMLflowReadsCopyInS3(t *testing.T) {
	store := testenv.Sample(t, "khangtt-zoomcamp-datasets-mlflow2/mlruns")
	bucket := testenv.Bucket(t, "s3")
	target := testenv.Postgres(t)
	rev311, err := schema.ForRelease("3.11")
	if err != nil {
		t.Fatal(err)
	}
	opts := importer.Options{SchemaRevision: rev311, CopyArtifacts: copyInto(t, bucket, "")}
	report, err := importtest.Import(t, target, opts, store)
	if err != nil {
		t.Fatal(err)
	}
	server := testenv.MLflowServer(t, target, "--default-artifact-root", bucket)
	if served := serveEveryFile(t, server, target, store); int64(served) != report.Artifacts.Files || served == 0 {
		t.Fatalf("MLflow served %d files from S3, the import copied %d", served, report.Artifacts.Files)
	}
}

// serveEveryFile lists, through MLflow's server, every file of every run the target
// holds, fetches each and compares it with the source's; it returns how many it served.
func serveEveryFile(t *testing.T, server, target, store string) int {
	t.Helper()
	served := 0
	for _, runID := range columnValues(t, target, "SELECT run_uuid FROM runs") {
		var walk func(path string)
		walk = func(path string) {
			var listing struct {
				Files []struct {
					Path  string `json:"path"`
					IsDir bool   `json:"is_dir"`
				} `json:"files"`
			}
			getJSON(t, server+"/api/2.0/mlflow/artifacts/list?run_id="+runID+"&path="+url.QueryEscape(path), &listing)
			for _, f := range listing.Files {
				if f.IsDir {
					walk(f.Path)
					continue
				}
				got := getBytes(t, server+"/get-artifact?run_id="+runID+"&path="+url.QueryEscape(f.Path))
				want, err := os.ReadFile(filepath.Join(runFolder(t, store, runID), "artifacts", filepath.FromSlash(f.Path)))
				if err != nil {
					t.Fatalf("MLflow serves %s of run %s, which the source lacks: %v", f.Path, runID, err)
				}
				if string(got) != string(want) {
					t.Fatalf("MLflow serves %s of run %s with %d bytes, the source has %d", f.Path, runID, len(got), len(want))
				}
				served++
			}
		}
		walk("")
	}
	return served
}

func runFolder(t *testing.T, store, runID string) string {
	t.Helper()
	matches, err := filepath.Glob(filepath.Join(store, "*", runID))
	if err != nil || len(matches) != 1 {
		t.Fatalf("run folder of %s: %v %v", runID, matches, err)
	}
	return matches[0]
}

func getJSON(t *testing.T, u string, out any) {
	t.Helper()
	if err := json.Unmarshal(getBytes(t, u), out); err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
}

func getBytes(t *testing.T, u string) []byte {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s: %s", u, resp.Status, body)
	}
	return body
}

// columnValues are the values of a query's one text column.
func columnValues(t *testing.T, uri, query string) []string {
	t.Helper()
	var out []string
	importtest.EachRow(t, uri, query, func(scan func(...any) error) error {
		var s string
		err := scan(&s)
		out = append(out, s)
		return err
	})
	return out
}

// TestCopyFromDatabaseLocations: a database whose runs' locations are in an object
// store is a source whose files are copied from there; a location mlflow-bulk cannot
// read moves as it was, named in the report with its run, or stops the import when
// asked to; a dry run says what it would copy and writes nothing.
func TestCopyFromDatabaseLocations(t *testing.T) {
	store := testenv.Sample(t, "khangtt-zoomcamp-datasets-mlflow2/mlruns")
	wantFiles, _ := sampleFiles(t, []string{store})
	middle := testenv.SQLite(t)
	if _, err := importtest.Import(t, middle, importer.Options{CopyArtifacts: copyInto(t, testenv.Bucket(t, "s3"), "")}, store); err != nil {
		t.Fatal(err)
	}
	middlePath := strings.TrimPrefix(middle, "sqlite:///")

	dest := filepath.Join(t.TempDir(), "copied")
	dry, err := importtest.Import(t, testenv.SQLite(t), importer.Options{DryRun: true, CopyArtifacts: copyInto(t, dest, "")}, middlePath)
	if err != nil {
		t.Fatal(err)
	}
	if dry.Artifacts.Files != wantFiles {
		t.Fatalf("the dry run would copy %d files, want %d", dry.Artifacts.Files, wantFiles)
	}
	if _, err := os.Stat(dest); !os.IsNotExist(err) {
		t.Fatalf("a dry run made %s", dest)
	}

	target := testenv.SQLite(t)
	opts := importer.Options{CopyArtifacts: copyInto(t, dest, "")}
	report, err := importtest.Import(t, target, opts, middlePath)
	if err != nil {
		t.Fatal(err)
	}
	if report.Artifacts.Files != wantFiles || len(filesUnder(t, dest)) != int(wantFiles) {
		t.Fatalf("copied %d files out of S3 (%d at the destination), want %d", report.Artifacts.Files, len(filesUnder(t, dest)), wantFiles)
	}
	if vr := importtest.Verify(t, target, verify.Options{CopyArtifacts: &opts.CopyArtifacts.Layout}, middlePath); len(vr.Differences) != 0 || vr.ArtifactFiles != wantFiles {
		t.Fatalf("verify: %d files, %+v", vr.ArtifactFiles, vr.Differences)
	}

	// One run's location becomes one no store here serves.
	runID := columnValues(t, middle, "SELECT run_uuid FROM runs ORDER BY run_uuid")[0]
	importtest.SetUp(t, middle, "UPDATE runs SET artifact_uri = 'hdfs://namenode/mlflow/"+runID+"' WHERE run_uuid = '"+runID+"'")
	stopOpts := importer.Options{CopyArtifacts: copyInto(t, filepath.Join(t.TempDir(), "x"), "")}
	stopOpts.CopyArtifacts.StopOnUnreadable = true
	if _, err := importtest.Import(t, testenv.SQLite(t), stopOpts, middlePath); err == nil || !strings.Contains(err.Error(), runID) || !strings.Contains(err.Error(), "hdfs://") {
		t.Fatalf("an unreadable location with StopOnUnreadable: %v", err)
	}
	kept := testenv.SQLite(t)
	keepOpts := importer.Options{CopyArtifacts: copyInto(t, filepath.Join(t.TempDir(), "y"), "")}
	report, err = importtest.Import(t, kept, keepOpts, middlePath)
	if err != nil {
		t.Fatal(err)
	}
	if n := report.Artifacts.NotCopied; len(n) != 1 || n[0].RunID != runID {
		t.Fatalf("not copied: %+v", n)
	}
	if got := columnValues(t, kept, "SELECT artifact_uri FROM runs WHERE run_uuid = '"+runID+"'"); len(got) != 1 || !strings.HasPrefix(got[0], "hdfs://") {
		t.Fatalf("the unreadable run's location became %v", got)
	}
	if vr := importtest.Verify(t, kept, verify.Options{CopyArtifacts: &keepOpts.CopyArtifacts.Layout}, middlePath); len(vr.Differences) != 0 {
		t.Fatalf("verify after a location kept: %+v", vr.Differences)
	}
}

// TestCopyExportAndWorkspaceLayout: an mlflow-export-import export's run folders hold
// their files beside run.json (the sample's were left out of it, so a copy of it gets
// some), and into a workspace served by a tracking server they land under
// workspaces/<name>/, where MLflow serves that workspace's files.
func TestCopyExportAndWorkspaceLayout(t *testing.T) {
	export := filepath.Join(t.TempDir(), "basic")
	if out, err := exec.Command("cp", "-r", testenv.Sample(t, "export-mlflow-export-import-oss/oss_mlflow/single/experiments/basic"), export).CombinedOutput(); err != nil {
		t.Fatalf("copy the sample: %v %s", err, out)
	}
	runJSONs, err := filepath.Glob(filepath.Join(export, "runs", "*", "run.json"))
	if err != nil || len(runJSONs) == 0 {
		t.Fatalf("no run.json in the export sample: %v", err)
	}
	runDir := filepath.Dir(runJSONs[0])
	runID := filepath.Base(runDir)
	for _, rel := range []string{"model/MLmodel", "plot.png"} {
		p := filepath.Join(runDir, "artifacts", filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(rel), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	dest := filepath.Join(t.TempDir(), "served")
	target := testenv.SQLite(t)
	opts := importer.Options{Workspace: "team-a", SkipUnsupported: true, CopyArtifacts: copyInto(t, dest, "mlflow-artifacts:/")}
	report, err := importtest.Import(t, target, opts, export)
	if err != nil {
		t.Fatal(err)
	}
	if report.Artifacts.Files != 2 {
		t.Fatalf("copied %d files of the export, want 2", report.Artifacts.Files)
	}
	uri := columnValues(t, target, "SELECT artifact_uri FROM runs WHERE run_uuid = '"+runID+"'")
	if len(uri) != 1 || !strings.HasPrefix(uri[0], "mlflow-artifacts:/workspaces/team-a/") {
		t.Fatalf("the run's artifact_uri is %v, want one under mlflow-artifacts:/workspaces/team-a/", uri)
	}
	rel := strings.TrimPrefix(uri[0], "mlflow-artifacts:/")
	if got, err := os.ReadFile(filepath.Join(dest, filepath.FromSlash(rel), "model", "MLmodel")); err != nil || string(got) != "model/MLmodel" {
		t.Fatalf("the copy is not where the location says: %q, %v", got, err)
	}
	vr := importtest.Verify(t, target, verify.Options{Workspace: "team-a", SkipUnsupported: true, CopyArtifacts: &opts.CopyArtifacts.Layout}, export)
	if len(vr.Differences) != 0 || vr.ArtifactFiles != 2 {
		t.Fatalf("verify: %d files, %+v", vr.ArtifactFiles, vr.Differences)
	}
}

// TestModelVersionsFollowTheCopy: a model version whose source lies inside its run's
// copied files, or whose storage location is a copied logged model's, points at the
// copy; one that names neither (models:/…) stays; verify expects the same.
func TestModelVersionsFollowTheCopy(t *testing.T) {
	store := filepath.Join(t.TempDir(), "mlruns")
	if out, err := exec.Command("cp", "-r", testenv.Sample(t, "dmatrix-logged-models/mlruns"), store).CombinedOutput(); err != nil {
		t.Fatalf("copy the sample: %v %s", err, out)
	}
	const exp, run, model = "445108229672134057", "644bfaec4b5747b1b2e756e6537a4eca", "m-475814088cf549ea815234688a7a719e"
	version := func(n int, source, storage string) string {
		return fmt.Sprintf("creation_timestamp: %d\ncurrent_stage: None\ndescription: ''\nlast_updated_timestamp: %d\nname: reg\nrun_id: %s\nrun_link: ''\nsource: %s\nstatus: READY\nstatus_message: null\nstorage_location: %s\nuser_id: null\nversion: %d\n",
			1000+n, 1000+n, run, source, storage, n)
	}
	importtest.WriteFile(t, store, "models/reg/meta.yaml", "creation_timestamp: 1000\ndescription: ''\nlast_updated_timestamp: 1003\nname: reg\n")
	importtest.WriteFile(t, store, "models/reg/version-1/meta.yaml", version(1, "file:///Users/someone/mlruns/"+exp+"/"+run+"/artifacts/model", "null"))
	importtest.WriteFile(t, store, "models/reg/version-2/meta.yaml", version(2, "models:/"+model, "file:///Users/someone/mlruns/"+exp+"/models/"+model+"/artifacts"))
	importtest.WriteFile(t, store, "models/reg/version-3/meta.yaml", version(3, "s3://elsewhere/model", "null"))
	dest := filepath.Join(t.TempDir(), "copied")
	target := testenv.SQLite(t)
	opts := importer.Options{CopyArtifacts: copyInto(t, dest, "")}
	if _, err := importtest.Import(t, target, opts, store); err != nil {
		t.Fatal(err)
	}
	got := columnValues(t, target, "SELECT source || ' ' || COALESCE(storage_location, '-') FROM model_versions ORDER BY version")
	want := []string{
		"file://" + dest + "/" + exp + "/" + run + "/artifacts/model -",
		"models:/" + model + " file://" + dest + "/" + exp + "/models/" + model + "/artifacts",
		"s3://elsewhere/model -",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("model versions:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if vr := importtest.Verify(t, target, verify.Options{CopyArtifacts: &opts.CopyArtifacts.Layout}, store); len(vr.Differences) != 0 {
		t.Fatalf("verify: %+v", vr.Differences)
	}
}

// TestCopyFromTrackingServer: a live MLflow server whose runs' files it serves
// (mlflow-artifacts:/, its --artifacts-destination) is a source whose files come along
// through its artifact API (traces' spans among them); verify against the server
// compares them.
func TestCopyFromTrackingServer(t *testing.T) {
	stores := []string{testenv.Sample(t, "khangtt-zoomcamp-datasets-mlflow2/mlruns"), testenv.Sample(t, "sh0r0ukk-agentic-traces-v3/mlruns")}
	wantFiles, _ := sampleFiles(t, stores)
	dir := t.TempDir()
	served := filepath.Join(dir, "served")
	backend := "sqlite:///" + filepath.ToSlash(filepath.Join(dir, "mlflow.db"))
	rev311, err := schema.ForRelease("3.11")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := importtest.Import(t, backend, importer.Options{SchemaRevision: rev311, CopyArtifacts: copyInto(t, served, "mlflow-artifacts:/")}, stores...); err != nil {
		t.Fatal(err)
	}
	server := testenv.MLflowServer(t, backend, "--artifacts-destination", served)
	dest := filepath.Join(dir, "copied")
	target := testenv.SQLite(t)
	opts := importer.Options{CopyArtifacts: copyInto(t, dest, "")}
	report, err := importtest.Import(t, target, opts, server)
	if err != nil {
		t.Fatal(err)
	}
	if report.Artifacts.Files != wantFiles || len(report.Artifacts.NotCopied) != 0 {
		t.Fatalf("copied %d files from the server, want %d; not copied: %+v", report.Artifacts.Files, wantFiles, report.Artifacts.NotCopied)
	}
	vr := importtest.Verify(t, target, verify.Options{CopyArtifacts: &opts.CopyArtifacts.Layout}, server)
	if len(vr.Differences) != 0 || vr.ArtifactFiles != wantFiles {
		t.Fatalf("verify against the server: %d files, %+v", vr.ArtifactFiles, vr.Differences)
	}
}

// TestCopyExportedTraceSpans: an export's traces.json beside a trace.json (the trace's
// spans) is copied to the trace's place in the layout, under the name MLflow reads it
// by, and the trace's tag points there.
func TestCopyExportedTraceSpans(t *testing.T) {
	tree := t.TempDir()
	importtest.WriteFile(t, tree, "exp/experiment.json", `{"system": {}, "mlflow": {"experiment": {"experiment_id": "5", "name": "agents"}, "runs": []}}`)
	importtest.WriteFile(t, tree, "exp/traces/tr-1/trace.json", `{"system": {}, "mlflow": {"info": {"trace_id": "tr-1", "trace_location": {"type": "MLFLOW_EXPERIMENT", "mlflow_experiment": {"experiment_id": "5"}},`+
		` "request_time": 1700000000000, "state": "OK", "execution_duration": 42, "trace_metadata": {}, "tags": {"mlflow.artifactLocation": "file:///elsewhere/mlruns/5/traces/tr-1/artifacts"}}}}`)
	spans := `{"spans": [{"name": "root", "trace_id": "tr-1", "span_id": "s1"}]}`
	importtest.WriteFile(t, tree, "exp/traces/tr-1/traces.json", spans)
	dest := filepath.Join(t.TempDir(), "copied")
	target := testenv.SQLite(t)
	opts := importer.Options{CopyArtifacts: copyInto(t, dest, "")}
	report, err := importtest.Import(t, target, opts, tree)
	if err != nil {
		t.Fatal(err)
	}
	if report.Artifacts.Files != 1 {
		t.Fatalf("copied %d files, want the trace's spans", report.Artifacts.Files)
	}
	got, err := os.ReadFile(filepath.Join(dest, "5", "traces", "tr-1", "artifacts", "traces.json"))
	if err != nil || string(got) != spans {
		t.Fatalf("the spans at the copy: %q, %v", got, err)
	}
	tag := columnValues(t, target, "SELECT value FROM trace_tags WHERE request_id = 'tr-1' AND key = 'mlflow.artifactLocation'")
	if len(tag) != 1 || tag[0] != "file://"+dest+"/5/traces/tr-1/artifacts" {
		t.Fatalf("the trace's artifact tag: %v", tag)
	}
	if vr := importtest.Verify(t, target, verify.Options{CopyArtifacts: &opts.CopyArtifacts.Layout}, tree); len(vr.Differences) != 0 || vr.ArtifactFiles != 1 {
		t.Fatalf("verify: %d files, %+v", vr.ArtifactFiles, vr.Differences)
	}
}
