package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlflow-bulk/mlflow-bulk/internal/synth"
	"github.com/mlflow-bulk/mlflow-bulk/internal/testenv"
)

// TestCopyArtifactsCommand: --copy-artifacts through the command line, its report in
// text and JSON, verify with the same flag, and the flags that cannot go together.
func TestCopyArtifactsCommand(t *testing.T) {
	root := store(t, synth.Options{Runs: 3, Seed: 5})
	metas, err := filepath.Glob(filepath.Join(root, "*", "*", "meta.yaml"))
	if err != nil || len(metas) != 3 {
		t.Fatalf("runs of the store: %v %v", metas, err)
	}
	for _, m := range metas {
		p := filepath.Join(filepath.Dir(m), "artifacts", "model", "MLmodel")
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("flavors: {}\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	target := testenv.SQLite(t)
	dest := filepath.Join(t.TempDir(), "artifacts")
	run := func(args ...string) (ExitCode, string, string) {
		io, out, errOut := TestStreams()
		code := Main(args, io)
		return code, out.String(), errOut.String()
	}
	code, out, errOut := run("import", root, "--to", target, "--copy-artifacts", dest)
	if code != ExitOK || !strings.Contains(out, "Artifacts into file://"+dest+": 3 files copied (36 B") {
		t.Fatalf("import: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut = run("import", root, "--to", target, "--copy-artifacts", dest, "--reread", "--json")
	var report struct {
		Artifacts struct {
			Files     int64 `json:"files"`
			SameFiles int64 `json:"same_files"`
		} `json:"artifacts"`
	}
	if code != ExitOK || json.Unmarshal([]byte(out), &report) != nil {
		t.Fatalf("re-read import: exit %d\n%s%s", code, out, errOut)
	}
	if report.Artifacts.SameFiles != 3 || report.Artifacts.Files != 0 {
		t.Fatalf("re-read import copied again: %s", out)
	}
	if code, out, errOut = run("verify", root, "--to", target, "--copy-artifacts", dest); code != ExitOK || !strings.Contains(out, "as in the sources: 3") {
		t.Fatalf("verify: exit %d\n%s%s", code, out, errOut)
	}
	if err := os.Remove(filepath.Join(filepath.Dir(firstMeta(t, dest)), "MLmodel")); err != nil {
		t.Fatal(err)
	}
	if code, out, _ = run("verify", root, "--to", target, "--copy-artifacts", dest); code != ExitDifferences || !strings.Contains(out, "file model/MLmodel: artifact file differs") {
		t.Fatalf("verify after a file removed: exit %d\n%s", code, out)
	}
	for args, want := range map[string]string{
		"--copy-artifacts-as mlflow-artifacts:/":                    "give --copy-artifacts too",
		"--copy-artifacts " + dest + " --artifact-root-map /a=/b":   "give one",
		"--copy-artifacts hdfs://nn/x":                              "unsupported artifact location",
		"--copy-artifacts " + dest + " --copy-artifacts-as nothing": "is not a URI",
		"--copy-artifacts " + dest + " --artifacts-unreadable skip": "--artifacts-unreadable must be",
	} {
		code, _, errOut := run(append([]string{"import", root, "--to", testenv.SQLite(t)}, strings.Fields(args)...)...)
		if code != ExitUsage || !strings.Contains(errOut, want) {
			t.Errorf("%s: exit %d, %s", args, code, errOut)
		}
	}
}

// firstMeta is the first MLmodel file below dir.
func firstMeta(t *testing.T, dir string) string {
	t.Helper()
	matches, err := filepath.Glob(filepath.Join(dir, "*", "*", "artifacts", "model", "MLmodel"))
	if err != nil || len(matches) == 0 {
		t.Fatalf("no MLmodel below %s: %v", dir, err)
	}
	return filepath.Join(filepath.Dir(matches[0]), "MLmodel")
}

// TestCopyArtifactsCredentialsNeverShown: an object store that cannot be reached fails
// the import with the run and place named, and the cloud's secret is in no output.
func TestCopyArtifactsCredentialsNeverShown(t *testing.T) {
	root := store(t, synth.Options{Runs: 1, Seed: 9})
	metas, err := filepath.Glob(filepath.Join(root, "*", "*", "meta.yaml"))
	if err != nil || len(metas) != 1 {
		t.Fatalf("runs of the store: %v %v", metas, err)
	}
	art := filepath.Join(filepath.Dir(metas[0]), "artifacts")
	if err := os.MkdirAll(art, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(art, "f.txt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	const secret = "s3cr3t-never-shown"
	t.Setenv("MLFLOW_S3_ENDPOINT_URL", "http://127.0.0.1:1")
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", secret)
	t.Setenv("AWS_REGION", "us-east-1")
	for _, extra := range [][]string{nil, {"--json"}} {
		io, out, errOut := TestStreams()
		code := Main(append([]string{"import", root, "--to", testenv.SQLite(t), "--copy-artifacts", "s3://bucket/mlflow"}, extra...), io)
		all := out.String() + errOut.String()
		if code != ExitFailed || !strings.Contains(all, "s3://bucket/mlflow") || !strings.Contains(all, "run ") {
			t.Fatalf("exit %d, want a failure naming the run and the place:\n%s", code, all)
		}
		if strings.Contains(all, secret) {
			t.Fatalf("the secret key is in the output:\n%s", all)
		}
	}
}
