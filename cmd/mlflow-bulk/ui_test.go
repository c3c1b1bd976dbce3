package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mlflow-bulk/mlflow-bulk/drivers/all"
	"github.com/mlflow-bulk/mlflow-bulk/importer"
	"github.com/mlflow-bulk/mlflow-bulk/importer/rules"
	"github.com/mlflow-bulk/mlflow-bulk/inspect"
	"github.com/mlflow-bulk/mlflow-bulk/internal/synth"
	"github.com/mlflow-bulk/mlflow-bulk/internal/testenv"
	"github.com/mlflow-bulk/mlflow-bulk/schema/live"
	"github.com/mlflow-bulk/mlflow-bulk/sinks"
	"github.com/mlflow-bulk/mlflow-bulk/sources"
	"github.com/mlflow-bulk/mlflow-bulk/sources/formats"
)

func sampleReport() *importer.Report {
	return &importer.Report{
		Target: "postgresql://mlflow:xxxxx@db:5432/mlflow", Revision: "7d34483879f0", SchemaCreated: true,
		Sources: []string{"file store ./mlruns"},
		Counts: []importer.EntityCount{
			{Entity: "experiments", Count: importer.Count{Read: 2, Created: 1, Merged: 1}},
			{Entity: "runs", Count: importer.Count{Read: 3, Created: 2, Rejected: 1}},
			{Entity: "metrics", Count: importer.Count{Read: 1001, Created: 1000, Skipped: 1}},
		},
		Experiments: []importer.ExperimentMapping{
			{Source: "file store ./mlruns", SourceID: "0", Name: "Default", TargetID: 0, Action: "merged"},
			{Source: "file store ./mlruns", SourceID: "269502884478771284", Name: "big", TargetID: 1, Action: "created", IDChanged: true},
		},
		Skipped:  []importer.Note{{Source: "file store ./mlruns", Path: "./mlruns/models", Reason: "model registry folder, not tracking data"}},
		Rejected: []importer.Note{{Reason: "./mlruns/1/abc/metrics/loss:3: run abc: malformed metric line"}},
		Notices:  []string{}, LatestMetricDifferences: []importer.LatestDifference{},
		Unsupported: []importer.UnsupportedData{{Source: "MLflow database sqlite:///new.db", Unsupported: sources.Unsupported{Table: "review_queues", Rows: 3}}},
		Seconds:     2, Complete: true,
	}
}

func TestReportText(t *testing.T) {
	io, out, _ := TestStreams()
	printReport(io, sampleReport())
	want := `Imported into postgresql://mlflow:xxxxx@db:5432/mlflow (schema 7d34483879f0, created) in 2.0s

       entity  read  created  merged  skipped  rejected
  experiments     2        1       1        0         0
         runs     3        2       0        0         1
      metrics  1001     1000       0        1         0

Experiment ids (source -> target):
  file store ./mlruns  0 -> 0  merged "Default"
  file store ./mlruns  269502884478771284 -> 1  created "big"  (id changed)

Skipped:
  ./mlruns/models: model registry folder, not tracking data

Rejected (invalid input):
  ./mlruns/1/abc/metrics/loss:3: run abc: malformed metric line
`
	if out.String() != want {
		t.Errorf("report:\n%s\nwant:\n%s", out, want)
	}
}

func TestReportJSON(t *testing.T) {
	io, _, _ := TestStreams()
	opts := &ImportOptions{IO: io, invocation: invocation{startedAt: io.Clock.Now().Add(-2 * time.Second)}}
	b, err := json.Marshal(newImportJSON(opts, sampleReport(), nil, nil))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"target":"postgresql://mlflow:xxxxx@db:5432/mlflow","revision":"7d34483879f0","schema_created":true,"sources":["file store ./mlruns"],` +
		`"counts":[{"entity":"experiments","read":2,"created":1,"merged":1,"skipped":0,"rejected":0},{"entity":"runs","read":3,"created":2,"merged":0,"skipped":0,"rejected":1},` +
		`{"entity":"metrics","read":1001,"created":1000,"merged":0,"skipped":1,"rejected":0}],` +
		`"experiment_ids":[{"source":"file store ./mlruns","source_id":"0","name":"Default","target_id":0,"action":"merged","id_changed":false},` +
		`{"source":"file store ./mlruns","source_id":"269502884478771284","name":"big","target_id":1,"action":"created","id_changed":true}],` +
		`"skipped":[{"source":"file store ./mlruns","path":"./mlruns/models","reason":"model registry folder, not tracking data"}],` +
		`"rejected":[{"source":"","path":"","reason":"./mlruns/1/abc/metrics/loss:3: run abc: malformed metric line"}],` +
		`"latest_metric_differences":[],"unsupported":[{"source":"MLflow database sqlite:///new.db","table":"review_queues","rows":3}],` +
		`"notices":[],"unchanged_runs":0,"created_run_ids":[],"merged_run_ids":[],"seconds":2,"complete":true,"dry_run":false,` +
		`"started_at":"2026-12-03T23:59:58Z","finished_at":"2026-12-04T00:00:00Z","nothing_new":false,"exit_code":0}`
	if string(b) != want {
		t.Errorf("JSON:\n%s\nwant:\n%s", b, want)
	}
}

// buildCLI builds the mlflow-bulk binary for tests that run it as a process.
func buildCLI(t *testing.T) string {
	bin := filepath.Join(t.TempDir(), "mlflow-bulk")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

// TestProgressOnlyOnATerminal runs the binary under a pseudo-terminal (script) and sees
// the progress bar on stderr; piped, it sees none, and --json stays one JSON object.
func TestProgressOnlyOnATerminal(t *testing.T) {
	if _, err := exec.LookPath("script"); err != nil {
		t.Fatalf("script (util-linux) is needed to run under a pseudo-terminal: %v", err)
	}
	bin := buildCLI(t)
	root := filepath.Join(t.TempDir(), "mlruns")
	if _, err := synth.Write(context.Background(), root, synth.Options{Experiments: 1, Runs: 60, MetricKeys: 5, Steps: 400, Seed: 8}); err != nil {
		t.Fatal(err)
	}
	pty := exec.Command("script", "-qfec", bin+" import "+root+" --to "+testenv.SQLite(t), "/dev/null")
	pty.Env = append(os.Environ(), "TERM=xterm")
	out, err := pty.CombinedOutput()
	if err != nil {
		t.Fatalf("under a terminal: %v\n%s", err, out)
	}
	// Runs against the total the file store could count.
	if !bytes.Contains(out, []byte("importing")) || !bytes.Contains(out, []byte("/60")) {
		t.Errorf("no progress bar with the run total on a terminal:\n%q", out)
	}
	var stdout, stderr bytes.Buffer
	piped := exec.Command(bin, "import", root, "--to", testenv.SQLite(t), "--json")
	piped.Stdout, piped.Stderr = &stdout, &stderr
	if err := piped.Run(); err != nil {
		t.Fatal(err)
	}
	// Off a terminal there is no bar; a phase that lasts over a second (the key build
	// on a busy machine) may say so in a plain line, as the README promises.
	if strings.ContainsAny(stderr.String(), "\r\033") || strings.Contains(stdout.String(), "importing") {
		t.Errorf("a bar without a terminal: stderr %q", stderr.String())
	}
	for _, line := range strings.Split(strings.TrimSuffix(stderr.String(), "\n"), "\n") {
		if line != "" && !strings.HasPrefix(line, "mlflow-bulk: ") {
			t.Errorf("stderr line %q is not a progress line", line)
		}
	}
	var report map[string]any
	if err := json.Unmarshal(stdout.Bytes(), &report); err != nil {
		t.Errorf("stdout is not one JSON object: %v", err)
	}
}

func TestVersionAndCompletion(t *testing.T) {
	io, out, _ := TestStreams()
	if code := Main([]string{"--version"}, io); code != ExitOK || !strings.Contains(out.String(), "mlflow-bulk version") {
		t.Errorf("--version: %d %q", code, out)
	}
	io, out, _ = TestStreams()
	if code := Main([]string{"completion", "bash"}, io); code != ExitOK || !strings.Contains(out.String(), "mlflow-bulk") {
		t.Errorf("completion: %d", code)
	}
	io, out, _ = TestStreams()
	Main([]string{"import", "--help"}, io)
	for _, want := range []string{"--on-existing-run", "--artifact-root-map", "Exit codes:", "4  finished, but invalid input was skipped"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("import --help lacks %q", want)
		}
	}
}

func TestInspect(t *testing.T) {
	io, out, errOut := TestStreams()
	code := Main([]string{"inspect", testenv.Sample(t, "heart-mlops-bigids-mlflow3/mlruns"), "--json"}, io)
	var in inspect.Inspection
	if code != ExitOK || json.Unmarshal(out.Bytes(), &in) != nil {
		t.Fatalf("inspect: exit %d %s %s", code, out, errOut)
	}
	if in.Counts["runs"] != 22 || in.Counts["metric_points"] != 72 || len(in.Experiments) != 2 {
		t.Errorf("counts %v", in.Counts)
	}
	if !strings.Contains(strings.Join(in.Evidence, "\n"), "MLflow 2.0 or later") || !strings.Contains(strings.Join(in.Anomalies, "\n"), "does not fit PostgreSQL's or MySQL's INTEGER") {
		t.Errorf("evidence %v, anomalies %v", in.Evidence, in.Anomalies)
	}
	io, out, _ = TestStreams()
	if code := Main([]string{"inspect", testenv.Sample(t, "sqlite-peco602-zoomcamp-mlflow1.26/02-experiment-tracking/mlflow.db")}, io); code != ExitOK ||
		!strings.Contains(out.String(), "bd07f7e963c5 (MLflow 1.25 – 1.27)") || !strings.Contains(out.String(), "registered_models") {
		t.Errorf("inspect of a database: %d\n%s", code, out)
	}
}

func TestPasswordSources(t *testing.T) {
	uri := testenv.Postgres(t)
	bare := strings.Replace(uri, ":mlflow-bulk-test-pw@", "@", 1)
	root := store(t, synth.Options{Runs: 1, Seed: 2})
	pwFile := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pwFile, []byte("mlflow-bulk-test-pw\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	io, _, errOut := TestStreams()
	if code := Main([]string{"import", root, "--to", bare, "--password-file", pwFile, "--verify"}, io); code != ExitOK {
		t.Errorf("--password-file: exit %d %s", code, errOut)
	}
	// Every command that opens a database takes it alike, export of a database source too.
	dump := filepath.Join(t.TempDir(), "dump")
	for _, args := range [][]string{
		{"verify", root, "--to", bare}, {"schema", "show", "--to", bare}, {"export", bare, "--to", dump},
		{"schema", "init", "--to", strings.Replace(testenv.Postgres(t), ":mlflow-bulk-test-pw@", "@", 1)},
	} {
		io, _, errOut := TestStreams()
		if code := Main(append(args, "--password-file", pwFile), io); code != ExitOK {
			t.Errorf("%v --password-file: exit %d %s", args, code, errOut)
		}
	}
	t.Setenv("PGPASSWORD", "mlflow-bulk-test-pw")
	io, _, errOut = TestStreams()
	if code := Main([]string{"import", root, "--to", bare}, io); code != ExitOK {
		t.Errorf("PGPASSWORD: exit %d %s", code, errOut)
	}
	if err := os.WriteFile(pwFile, []byte("Wr0ngFromFile\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	io, out, errOut := TestStreams()
	if code := Main([]string{"import", root, "--to", bare, "--password-file", pwFile}, io); code != ExitFailed || strings.Contains(out.String()+errOut.String(), "Wr0ngFromFile") {
		t.Errorf("wrong password from a file: exit %d, output %q", code, out.String()+errOut.String())
	}
}

func TestTrackingURIDefault(t *testing.T) {
	target := testenv.SQLite(t)
	t.Setenv("MLFLOW_TRACKING_URI", target)
	root := store(t, synth.Options{Runs: 2, Seed: 3})
	io, out, _ := TestStreams()
	if code := Main([]string{"import", root}, io); code != ExitOK || !strings.Contains(out.String(), target) {
		t.Errorf("MLFLOW_TRACKING_URI as the target: %q", out)
	}
	// A tracking server is not a database: say so and exit 2, writing nothing.
	t.Setenv("MLFLOW_TRACKING_URI", "http://localhost:5000")
	dir := t.TempDir()
	t.Chdir(dir)
	io, _, errOut := TestStreams()
	if code := Main([]string{"import", root}, io); code != ExitUsage || !strings.Contains(errOut.String(), "tracking server, not a database") ||
		!strings.Contains(errOut.String(), "the target is MLFLOW_TRACKING_URI's") {
		t.Errorf("an HTTP tracking URI: exit %d, %q", code, errOut.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "mlflow.db")); err == nil {
		t.Error("./mlflow.db was written for an HTTP tracking URI")
	}
	t.Setenv("MLFLOW_TRACKING_URI", "file:///elsewhere/mlruns")
	if got := defaultTargetURI(os.Getenv); got != defaultTarget {
		t.Errorf("a file store taken for the target: %s", got)
	}
}

// TestTargetURIMistakes: a URI MLflow would not take exits 2 with the forms it takes.
func TestTargetURIMistakes(t *testing.T) {
	root := store(t, synth.Options{Runs: 1, Seed: 4})
	dir := t.TempDir()
	t.Chdir(dir)
	for _, to := range []string{"", "postgres:/x", "sqlite:/one.db", "sqlite://rel.db", "postgersql://u@h/db", "postgresql://user@host:5432"} {
		io, _, errOut := TestStreams()
		if code := Main([]string{"import", root, "--to", to}, io); code != ExitUsage || !strings.Contains(errOut.String(), "sqlite:///mlflow.db") {
			t.Errorf("--to %q: exit %d, %q", to, code, errOut.String())
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("a mistaken URI left files: %v", entries)
	}
}

func TestRenameFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "renames.csv")
	if err := os.WriteFile(path, []byte("old,new\nexample1,tuning\n\"a, b\",c\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := parseRenames([]string{path, "x=y"})
	if err != nil || got["example1"] != "tuning" || got["a, b"] != "c" || got["x"] != "y" || len(got) != 3 {
		t.Errorf("renames %v %v", got, err)
	}
	if _, err := parseRenames([]string{"no-such-file"}); exitCodeFor(err) != ExitUsage {
		t.Errorf("a bad --rename-experiment: %v", err)
	}
}

func TestParseShard(t *testing.T) {
	for v, want := range map[string][2]int{"": {0, 0}, "0/1": {0, 1}, "3/4": {3, 4}} {
		k, n, err := parseShard(v)
		if err != nil || k != want[0] || n != want[1] {
			t.Errorf("parseShard(%q) = %d, %d, %v", v, k, n, err)
		}
	}
	for _, bad := range []string{"4/4", "-1/2", "1", "a/b", "0/0"} {
		if _, _, err := parseShard(bad); exitCodeFor(err) != ExitUsage {
			t.Errorf("parseShard(%q): %v", bad, err)
		}
	}
}

// TestRedactionKeepsTheChain: a redacted error hides the password and still is what it
// wraps, for exit codes and errors.Is.
func TestRedactionKeepsTheChain(t *testing.T) {
	t.Parallel()
	target := "postgresql://u:s3cret-pw@db:5432/mlflow"
	err := redactError(fmt.Errorf("open %s: %w", target, sinks.ErrLocked), target)
	if strings.Contains(err.Error(), "s3cret-pw") || !strings.Contains(err.Error(), "xxxxx") {
		t.Errorf("message: %s", err)
	}
	if !errors.Is(err, sinks.ErrLocked) {
		t.Error("errors.Is lost the cause")
	}
	var usage *usageError
	wrapped := redactPassword(&usageError{fmt.Errorf("bad flag near from-file-pw")}, "from-file-pw")
	if !errors.As(wrapped, &usage) || strings.Contains(wrapped.Error(), "from-file-pw") || exitCodeFor(wrapped) != ExitUsage {
		t.Errorf("usage error through redaction: %v, exit %d", wrapped, exitCodeFor(wrapped))
	}
	plain := errors.New("nothing secret")
	if redactError(plain, target) != plain { //nolint:errorlint // the very same value, not one wrapping it
		t.Error("an error without secrets is wrapped")
	}
}

func TestChoiceFlag(t *testing.T) {
	t.Parallel()
	var p rules.ExistingRunPolicy
	c := newChoice("on-existing-run", &p, p.Values())
	if p != rules.ExistingRunMerge || c.String() != "merge" || c.Type() != "merge|skip|fail" {
		t.Fatalf("default %q, type %q", p, c.Type())
	}
	if err := c.Set("skip"); err != nil || p != rules.ExistingRunSkip {
		t.Errorf("Set skip: %v, %q", err, p)
	}
	if err := c.Set("merged"); err == nil || !strings.Contains(err.Error(), `--on-existing-run must be merge, skip or fail, not "merged"`) || p != rules.ExistingRunSkip {
		t.Errorf("Set merged: %v, %q", err, p)
	}
}

// TestQueryStringPasswordsNeverShown: a password in a URI's query string stays hidden in
// every message, for targets and database sources, whatever else is wrong in the URI.
func TestQueryStringPasswordsNeverShown(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"import", "testdata-missing", "--to", "postgresql://u@127.0.0.1:1/db?password=Qs3cretPW&sslmode=bogus"},
		{"import", "postgresql://u@127.0.0.1:1/db?sslmode=bogus&password=Qs3cretPW", "--to", "sqlite:///" + filepath.ToSlash(filepath.Join(t.TempDir(), "t.db"))},
		{"import", "mysql://u@127.0.0.1:1/db?password=Qs3cretPW&bogus=1", "--to", "sqlite:///" + filepath.ToSlash(filepath.Join(t.TempDir(), "t.db"))},
		{"schema", "show", "--to", "mysql+pymysql://u@127.0.0.1:1/db?password=Qs3cretPW", "--json"},
		// A libpq key=value string as a source: a PostgreSQL database, its password hidden.
		{"import", "host=127.0.0.1 port=1 password='Qs3cretPW x' dbname=db user=u", "--to", "sqlite:///" + filepath.ToSlash(filepath.Join(t.TempDir(), "t.db"))},
		{"import", "host=127.0.0.1 port=1 password=Qs3cretPW dbname=db user=u", "--to", "sqlite:///" + filepath.ToSlash(filepath.Join(t.TempDir(), "t.db")), "--json"},
		{"inspect", "host=127.0.0.1 port=1 password=Qs3cretPW dbname=db user=u"},
		{"inspect", "host=127.0.0.1 port=1 password=Qs3cretPW dbname=db user=u", "--json"},
		{"export", "host=127.0.0.1 port=1 password=Qs3cretPW dbname=db user=u", filepath.Join(t.TempDir(), "out")},
		{"verify", "host=127.0.0.1 port=1 password=Qs3cretPW dbname=db user=u", "--to", "sqlite:///" + filepath.ToSlash(filepath.Join(t.TempDir(), "t.db"))},
	} {
		io, out, errOut := TestStreams()
		code := Main(args, io)
		if all := out.String() + errOut.String(); code == ExitOK || strings.Contains(all, "Qs3cretPW") || all == "" {
			t.Errorf("%v: exit %d, output %q", args, code, all)
		}
	}
}

// TestJSONOneLinePerInvocation: --json prints exactly one line of JSON per invocation,
// with the verification of --verify in it, and a failure as an object too.
func TestJSONOneLinePerInvocation(t *testing.T) {
	root := store(t, synth.Options{Experiments: 1, Runs: 2, MetricKeys: 1, Steps: 3, Params: 1, Seed: 21})
	target := testenv.SQLite(t)
	var lines []string
	for night := 0; night < 2; night++ {
		io, out, _ := TestStreams()
		if code := Main([]string{"import", root, "--to", target, "--verify", "--json"}, io); code != ExitOK {
			t.Fatalf("night %d: exit %d", night, code)
		}
		lines = append(lines, strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")...)
	}
	if len(lines) != 2 {
		t.Fatalf("%d lines for two nights:\n%s", len(lines), strings.Join(lines, "\n"))
	}
	for _, line := range lines {
		var got struct {
			Counts []json.RawMessage `json:"counts"`
			Verify *struct {
				Runs        int   `json:"runs_checked"`
				Differences []any `json:"differences"`
			} `json:"verify"`
			ExitCode int `json:"exit_code"`
		}
		if err := json.Unmarshal([]byte(line), &got); err != nil || got.Verify == nil || got.Verify.Runs != 2 || len(got.Counts) == 0 || got.ExitCode != 0 {
			t.Errorf("line %s: %+v, %v", line, got, err)
		}
	}
	for _, args := range [][]string{
		{"import", root, "--to", "postgresql://u:pw-secret@127.0.0.1:1/db", "--json"},
		{"import", filepath.Join(t.TempDir(), "missing"), "--to", target, "--json"},
	} {
		io, out, _ := TestStreams()
		code := Main(args, io)
		var got struct {
			Error    string `json:"error"`
			ExitCode int    `json:"exit_code"`
			Complete bool   `json:"complete"`
		}
		if err := json.Unmarshal(out.Bytes(), &got); err != nil || got.Error == "" || got.ExitCode != int(code) || code == ExitOK || strings.Count(out.String(), "\n") != 1 ||
			strings.Contains(out.String(), "pw-secret") {
			t.Errorf("%v: exit %d, stdout %q (%v)", args, code, out, err)
		}
	}
}

// TestExitCodesOfLocksAndInterrupts: the lock timeout and an interrupt have exit codes
// of their own, through any wrapping.
func TestExitCodesOfLocksAndInterrupts(t *testing.T) {
	t.Parallel()
	if got := exitCodeFor(fmt.Errorf("open target: %w", fmt.Errorf("x: %w (did not wait)", sinks.ErrLocked))); got != ExitLocked {
		t.Errorf("a lock timeout: %d", got)
	}
	if got := exitCodeFor(redactError(fmt.Errorf("import stopped: %w", context.Canceled), "sqlite:///x.db")); got != ExitInterrupted {
		t.Errorf("an interrupt: %d", got)
	}
	for _, code := range []string{"5  another import held", "130  interrupted"} {
		if !strings.Contains(exitCodesHelp, code) {
			t.Errorf("the help does not document %q", code)
		}
	}
}

// TestDryRunLeavesNoFile: a dry run into a new SQLite database creates no file.
func TestDryRunLeavesNoFile(t *testing.T) {
	root := store(t, synth.Options{Runs: 2, MetricKeys: 1, Steps: 2, Seed: 23})
	path := filepath.Join(t.TempDir(), "new.db")
	io, out, errOut := TestStreams()
	if code := Main([]string{"import", root, "--to", "sqlite:///" + filepath.ToSlash(path), "--dry-run", "--json"}, io); code != ExitOK || !strings.Contains(out.String(), `"dry_run":true`) {
		t.Fatalf("exit %d: %s %s", code, out, errOut)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("the dry run left %s: %v", path, err)
	}
}

// TestMissingSource: a source path that names nothing says so, exit 2.
func TestMissingSource(t *testing.T) {
	io, _, errOut := TestStreams()
	missing := filepath.Join(t.TempDir(), "mlruns")
	if code := Main([]string{"import", missing, "--to", testenv.SQLite(t)}, io); code != ExitUsage || !strings.Contains(errOut.String(), missing+" does not exist") {
		t.Errorf("exit %d, %q", code, errOut.String())
	}
}

// TestFailedSchemaInitLeavesNoFile: a schema init that fails creates no database file.
func TestFailedSchemaInitLeavesNoFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mlflow.db")
	io, _, errOut := TestStreams()
	if code := Main([]string{"schema", "init", "--to", "sqlite:///" + path, "--revision", "e8f9a0b1c2d3"}, io); code != ExitUsage {
		t.Fatalf("exit %d, %q", code, errOut.String())
	}
	if _, err := os.Stat(path); err == nil {
		t.Error("a failed schema init left a database file")
	}
}

// TestVerifyTakesTheImportsSelection: verify given the filters and renames the import
// took finds no difference; without them it finds what the import left out.
func TestVerifyTakesTheImportsSelection(t *testing.T) {
	root := store(t, synth.Options{Experiments: 2, Runs: 4, MetricKeys: 1, Steps: 3, Seed: 6})
	target := testenv.SQLite(t)
	selection := []string{"--experiment", "synthetic-1*", "--rename-experiment", "synthetic-1=renamed"}
	io, _, errOut := TestStreams()
	if code := Main(append([]string{"import", root, "--to", target}, selection...), io); code != ExitOK {
		t.Fatalf("import: exit %d %s", code, errOut)
	}
	io, out, _ := TestStreams()
	if code := Main(append([]string{"verify", root, "--to", target}, selection...), io); code != ExitOK {
		t.Errorf("verify with the import's selection: exit %d\n%s", code, out)
	}
	io, _, _ = TestStreams()
	if code := Main([]string{"verify", root, "--to", target}, io); code != ExitDifferences {
		t.Errorf("verify without it: exit %d, want %d", code, ExitDifferences)
	}
}

// TestHelpListsEverySourceFormat: import's help is made from the table of formats.
func TestHelpListsEverySourceFormat(t *testing.T) {
	io, out, _ := TestStreams()
	Main([]string{"import", "--help"}, io)
	for _, f := range formats.Formats() {
		if !strings.Contains(out.String(), f.Name) {
			t.Errorf("import --help does not name %q", f.Name)
		}
	}
	if strings.Contains(out.String(), "already holds is skipped") {
		t.Error("import --help says an existing run is skipped; it is merged by default")
	}
}

// TestLockWaitSaysSo: an import that must wait for another's lock says so at once,
// naming the holder where the database can, and exits 5 when the wait runs out.
func TestLockWaitSaysSo(t *testing.T) {
	root := store(t, synth.Options{Runs: 1, Seed: 5})
	for name, uri := range map[string]func(testing.TB) string{"sqlite": testenv.SQLite, "postgres": testenv.Postgres, "mariadb": testenv.MySQL} {
		t.Run(name, func(t *testing.T) {
			target := uri(t)
			holder, err := all.Registry().Open(context.Background(), target, sinks.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer holder.Close()
			io, _, errOut := TestStreams()
			code := Main([]string{"import", root, "--to", target, "--lock-timeout", "1s"}, io)
			if code != ExitLocked || !strings.Contains(errOut.String(), "waiting for another import writing to") {
				t.Errorf("exit %d, %q", code, errOut.String())
			}
			if name == "postgres" && !strings.Contains(errOut.String(), "held by server process") {
				t.Errorf("the holder is not named: %q", errOut.String())
			}
		})
	}
}

// TestDryRunIntoEmptyMariaDB: a dry run works into an empty MariaDB database too, which
// cannot roll back DDL: it validates in a scratch database, says so, and leaves the
// target empty and no scratch database behind, dropping one a killed dry run left.
func TestDryRunIntoEmptyMariaDB(t *testing.T) {
	target := testenv.MySQL(t)
	root := store(t, synth.Options{Runs: 3, MetricKeys: 1, Steps: 2, Seed: 9})
	// A scratch database a killed dry run left: its session (connection 999999999) is gone.
	stale, err := all.Registry().Open(context.Background(), target, sinks.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	staleTx, err := stale.Begin(context.Background())
	if err == nil {
		_, err = staleTx.Exec(context.Background(), "CREATE DATABASE IF NOT EXISTS mlflow_bulk_dry_run_999999999_1")
	}
	if err != nil {
		t.Fatal(err)
	}
	_ = staleTx.Rollback(context.Background())
	stale.Close()
	io, out, errOut := TestStreams()
	if code := Main([]string{"import", root, "--to", target, "--dry-run"}, io); code != ExitOK || !strings.Contains(out.String(), "scratch database") || !strings.Contains(out.String(), "Dry run into") ||
		!strings.Contains(out.String(), "1 scratch databases left by dry runs that were killed were dropped") {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	sink, err := all.Registry().Open(context.Background(), target, sinks.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	tx, err := sink.Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(context.Background()) }()
	var tables, scratch int
	if err := live.EachRow(context.Background(), tx, "SELECT (SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE()), "+
		"(SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE 'mlflow_bulk_dry_run_%')", nil,
		func(scan func(...any) error) error { return scan(&tables, &scratch) }); err != nil {
		t.Fatal(err)
	}
	if tables != 0 || scratch != 0 {
		t.Errorf("%d tables in the target, %d scratch databases left", tables, scratch)
	}
}

// TestEmptyWorkspaceIsAUsageError: --workspace "" is a mistake (a variable that was
// empty), not the flag left out: import and verify say so and write nothing.
func TestEmptyWorkspaceIsAUsageError(t *testing.T) {
	t.Parallel()
	target := filepath.Join(t.TempDir(), "t.db")
	for _, args := range [][]string{
		{"import", "../../testdata/mlruns", "--to", "sqlite:///" + filepath.ToSlash(target), "--workspace", ""},
		{"import", "../../testdata/mlruns", "--to", "sqlite:///" + filepath.ToSlash(target), "--workspace="},
		{"verify", "../../testdata/mlruns", "--to", "sqlite:///" + filepath.ToSlash(target), "--workspace", ""},
	} {
		io, _, errOut := TestStreams()
		if code := Main(args, io); code != ExitUsage || !strings.Contains(errOut.String(), `--workspace "" names no workspace`) {
			t.Errorf("%v: exit %d, %s", args, code, errOut.String())
		}
	}
	if _, err := os.Stat(target); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the target was created: %v", err)
	}
}
