package importer_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mlflow-bulk/mlflow-bulk/importer"
	"github.com/mlflow-bulk/mlflow-bulk/internal/importtest"
	"github.com/mlflow-bulk/mlflow-bulk/internal/synth"
	"github.com/mlflow-bulk/mlflow-bulk/internal/testenv"
	"github.com/mlflow-bulk/mlflow-bulk/schema"
	"github.com/mlflow-bulk/mlflow-bulk/verify"
)

func verifyPaths(t *testing.T, uri string, paths ...string) *verify.Report {
	t.Helper()
	return verifyPathsWith(t, uri, verify.Options{}, paths...)
}

// verifyPathsWith is verifyPaths told what the import's options accepted.
func verifyPathsWith(t *testing.T, uri string, opts verify.Options, paths ...string) *verify.Report {
	t.Helper()
	return importtest.Verify(t, uri, opts, paths...)
}

// TestVerifyFindsDifferences: verify passes on a faithful import and names the run of
// each kind of damage: a deleted metric row, a changed param, a wrong latest metric, a
// missing run.
func TestVerifyFindsDifferences(t *testing.T) {
	root, _ := synthStore(t, syntheticOptions(8))
	runs := runDirs(t, root)
	ids := make([]string, 4)
	for i := range ids {
		ids[i] = filepath.Base(runs[i])
	}
	damage := []struct {
		kind string
		stmt string
	}{
		{"metric points missing", `DELETE FROM metrics WHERE run_uuid = '` + ids[0] + `' AND "key" = 'metric_0' AND step = 3`},
		{"param differs", `UPDATE params SET value = 'tampered' WHERE run_uuid = '` + ids[1] + `' AND "key" = 'param_0'`},
		{"latest metric wrong", `UPDATE latest_metrics SET value = -1 WHERE run_uuid = '` + ids[2] + `' AND "key" = 'metric_1'`},
		{"run missing", ""},
	}
	for _, target := range targets {
		t.Run(target.name, func(t *testing.T) {
			uri := target.uri(t)
			if _, err := importPaths(t, uri, importer.Options{}, root); err != nil {
				t.Fatal(err)
			}
			if r := verifyPaths(t, uri, root); len(r.Differences) != 0 || r.Runs != 6 {
				t.Fatalf("a faithful import: %+v", r)
			}
			var stmts []string
			for _, d := range damage[:3] {
				stmts = append(stmts, d.stmt)
			}
			for _, table := range []string{"metrics", "latest_metrics", "params", "tags"} {
				stmts = append(stmts, "DELETE FROM "+table+" WHERE run_uuid = '"+ids[3]+"'")
			}
			stmts = append(stmts, "DELETE FROM runs WHERE run_uuid = '"+ids[3]+"'")
			setUp(t, uri, stmts...)
			r := verifyPaths(t, uri, root)
			for i, d := range damage {
				found := false
				for _, diff := range r.Differences {
					found = found || (diff.RunID == ids[i] && diff.Kind == d.kind)
				}
				if !found {
					t.Errorf("%s in run %s not found: %+v", d.kind, ids[i], r.Differences)
				}
			}
		})
	}
}

// TestDryRunWritesNothing: a dry run reports what it would do and leaves the target as
// it was, a fresh database included.
func TestDryRunWritesNothing(t *testing.T) {
	root, st := synthStore(t, syntheticOptions(9))
	for _, target := range targets {
		t.Run(target.name, func(t *testing.T) {
			uri := target.uri(t)
			if target.name != "mariadb" {
				report, err := importPaths(t, uri, importer.Options{DryRun: true}, root)
				if err != nil || !report.DryRun || int(report.Count("runs").Created) != st.Runs {
					t.Fatalf("dry run into an empty database: %v %+v", err, report)
				}
				d := openDB(t, uri)
				if n := len(d.rows(tablesQuery[target.name])); n != 0 {
					t.Errorf("a dry run left %d tables behind", n)
				}
				d.close()
			} else if _, err := importPaths(t, uri, importer.Options{DryRun: true}, root); err == nil || !strings.Contains(err.Error(), "schema init") {
				t.Fatalf("dry run into an empty MySQL database: %v", err)
			}
			first, _ := synthStore(t, syntheticOptions(10))
			if _, err := importPaths(t, uri, importer.Options{}, first); err != nil {
				t.Fatal(err)
			}
			before := targetContent(t, uri)
			report, err := importPaths(t, uri, importer.Options{DryRun: true}, root, first)
			if err != nil {
				t.Fatal(err)
			}
			if c := report.Count("runs"); int(c.Created) != st.Runs || c.Skipped != 6 || c.Merged != 0 {
				t.Errorf("dry run counts %+v", c)
			}
			if !equalContent(targetContent(t, uri), before) {
				t.Error("the dry run changed the target")
			}
		})
	}
}

var tablesQuery = map[string]string{
	"sqlite":   "SELECT name FROM sqlite_master WHERE type = 'table'",
	"postgres": "SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema()",
	"mariadb":  "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE()",
}

// TestConcurrentImports: two imports of overlapping sources into one database at once
// end with the content a serial import gives, in one order or the other (whichever
// creates an experiment first gives it its attributes).
func TestConcurrentImports(t *testing.T) {
	shared, _ := synthStore(t, syntheticOptions(11))
	a, _ := synthStore(t, syntheticOptions(12))
	b, _ := synthStore(t, syntheticOptions(13))
	for _, target := range targets {
		t.Run(target.name, func(t *testing.T) {
			var serial []map[string][]string
			for _, order := range [][][]string{{{a, shared}, {b, shared}}, {{b, shared}, {a, shared}}} {
				uri := target.uri(t)
				for _, set := range order {
					if _, err := importPaths(t, uri, importer.Options{}, set...); err != nil {
						t.Fatal(err)
					}
				}
				serial = append(serial, targetContent(t, uri))
			}
			uri := target.uri(t)
			var wg sync.WaitGroup
			errs := make([]error, 2)
			for i, set := range [][]string{{a, shared}, {b, shared}} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, errs[i] = importPaths(t, uri, importer.Options{BatchRows: 50}, set...)
				}()
			}
			wg.Wait()
			for _, err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
			got := targetContent(t, uri)
			if !equalContent(got, serial[0]) && !equalContent(got, serial[1]) {
				for table, rows := range serial[0] {
					compareSets(t, table, got[table], rows)
				}
			}
		})
	}
}

var buildOnce sync.Once
var binaryPath string

// binary builds mlflow-bulk once for tests that run it as a process.
func binary(t *testing.T) string {
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "mlflow-bulk-test-bin")
		if err != nil {
			t.Fatal(err)
		}
		binaryPath = filepath.Join(dir, "mlflow-bulk")
		out, err := exec.Command("go", "build", "-o", binaryPath, "../cmd/mlflow-bulk").CombinedOutput()
		if err != nil {
			t.Fatalf("build mlflow-bulk: %v\n%s", err, out)
		}
	})
	if binaryPath == "" {
		t.Fatal("mlflow-bulk was not built")
	}
	return binaryPath
}

// killMoments is how many moments TestKillAtAnyMoment samples per target and run of the
// suite (two: the importer package stays under a third of its timeout beside a CPU hog).
// Each run draws new moments (its seed is logged, MLFLOW_BULK_KILL_SEED replays
// it), so the suite covers more moments over time than one run could afford.
const killMoments = 2

// killSeed is the seed of the kill moments: MLFLOW_BULK_KILL_SEED when set, else new.
func killSeed(t *testing.T) uint64 {
	if s := os.Getenv("MLFLOW_BULK_KILL_SEED"); s != "" {
		seed, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("MLFLOW_BULK_KILL_SEED=%q: not a whole number", s)
		}
		return seed
	}
	return uint64(time.Now().UnixNano())
}

// TestKillAtAnyMoment kills the import process with SIGKILL at random moments
// (killMoments per target): no run is ever half-visible, and running the same command
// again ends with exactly what an uninterrupted import gives.
func TestKillAtAnyMoment(t *testing.T) {
	bin := binary(t)
	o := synth.Options{Experiments: 2, Runs: 40, MetricKeys: 3, Steps: 300, Params: 3, Tags: 2, Seed: 21}
	root, _ := synthStore(t, o)
	seed := killSeed(t)
	t.Logf("kill moments drawn with seed %d (MLFLOW_BULK_KILL_SEED=%d replays them)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, 7))
	for _, target := range targets {
		t.Run(target.name, func(t *testing.T) {
			clean := target.uri(t)
			if _, err := importPaths(t, clean, importer.Options{}, root); err != nil {
				t.Fatal(err)
			}
			want := targetContent(t, clean)
			start := time.Now()
			cmd := exec.Command(bin, "import", root, "--to", target.uri(t), "--batch-size", "2000", "--json")
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("uninterrupted run: %v\n%s", err, out)
			}
			full := time.Since(start)
			for k := 0; k < killMoments; k++ {
				uri := target.uri(t)
				args := []string{"import", root, "--to", uri, "--batch-size", "2000", "--json"}
				cmd := exec.Command(bin, args...)
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				delay := time.Duration(rng.Int64N(int64(full)))
				time.Sleep(delay)
				_ = cmd.Process.Signal(syscall.SIGKILL) // it may have finished already
				_ = cmd.Wait()                          // killed: its exit status says so
				checkWholeRuns(t, target.name, uri, o)
				t.Logf("killed after %s: %d runs committed", delay, committedRuns(t, target.name, uri))
				if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
					t.Fatalf("kill after %s, then re-run: %v\n%s", delay, err, out)
				}
				got := targetContent(t, uri)
				for table, rows := range want {
					compareSets(t, fmt.Sprintf("kill after %s: %s", delay, table), got[table], rows)
				}
				checkKeysBuilt(t, target.name, uri)
			}
		})
	}
}

// notCreated tells an SQLite target whose file the killed import had not created yet:
// there is nothing to read, and reading it must not create it.
func notCreated(uri string) bool {
	path, ok := strings.CutPrefix(uri, "sqlite:///")
	if !ok {
		return false
	}
	_, err := os.Stat(path)
	return errors.Is(err, os.ErrNotExist)
}

// checkWholeRuns asserts every run in the target is complete.
func checkWholeRuns(t *testing.T, target, uri string, o synth.Options) {
	if notCreated(uri) {
		return // killed before the database file was created
	}
	d := openDB(t, uri)
	defer d.close()
	tables := d.rows(tablesQuery[target])
	for _, needed := range []string{"runs", "metrics", "latest_metrics", "params"} {
		if !contains(tables, needed) {
			return // killed while the schema was being created
		}
	}
	for table, per := range map[string]int{"metrics": o.MetricKeys * o.Steps, "latest_metrics": o.MetricKeys, "params": o.Params} {
		if n := d.count(`SELECT COUNT(*) FROM runs r WHERE (SELECT COUNT(*) FROM ` + table + ` x WHERE x.run_uuid = r.run_uuid) <> ` + fmt.Sprint(per)); n != 0 {
			t.Errorf("%d runs visible without all their %s", n, table)
		}
	}
}

// committedRuns is how many runs a killed import left behind, for the log.
func committedRuns(t *testing.T, target, uri string) int {
	if notCreated(uri) {
		return 0
	}
	d := openDB(t, uri)
	defer d.close()
	if !contains(d.rows(tablesQuery[target]), "runs") {
		return 0
	}
	return d.count("SELECT COUNT(*) FROM runs")
}

// checkKeysBuilt asserts metrics has MLflow's keys and indexes, built after a bulk load
// into a new database: on PostgreSQL by name, on SQLite as the very schema a fresh
// database of the same revision holds (sqlite_master's texts), with a sound file.
func checkKeysBuilt(t *testing.T, target, uri string) {
	t.Helper()
	switch target {
	case "postgres":
		d := openDB(t, uri)
		defer d.close()
		got := d.rows("SELECT conname::text FROM pg_constraint WHERE conrelid = 'metrics'::regclass AND contype IN ('p', 'f') UNION ALL SELECT indexname::text FROM pg_indexes WHERE tablename = 'metrics'")
		want := "index_metrics_run_uuid,index_metrics_run_uuid_key_step,metric_pk,metric_pk,metrics_run_uuid_fkey"
		if strings.Join(got, ",") != want {
			t.Errorf("metrics' keys and indexes: %v, want %s", got, want)
		}
	case "sqlite":
		// mlflow-bulk's own table of run stamps aside.
		const objects = "SELECT type || ' ' || name || ' ' || tbl_name || ' ' || COALESCE(sql, '-') FROM sqlite_master WHERE substr(tbl_name, 1, 12) <> 'mlflow_bulk_'"
		d := openDB(t, uri)
		got := d.rows(objects)
		var rev string
		d.scanOne([]any{&rev}, "SELECT version_num FROM alembic_version")
		if ok := d.rows("PRAGMA integrity_check"); strings.Join(ok, ",") != "ok" {
			t.Errorf("integrity_check of the imported database: %v", ok)
		}
		if n := d.count("SELECT COUNT(*) FROM pragma_index_list('metrics') WHERE origin = 'pk' AND \"unique\" = 1"); n != 1 {
			t.Errorf("metrics has %d primary-key indexes", n)
		}
		d.close()
		fresh := testenv.SQLite(t)
		r, ok := schema.Lookup(rev)
		if !ok {
			t.Fatalf("revision %s unknown", rev)
		}
		createAt(t, fresh, r)
		f := openDB(t, fresh)
		defer f.close()
		if want := f.rows(objects); strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("the imported database's schema differs from a fresh one's:\n%s", cmp(got, want))
		}
	}
}

// cmp lists the lines of got and want that the other lacks.
func cmp(got, want []string) string {
	in := func(list []string) map[string]bool {
		m := map[string]bool{}
		for _, s := range list {
			m[s] = true
		}
		return m
	}
	g, w := in(got), in(want)
	var out []string
	for _, s := range got {
		if !w[s] {
			out = append(out, "+ "+s)
		}
	}
	for _, s := range want {
		if !g[s] {
			out = append(out, "- "+s)
		}
	}
	return strings.Join(out, "\n")
}

// TestVerifySeesEveryChange: each change to the target after a faithful import, and
// each change to the source after it, is a difference verify names, both ways: what
// the target holds beyond the source for an imported run counts as much as what it lacks.
func TestVerifySeesEveryChange(t *testing.T) {
	for _, target := range targets {
		t.Run(target.name, func(t *testing.T) {
			root, _ := synthStore(t, synth.Options{Experiments: 2, Runs: 18, MetricKeys: 2, Steps: 5, Params: 2, Tags: 1, Seed: 21})
			exps, _ := filepath.Glob(filepath.Join(root, "[1-9]*"))
			if len(exps) == 0 {
				t.Fatal("no experiment besides Default")
			}
			setUpFile(t, exps[0], "tags/team", "ml")
			runs := runDirs(t, root)
			ids := make([]string, len(runs))
			for i, r := range runs {
				ids[i] = filepath.Base(r)
			}
			uri := target.uri(t)
			if _, err := importPaths(t, uri, importer.Options{}, root); err != nil {
				t.Fatal(err)
			}
			if r := verifyPaths(t, uri, root); len(r.Differences) != 0 {
				t.Fatalf("a faithful import: %+v", r.Differences)
			}
			d := openDB(t, uri)
			var expA, expB, exp13 int64
			d.scanOne([]any{&expA}, "SELECT experiment_id FROM runs WHERE run_uuid = ?", ids[0])
			d.scanOne([]any{&expB}, "SELECT MAX(experiment_id) FROM experiments WHERE experiment_id <> ?", expA)
			d.scanOne([]any{&exp13}, "SELECT MIN(experiment_id) FROM experiments WHERE experiment_id NOT IN (SELECT experiment_id FROM runs WHERE run_uuid = ?)", ids[13])
			d.close()
			run := func(i int) string { return "'" + ids[i] + "'" }
			changes := []struct {
				run  int // -1: not of a run
				kind string
				stmt string
			}{
				{0, "metric points extra", `INSERT INTO metrics ("key", value, "timestamp", step, is_nan, run_uuid) VALUES ('metric_0', 42, 1, 999, false, ` + run(0) + `)`},
				{1, "metric key extra", `INSERT INTO metrics ("key", value, "timestamp", step, is_nan, run_uuid) VALUES ('added', 1, 1, 0, false, ` + run(1) + `)`},
				{2, "param extra", `INSERT INTO params ("key", value, run_uuid) VALUES ('added', 'x', ` + run(2) + `)`},
				{3, "tag extra", `INSERT INTO tags ("key", value, run_uuid) VALUES ('added', 'x', ` + run(3) + `)`},
				{4, "latest metric extra", `INSERT INTO latest_metrics ("key", value, "timestamp", step, is_nan, run_uuid) VALUES ('ghost', 1, 1, 0, false, ` + run(4) + `)`},
				{5, "latest metric wrong", `UPDATE latest_metrics SET is_nan = NOT is_nan WHERE run_uuid = ` + run(5) + ` AND "key" = 'metric_0'`},
				{6, "run differs", `UPDATE runs SET end_time = end_time + 1 WHERE run_uuid = ` + run(6)},
				{7, "run differs", `UPDATE runs SET start_time = start_time - 1 WHERE run_uuid = ` + run(7)},
				{8, "run differs", `UPDATE runs SET status = 'KILLED' WHERE run_uuid = ` + run(8)},
				{9, "run differs", `UPDATE runs SET lifecycle_stage = 'deleted' WHERE run_uuid = ` + run(9)},
				{10, "run differs", `UPDATE runs SET name = 'renamed' WHERE run_uuid = ` + run(10)},
				{11, "run differs", `UPDATE runs SET user_id = 'mallory' WHERE run_uuid = ` + run(11)},
				{12, "run differs", `UPDATE runs SET artifact_uri = 's3://elsewhere' WHERE run_uuid = ` + run(12)},
				{13, "run differs", fmt.Sprintf(`UPDATE runs SET experiment_id = %d WHERE run_uuid = %s`, exp13, run(13))},
				{-1, "experiment differs", fmt.Sprintf(`UPDATE experiments SET lifecycle_stage = 'deleted' WHERE experiment_id = %d`, expA)},
				{-1, "experiment differs", fmt.Sprintf(`UPDATE experiments SET artifact_location = 's3://moved' WHERE experiment_id = %d`, expB)},
				{-1, "experiment tag extra", fmt.Sprintf(`INSERT INTO experiment_tags ("key", value, experiment_id) VALUES ('added', 'x', %d)`, expB)},
				{-1, "run extra", fmt.Sprintf(`INSERT INTO runs (run_uuid, name, source_type, source_name, entry_point_name, user_id, status, start_time, source_version, lifecycle_stage, artifact_uri, experiment_id)
					VALUES ('added00000000000000000000000000a', 'added', 'LOCAL', '', '', 'u', 'FINISHED', 1, '', 'active', '', %d)`, expB)},
			}
			var stmts []string
			for _, c := range changes {
				stmts = append(stmts, c.stmt)
			}
			setUp(t, uri, stmts...)
			// And the source changes too: a run's end and status, a metric file removed, a
			// run deleted from it.
			rewriteMeta(t, runs[14], map[string]string{"end_time": "1", "status": "4"})
			if err := os.RemoveAll(runs[17]); err != nil {
				t.Fatal(err)
			}
			metricFiles, _ := filepath.Glob(filepath.Join(runs[15], "metrics", "*"))
			if err := os.Remove(metricFiles[0]); err != nil {
				t.Fatal(err)
			}
			changes = append(changes, struct {
				run  int
				kind string
				stmt string
			}{14, "run differs", ""}, struct {
				run  int
				kind string
				stmt string
			}{15, "metric key extra", ""}, struct {
				run  int
				kind string
				stmt string
			}{17, "run extra", ""})
			r := verifyPaths(t, uri, root)
			for _, c := range changes {
				found := false
				for _, diff := range r.Differences {
					found = found || diff.Kind == c.kind && (c.run < 0 || diff.RunID == ids[c.run])
				}
				if !found {
					t.Errorf("%s (%s) not found", c.kind, c.stmt)
				}
			}
			for _, diff := range r.Differences {
				if diff.RunID == ids[16] {
					t.Errorf("a difference in an untouched run: %+v", diff)
				}
			}
		})
	}
}

// termStopLimit is how long a signalled import may take to end: far more than the
// moment it needs, so that a busy machine does not fail the test, and far less than an
// import that ignored the signal and went on to the end would take there.
const termStopLimit = 15 * time.Second

// TestTermAtAnyMoment sends SIGTERM and SIGINT (as Ctrl-C does) at random moments (one of
// each per target, drawn with a logged seed as TestKillAtAnyMoment's): the process ends
// promptly with exit code 130, saying what was committed and how to finish, no run is
// half-visible, and the same command finishes the job.
func TestTermAtAnyMoment(t *testing.T) {
	bin := binary(t)
	o := synth.Options{Experiments: 2, Runs: 40, MetricKeys: 3, Steps: 300, Params: 3, Tags: 2, Seed: 23}
	root, _ := synthStore(t, o)
	seed := killSeed(t)
	t.Logf("signal moments drawn with seed %d (MLFLOW_BULK_KILL_SEED=%d replays them)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, 9))
	for _, target := range targets {
		t.Run(target.name, func(t *testing.T) {
			start := time.Now()
			if out, err := exec.Command(bin, "import", root, "--to", target.uri(t), "--batch-size", "2000").CombinedOutput(); err != nil {
				t.Fatalf("uninterrupted run: %v\n%s", err, out)
			}
			full := time.Since(start)
			for k := 0; k < 2; k++ {
				uri := target.uri(t)
				args := []string{"import", root, "--to", uri, "--batch-size", "2000"}
				cmd := exec.Command(bin, args...)
				var stderr strings.Builder
				cmd.Stderr = &stderr
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				delay := time.Duration(rng.Int64N(int64(full)))
				time.Sleep(delay)
				sig := syscall.SIGTERM
				if k%2 == 1 {
					sig = syscall.SIGINT
				}
				signalled := time.Now()
				_ = cmd.Process.Signal(sig) // it may have finished already
				err := cmd.Wait()
				took := time.Since(signalled)
				code := cmd.ProcessState.ExitCode()
				status, _ := cmd.ProcessState.Sys().(syscall.WaitStatus)
				switch {
				case err == nil:
					// finished before the signal arrived
				case status.Signaled() && status.Signal() == sig:
					// The signal came before the process had set up its handling (the
					// first milliseconds): it ended as a kill does, which the checks
					// below hold it to.
				case code != 130:
					t.Errorf("%s after %s: exit %d, want 130\n%s", sig, delay, code, stderr.String())
				case took > termStopLimit:
					t.Errorf("%s after %s: the process took %s to end", sig, delay, took)
				case !strings.Contains(stderr.String(), "committed") || !strings.Contains(stderr.String(), "same command"):
					t.Errorf("%s after %s: the message does not say what was committed and how to finish:\n%s", sig, delay, stderr.String())
				}
				checkWholeRuns(t, target.name, uri, o)
				if out, err := exec.Command(bin, append(args, "--verify")...).CombinedOutput(); err != nil {
					t.Fatalf("%s after %s, then the same command: %v\n%s", sig, delay, err, out)
				}
				checkKeysBuilt(t, target.name, uri)
			}
		})
	}
}
