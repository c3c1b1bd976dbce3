package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/mlflow-bulk/mlflow-bulk/importer/rules"
	"github.com/mlflow-bulk/mlflow-bulk/internal/synth"
	"github.com/mlflow-bulk/mlflow-bulk/internal/testenv"
)

func TestNewCmdImportFlags(t *testing.T) {
	t.Setenv("MLFLOW_TRACKING_URI", "")
	tests := []struct {
		args    []string
		want    ImportOptions
		wantErr string
	}{
		{args: []string{"./mlruns"}, want: ImportOptions{Sources: []string{"./mlruns"}, Target: defaultTarget, BatchRows: 100_000, DefaultArtifactRoot: "mlflow-artifacts:/", Progress: "auto", OnKeyCollision: "fail", OnModelConflict: "fail", OnExistingRun: "merge", OnParamConflict: "fail", LockTimeout: 10 * time.Minute, Copying: ArtifactCopying{Workers: 8, Unreadable: "keep-location"}, Selection: Selection{IncludeDeleted: true}, Workers: runtime.NumCPU()}},
		{args: []string{"a", "b", "--to", "postgresql://u:p@h/db", "--skip-invalid", "--json", "--batch-size", "10", "--progress", "never", "--on-key-collision", "keep-first"},
			want: ImportOptions{Sources: []string{"a", "b"}, Target: "postgresql://u:p@h/db", SkipInvalid: true, JSON: true, BatchRows: 10, DefaultArtifactRoot: "mlflow-artifacts:/", Progress: "never", OnKeyCollision: "keep-first", OnModelConflict: "fail", OnExistingRun: "merge", OnParamConflict: "fail", LockTimeout: 10 * time.Minute, Copying: ArtifactCopying{Workers: 8, Unreadable: "keep-location"}, Selection: Selection{IncludeDeleted: true}, Workers: runtime.NumCPU()}},
		{args: []string{"x", "--experiment", "a*", "--experiment", "b", "--include-deleted=false", "--runs-since", "2026-01-01", "--artifact-root-map", "/old=s3://new"},
			want: ImportOptions{Sources: []string{"x"}, Target: defaultTarget, BatchRows: 100_000, DefaultArtifactRoot: "mlflow-artifacts:/", Progress: "auto", OnKeyCollision: "fail",
				OnModelConflict: "fail", OnExistingRun: "merge", OnParamConflict: "fail", LockTimeout: 10 * time.Minute, Copying: ArtifactCopying{Workers: 8, Unreadable: "keep-location"}, Selection: Selection{Experiments: []string{"a*", "b"}, RunsSince: "2026-01-01",
					ArtifactRootMap: []string{"/old=s3://new"}}, Workers: runtime.NumCPU()}},
		{args: []string{"x", "--shard", "1/4", "--workers", "3"},
			want: ImportOptions{Sources: []string{"x"}, Target: defaultTarget, BatchRows: 100_000, DefaultArtifactRoot: "mlflow-artifacts:/", Progress: "auto", OnKeyCollision: "fail",
				OnModelConflict: "fail", OnExistingRun: "merge", OnParamConflict: "fail", LockTimeout: 10 * time.Minute, Copying: ArtifactCopying{Workers: 8, Unreadable: "keep-location"}, Selection: Selection{IncludeDeleted: true, Shard: "1/4"}, Workers: 3}},
		{args: []string{"x", "--on-key-collision", "merge"}, wantErr: "--on-key-collision must be"},
		{args: []string{}, wantErr: "import needs at least 1 SOURCE"},
		{args: []string{"x", "--progress", "sometimes"}, wantErr: "--progress must be"},
		{args: []string{"x", "--nope"}, wantErr: "unknown flag"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			io, _, _ := TestStreams()
			var got *ImportOptions
			cmd := NewCmdImport(NewFactory(io), func(_ context.Context, o *ImportOptions) error { got = o; return nil })
			root := NewCmdRoot(NewFactory(io))
			root.RemoveCommand(root.Commands()...)
			root.AddCommand(cmd)
			root.SetArgs(append([]string{"import"}, tt.args...))
			_, err := root.ExecuteC()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || exitCodeFor(err) != ExitUsage {
					t.Fatalf("error %v (exit %d), want usage error containing %q", err, exitCodeFor(err), tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Drivers == nil {
				t.Error("the import's options lack the factory's drivers")
			}
			got.IO, got.Drivers = nil, nil
			if strings.Join(got.Sources, ",") != strings.Join(tt.want.Sources, ",") {
				t.Fatalf("sources %v, want %v", got.Sources, tt.want.Sources)
			}
			got.Sources, tt.want.Sources = nil, nil
			if got.invocation.targetGiven != (got.Target != defaultTarget) {
				t.Errorf("--to %s: given %t", got.Target, got.invocation.targetGiven)
			}
			got.invocation = invocation{}
			if !reflect.DeepEqual(*got, tt.want) {
				t.Fatalf("options %+v, want %+v", *got, tt.want)
			}
		})
	}
}

func store(t *testing.T, o synth.Options) string {
	root := filepath.Join(t.TempDir(), "mlruns")
	if _, err := synth.Write(context.Background(), root, o); err != nil {
		t.Fatal(err)
	}
	return root
}

// TestGenerateJSON: generate --json names its counts in snake case, as every other
// command's JSON does.
func TestGenerateJSON(t *testing.T) {
	io, out, errOut := TestStreams()
	dir := filepath.Join(t.TempDir(), "store")
	if code := Main([]string{"generate", dir, "--experiments", "2", "--runs", "3", "--params", "2", "--json"}, io); code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var counts map[string]int
	if err := json.Unmarshal(out.Bytes(), &counts); err != nil {
		t.Fatalf("stdout is not one JSON object: %v\n%s", err, out)
	}
	if counts["experiments"] != 3 || counts["runs"] != 3 || counts["params"] != 6 {
		t.Errorf("counts %v", counts)
	}
	for key := range counts {
		if strings.ToLower(key) != key {
			t.Errorf("key %q is not in snake case", key)
		}
	}
}

func TestImportJSONAndExitCodes(t *testing.T) {
	root := store(t, synth.Options{Experiments: 2, Runs: 3, MetricKeys: 2, Steps: 5, Seed: 9})
	target := testenv.SQLite(t)

	io, out, errOut := TestStreams()
	if code := Main([]string{"import", root, "--to", target, "--json"}, io); code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var report struct {
		SchemaCreated bool `json:"schema_created"`
		Counts        []struct {
			Entity  string `json:"entity"`
			Created int    `json:"created"`
		} `json:"counts"`
		ExperimentIDs []struct {
			Name     string `json:"name"`
			TargetID int64  `json:"target_id"`
		} `json:"experiment_ids"`
	}
	if err := json.Unmarshal(out.Bytes(), &report); err != nil {
		t.Fatalf("stdout is not one JSON object: %v\n%s", err, out)
	}
	if !report.SchemaCreated || report.Counts[3].Entity != "runs" || report.Counts[3].Created != 3 || len(report.ExperimentIDs) != 3 {
		t.Fatalf("report %+v", report)
	}
	if errOut.Len() != 0 {
		t.Errorf("stderr not empty without a terminal: %q", errOut)
	}

	io, out, _ = TestStreams()
	if code := Main([]string{"import", root, "--to", target}, io); code != ExitOK {
		t.Fatalf("second import exit %d", code)
	}
	if !strings.Contains(out.String(), "Nothing new") {
		t.Errorf("second import does not say nothing new:\n%s", out)
	}

	io, _, errOut = TestStreams()
	if code := Main([]string{"import", filepath.Join(root, "no-such-store"), "--to", target}, io); code != ExitUsage {
		t.Errorf("missing source: exit %d, want %d (%s)", code, ExitUsage, errOut)
	}
}

func TestSkipInvalidExitCode(t *testing.T) {
	root := store(t, synth.Options{Runs: 3, MetricKeys: 1, Steps: 5, Seed: 2})
	runs, _ := filepath.Glob(filepath.Join(root, "*", strings.Repeat("[0-9a-f]", 32), "metrics", "metric_0"))
	if err := os.WriteFile(runs[0], []byte("1 2 3\nbroken\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	io, _, errOut := TestStreams()
	if code := Main([]string{"import", root, "--to", testenv.SQLite(t)}, io); code != ExitFailed {
		t.Fatalf("invalid input: exit %d, want %d", code, ExitFailed)
	}
	if !strings.Contains(errOut.String(), runs[0]+":2") {
		t.Errorf("error does not name file and line: %s", errOut)
	}
	io, out, _ := TestStreams()
	if code := Main([]string{"import", root, "--to", testenv.SQLite(t), "--skip-invalid"}, io); code != ExitSkippedInvalid {
		t.Fatalf("--skip-invalid: exit %d, want %d", code, ExitSkippedInvalid)
	}
	if !strings.Contains(out.String(), "Rejected (invalid input)") {
		t.Errorf("report does not list the rejected run:\n%s", out)
	}
	// verify accepts what --skip-invalid left out, as the import's own options say.
	target := testenv.SQLite(t)
	io, out, errOut = TestStreams()
	if code := Main([]string{"import", root, "--to", target, "--skip-invalid", "--verify"}, io); code != ExitSkippedInvalid {
		t.Fatalf("--skip-invalid --verify: exit %d, want %d\n%s%s", code, ExitSkippedInvalid, out, errOut)
	}
	if !strings.Contains(out.String(), "invalid runs and records left out (--skip-invalid)") {
		t.Errorf("verify does not say what it accepted:\n%s", out)
	}
	io, out, _ = TestStreams()
	if code := Main([]string{"verify", root, "--to", target, "--skip-invalid"}, io); code != ExitOK {
		t.Errorf("verify --skip-invalid: exit %d\n%s", code, out)
	}
	io, out, _ = TestStreams()
	if code := Main([]string{"verify", root, "--to", target}, io); code != ExitDifferences {
		t.Errorf("verify without --skip-invalid: exit %d, want %d", code, ExitDifferences)
	}
	if strings.Contains(out.String(), "--reread") {
		t.Errorf("the --reread advice for a run that is not in the target, so not stamped:\n%s", out)
	}
}

func TestWrongPasswordNeverPrinted(t *testing.T) {
	uri := testenv.Postgres(t)
	wrong := strings.Replace(uri, "mlflow-bulk-test-pw", "S3cretWrongPw", 1)
	if wrong == uri {
		t.Fatal("test server URI has an unexpected password")
	}
	root := store(t, synth.Options{Runs: 1, Seed: 1})
	for _, args := range [][]string{
		{"import", root, "--to", wrong},
		{"import", root, "--to", wrong, "--json"},
		{"import", root, "--to", strings.Replace(wrong, "postgresql://", "postgresql+psycopg2://", 1)},
	} {
		io, out, errOut := TestStreams()
		code := Main(args, io)
		all := out.String() + errOut.String()
		if code != ExitFailed || strings.Contains(all, "S3cretWrongPw") || !strings.Contains(all, "password authentication failed") {
			t.Errorf("%v: exit %d, output %q", args, code, all)
		}
		if strings.Count(strings.TrimSpace(errOut.String()), "\n") != 0 {
			t.Errorf("want one line, got %q", errOut)
		}
	}
}

func TestSchemaCommands(t *testing.T) {
	target := testenv.SQLite(t)
	run := func(args ...string) (ExitCode, string, string) {
		io, out, errOut := TestStreams()
		code := Main(args, io)
		return code, out.String(), errOut.String()
	}
	code, out, _ := run("schema", "show", "--to", target, "--json")
	var st SchemaStatus
	if code != ExitOK || json.Unmarshal([]byte(out), &st) != nil || !st.Empty || !st.Writable {
		t.Fatalf("show on an empty database: exit %d, %s", code, out)
	}
	// Showing reads: the database file that is not there yet is not created.
	if _, err := os.Stat(strings.TrimPrefix(target, "sqlite:///")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("schema show created %s: %v", target, err)
	}
	if code, _, errOut := run("schema", "init", "--to", target, "--revision", "ffffffffffff"); code != ExitUsage || !strings.Contains(errOut, "unknown revision") {
		t.Errorf("unknown revision: exit %d, %s", code, errOut)
	}
	if code, _, errOut := run("schema", "init", "--to", target, "--revision", "dc11669786a5"); code != ExitUsage || !strings.Contains(errOut, "holds no DDL to create it") {
		t.Errorf("revision without DDL: exit %d, %s", code, errOut)
	}
	if code, out, errOut := run("schema", "init", "--to", target, "--mlflow-version", "2.20"); code != ExitOK || !strings.Contains(out, "0584bdc529eb") {
		t.Fatalf("init: exit %d, %s %s", code, out, errOut)
	}
	code, out, _ = run("schema", "show", "--to", target)
	if code != ExitOK || !strings.Contains(out, "Revision:  0584bdc529eb") || !strings.Contains(out, "Opened by: MLflow 2.18 – 2.22") || !strings.Contains(out, "Writable:  yes") {
		t.Errorf("show after init: %s", out)
	}
	if code, _, errOut := run("schema", "init", "--to", target); code != ExitFailed || !strings.Contains(errOut, "already holds MLflow's schema at revision 0584bdc529eb") {
		t.Errorf("init on a non-empty database: exit %d, %s", code, errOut)
	}
	// An import writes into the revision init made.
	root := store(t, synth.Options{Runs: 2, Seed: 3})
	if code, out, errOut := run("import", root, "--to", target); code != ExitOK || !strings.Contains(out, "schema 0584bdc529eb") {
		t.Errorf("import: exit %d, %s %s", code, out, errOut)
	}
}

func TestVerifyExitCodes(t *testing.T) {
	root := store(t, synth.Options{Experiments: 1, Runs: 3, MetricKeys: 2, Steps: 5, Params: 2, Seed: 4})
	target := testenv.SQLite(t)
	io, out, errOut := TestStreams()
	if code := Main([]string{"import", root, "--to", target, "--verify"}, io); code != ExitOK || !strings.Contains(out.String(), "the target matches the sources") {
		t.Fatalf("import --verify: exit %d\n%s%s", code, out, errOut)
	}
	runs, _ := filepath.Glob(filepath.Join(root, "*", strings.Repeat("[0-9a-f]", 32)))
	if err := os.WriteFile(filepath.Join(runs[0], "params", "added_later"), []byte("1"), 0o644); err != nil {
		t.Fatal(err)
	}
	io, out, _ = TestStreams()
	code := Main([]string{"verify", root, "--to", target, "--json"}, io)
	var report struct {
		Differences []struct {
			RunID string `json:"run_id"`
			Kind  string `json:"kind"`
		} `json:"differences"`
	}
	if code != ExitDifferences || json.Unmarshal(out.Bytes(), &report) != nil || len(report.Differences) != 1 ||
		report.Differences[0].RunID != filepath.Base(runs[0]) || report.Differences[0].Kind != "param missing" {
		t.Fatalf("verify: exit %d, %s", code, out)
	}
	// A point whose value changed: the text names the run, the key and both latest points.
	metricFile := filepath.Join(runs[1], "metrics", "metric_0")
	data, err := os.ReadFile(metricFile)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	last := strings.Fields(lines[len(lines)-1])
	last[1] = "12345.5"
	lines[len(lines)-1] = strings.Join(last, " ")
	if err := os.WriteFile(metricFile, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	io, out, _ = TestStreams()
	code = Main([]string{"verify", root, "--to", target}, io)
	want := fmt.Sprintf(`run %s, key "metric_0": metric points differ: the target's %d points are not the source's: the latest is step %s at %s = 12345.5 in the source, step %s at %s = `,
		filepath.Base(runs[1]), len(lines), last[2], last[0], last[2], last[0])
	if code != ExitDifferences || !strings.Contains(out.String(), want) {
		t.Errorf("verify's text: exit %d\n%s\nwant a line with\n%s", code, out, want)
	}
	first := fmt.Sprintf("the first point that differs: step %s at %s = 12345.5 in the source, step %s at %s = ", last[2], last[0], last[2], last[0])
	if !strings.Contains(out.String(), first) {
		t.Errorf("verify's text does not show the first point that differs:\n%s\nwant\n%s", out, first)
	}
}

// TestSchemaInit314 creates MLflow 3.14's schema with `schema init --mlflow-version 3.14`
// on every dialect, and a 3.14 database moves into it whole with `import`.
func TestSchemaInit314(t *testing.T) {
	real314 := "sqlite:///" + filepath.ToSlash(testenv.Sample(t, "hcigu-pgpt-sqlite-prompts/backend/mlflow.db"))
	for _, target := range []func(testing.TB) string{testenv.SQLite, testenv.Postgres, testenv.MySQL} {
		uri := target(t)
		io, out, errOut := TestStreams()
		if code := Main([]string{"schema", "init", "--to", uri, "--mlflow-version", "3.14"}, io); code != ExitOK || !strings.Contains(out.String(), "b7e4c1a90f23") {
			t.Fatalf("init 3.14: exit %d, %s %s", code, out, errOut)
		}
		io, out, errOut = TestStreams()
		if code := Main([]string{"import", real314, "--to", uri, "--json"}, io); code != ExitOK {
			t.Fatalf("import a 3.14 database: exit %d, %s %s", code, out, errOut)
		}
		var report struct {
			Revision string `json:"revision"`
			Counts   []struct {
				Entity  string `json:"entity"`
				Created int    `json:"created"`
			} `json:"counts"`
		}
		if err := json.Unmarshal(out.Bytes(), &report); err != nil || !strings.HasPrefix(report.Revision, "b7e4c1a90f23") {
			t.Fatalf("report: %v %s", err, out)
		}
		created := map[string]int{}
		for _, c := range report.Counts {
			created[c.Entity] = c.Created
		}
		if created["registered_models"] != 1 || created["model_versions"] != 4 {
			t.Errorf("a 3.14 database's prompt: %v", created)
		}
	}
	for _, version := range []string{"3.11", "3.11.0", "3.11.1"} {
		io, out, errOut := TestStreams()
		if code := Main([]string{"schema", "init", "--to", testenv.SQLite(t), "--mlflow-version", version}, io); code != ExitOK || !strings.Contains(out.String(), "c3d6457b6d8a") {
			t.Errorf("init %s: exit %d, %s %s", version, code, out, errOut)
		}
	}
}

// TestUsageErrorsSayWhatToDo: each kind of wrong call exits 2 and says what to give.
func TestUsageErrorsSayWhatToDo(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"import"}, "import needs at least 1 SOURCE"},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"import", "x", "--dryrun"}, "Did you mean --dry-run?"},
		{[]string{"import", "x", "--on-existing-runs", "skip"}, "Did you mean --on-existing-run?"},
		{[]string{"inspect", "a", "b"}, "inspect takes exactly one SOURCE, got 2"},
		{[]string{"import", "x", "--experiment", "["}, `--experiment "[" is not a name or a glob pattern`},
	} {
		io, _, errOut := TestStreams()
		if code := Main(c.args, io); code != ExitUsage || !strings.Contains(errOut.String(), c.want) {
			t.Errorf("%v: exit %d, %q; want exit %d saying %q", c.args, code, errOut, ExitUsage, c.want)
		}
	}
}

func TestEditDistance(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{{"dryrun", "dry-run", 1}, {"", "ab", 2}, {"verify", "verify", 0}, {"kitten", "sitting", 3}} {
		if got := editDistance(c.a, c.b); got != c.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}

// TestCommandsTakeTheirOptions: verify, export and inspect parse their flags into their
// Options, which the run function gets whole.
func TestCommandsTakeTheirOptions(t *testing.T) {
	io, _, _ := TestStreams()
	f := NewFactory(io)
	var v *VerifyOptions
	cmd := NewCmdVerify(f, func(_ context.Context, o *VerifyOptions) error { v = o; return nil })
	cmd.SetArgs([]string{"a", "b", "--to", "sqlite:///x.db", "--skip-unsupported", "--on-param-conflict", "keep-target", "--experiment", "e*", "--json"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if strings.Join(v.Sources, ",") != "a,b" || v.Target != "sqlite:///x.db" || !v.Accept.SkipUnsupported || v.Accept.OnParamConflict != rules.ParamConflictKeepTarget ||
		v.Accept.OnModelConflict != rules.ModelConflictFail || v.Experiments[0] != "e*" || !v.JSON || v.Drivers == nil {
		t.Errorf("verify options %+v", v)
	}
	var e *ExportOptions
	cmd = NewCmdExport(f, func(_ context.Context, o *ExportOptions) error { e = o; return nil })
	cmd.SetArgs([]string{"src", "--to", "dump", "--gzip"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if e.Source != "src" || e.Dir != "dump" || !e.Dump.Gzip || e.Dump.SkipInvalid {
		t.Errorf("export options %+v", e)
	}
	var in *InspectOptions
	cmd = NewCmdInspect(f, func(_ context.Context, o *InspectOptions) error { in = o; return nil })
	cmd.SetArgs([]string{"src", "--json"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if in.Source != "src" || !in.JSON {
		t.Errorf("inspect options %+v", in)
	}
}
