package importer_test

import (
	"bufio"
	"context"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mlflow-bulk/mlflow-bulk/drivers/all"
	"github.com/mlflow-bulk/mlflow-bulk/importer"
	"github.com/mlflow-bulk/mlflow-bulk/internal/importtest"
	"github.com/mlflow-bulk/mlflow-bulk/internal/testenv"
	"github.com/mlflow-bulk/mlflow-bulk/remedy"
	"github.com/mlflow-bulk/mlflow-bulk/sinks"
	"gopkg.in/yaml.v3"
)

var fileStoreSamples = []string{
	"packt-hyperparam-mlflow1.x/mlruns",
	"lostpet-textintel-mlflow1.30/mlruns",
	"khangtt-zoomcamp-datasets-mlflow2/mlruns",
	"heart-mlops-bigids-mlflow3/mlruns",
}

// targets are the databases every end-to-end test runs against.
var targets = []struct {
	name string
	uri  func(testing.TB) string
}{
	{"sqlite", testenv.SQLite},
	{"postgres", testenv.Postgres},
	{"mariadb", testenv.MySQL},
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// importPaths runs an import of the given file stores into uri.
func importPaths(t *testing.T, uri string, opts importer.Options, paths ...string) (*importer.Report, error) {
	t.Helper()
	return importtest.Import(t, uri, opts, paths...)
}

// db queries a target for assertions.
type db struct {
	t     *testing.T
	tx    sinks.Tx
	close func()
}

// openDB opens a target read-only for assertions: it takes no import lock.
func openDB(t *testing.T, uri string) *db {
	ctx := ctxT(t)
	sink, err := all.Registry().Open(ctx, uri, sinks.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	tx, err := sink.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// SQLite transactions hold the write lock: close before importing again.
	done := false
	closeDB := func() {
		if !done {
			done = true
			_ = tx.Rollback(ctx) // read only
			sink.Close()
		}
	}
	t.Cleanup(closeDB)
	return &db{t: t, tx: tx, close: closeDB}
}

func (d *db) count(query string, args ...any) int {
	d.t.Helper()
	var n int64
	d.scanOne([]any{&n}, query, args...)
	return int(n)
}

func (d *db) scanOne(dest []any, query string, args ...any) {
	d.t.Helper()
	rows, err := d.tx.Query(context.Background(), query, args...)
	if err != nil {
		d.t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	if !rows.Next() {
		d.t.Fatalf("%s: no row", query)
	}
	if err := rows.Scan(dest...); err != nil {
		d.t.Fatalf("%s: %v", query, err)
	}
}

// rows returns every row of a query as strings, for set comparisons.
func (d *db) rows(query string, args ...any) []string {
	d.t.Helper()
	rows, err := d.tx.Query(context.Background(), query, args...)
	if err != nil {
		d.t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			d.t.Fatalf("%s: %v", query, err)
		}
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

// storeCounts is what a file store holds, counted without the importer's code: folder
// and file listings, and metric lines de-duplicated as text.
type storeCounts struct {
	experimentNames                                                  map[string]bool
	runs, params, tags, metrics, latest, datasets, inputs, inputTags int
}

func countStore(t *testing.T, root string) storeCounts {
	t.Helper()
	c := storeCounts{experimentNames: map[string]bool{}}
	active := map[string]bool{}
	var expDirs []string
	for _, parent := range []string{root, filepath.Join(root, ".trash")} {
		entries, _ := os.ReadDir(parent)
		for _, e := range entries {
			dir := filepath.Join(parent, e.Name())
			if !e.IsDir() || strings.HasPrefix(e.Name(), ".") || e.Name() == "models" || active[e.Name()] {
				continue
			}
			if _, err := os.Stat(filepath.Join(dir, "meta.yaml")); err != nil && e.Name() != "0" {
				continue
			}
			if parent == root {
				active[e.Name()] = true
			}
			expDirs = append(expDirs, dir)
		}
	}
	for _, dir := range expDirs {
		meta := readYAML(t, filepath.Join(dir, "meta.yaml"))
		name, _ := meta["name"].(string)
		if name == "" {
			name = "Default"
		}
		c.experimentNames[name] = true
		c.datasets += len(subdirsWithMeta(dir, "datasets"))
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			switch e.Name() {
			case "tags", "datasets", "traces", "models":
				continue
			}
			runDir := filepath.Join(dir, e.Name())
			if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
				continue
			}
			runMeta := readYAML(t, filepath.Join(runDir, "meta.yaml"))
			if runMeta == nil {
				continue
			}
			c.runs++
			c.params += len(filesUnder(runDir, "params"))
			tags := filesUnder(runDir, "tags")
			c.tags += len(tags)
			if name, _ := runMeta["run_name"].(string); name != "" && !contains(tags, "mlflow.runName") {
				c.tags++ // MLflow keeps runs.name and this tag equal
			}
			for _, f := range filesUnder(runDir, "metrics") {
				lines := distinctLines(t, filepath.Join(runDir, "metrics", f))
				c.metrics += len(lines)
				if len(lines) > 0 {
					c.latest++
				}
			}
			for _, in := range append(subdirsWithMeta(runDir, "inputs"), subdirsWithMeta(runDir, "outputs")...) {
				c.inputs++
				if tags, ok := readYAML(t, in)["tags"].(map[string]any); ok {
					c.inputTags += len(tags)
				}
			}
		}
	}
	return c
}

func readYAML(t *testing.T, path string) map[string]any {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var m map[string]any
	if err := yaml.Unmarshal(data, &m); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return m
}

func subdirsWithMeta(dir, sub string) []string {
	entries, _ := os.ReadDir(filepath.Join(dir, sub))
	var out []string
	for _, e := range entries {
		p := filepath.Join(dir, sub, e.Name(), "meta.yaml")
		if _, err := os.Stat(p); err == nil {
			out = append(out, p)
		}
	}
	return out
}

func filesUnder(dir, sub string) []string {
	var out []string
	base := filepath.Join(dir, sub)
	_ = filepath.WalkDir(base, func(p string, d os.DirEntry, err error) error { // a missing folder lists nothing
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(base, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	return out
}

func distinctLines(t *testing.T, path string) map[string]bool {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	lines := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			lines[l] = true
		}
	}
	return lines
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestImportRealFileStores imports every real file store into every target and checks
// that each table holds exactly what the store holds.
func TestImportRealFileStores(t *testing.T) {
	for _, target := range targets {
		for _, sample := range fileStoreSamples {
			t.Run(target.name+"/"+strings.Split(sample, "/")[0], func(t *testing.T) {
				root := testenv.Sample(t, sample)
				want := countStore(t, root)
				uri := target.uri(t)
				report, err := importPaths(t, uri, importer.Options{}, root)
				if err != nil {
					t.Fatalf("import: %v", err)
				}
				if !report.Complete || len(report.Rejected) != 0 {
					t.Fatalf("import incomplete or rejected input: %+v", report.Rejected)
				}
				d := openDB(t, uri)
				names := map[string]bool{"Default": true}
				for n := range want.experimentNames {
					names[n] = true
				}
				checks := []struct {
					table string
					want  int
				}{
					{"experiments", len(names)}, {"runs", want.runs}, {"params", want.params},
					{"tags", want.tags}, {"metrics", want.metrics}, {"latest_metrics", want.latest},
					{"datasets", want.datasets}, {"inputs", want.inputs}, {"input_tags", want.inputTags},
				}
				for _, c := range checks {
					if got := d.count("SELECT COUNT(*) FROM " + c.table); got != c.want {
						t.Errorf("%s: %d rows, the store holds %d", c.table, got, c.want)
					}
				}
				if got := report.Count("metrics").Created; int(got) != want.metrics {
					t.Errorf("report says %d metric rows created, the store holds %d", got, want.metrics)
				}
				// Every run's name equals its mlflow.runName tag, as MLflow keeps them.
				if n := d.count(`SELECT COUNT(*) FROM runs r JOIN tags t ON t.run_uuid = r.run_uuid AND t."key" = 'mlflow.runName' WHERE t.value <> r.name`); n != 0 {
					t.Errorf("%d runs whose name differs from their mlflow.runName tag", n)
				}
				// latest_metrics is the maximum of (step, timestamp, value) of the history.
				if n := d.count(`SELECT COUNT(*) FROM latest_metrics l WHERE EXISTS (
					SELECT 1 FROM metrics m WHERE m.run_uuid = l.run_uuid AND m."key" = l."key" AND
					(m.step > l.step OR (m.step = l.step AND (m.timestamp > l.timestamp OR
					(m.timestamp = l.timestamp AND m.value > l.value)))))`); n != 0 {
					t.Errorf("%d latest_metrics rows are not the latest point of their history", n)
				}
				d.close()
				checkKeysBuilt(t, target.name, uri)
				before := targetContent(t, uri)

				again, err := importPaths(t, uri, importer.Options{}, root)
				if err != nil {
					t.Fatalf("second import: %v", err)
				}
				if !again.NothingNew() {
					t.Errorf("second import of the same store wrote rows: %+v", again.Counts)
				}
				if got := again.Count("runs"); int(got.Skipped) != want.runs || got.Merged != 0 || got.Created != 0 {
					t.Errorf("second import: runs %+v, want all %d merged with nothing new", got, want.runs)
				}
				if after := targetContent(t, uri); !equalContent(after, before) {
					t.Error("a second import of the same store changed the target")
				}
			})
		}
	}
}

// TestImportRowByRow checks one real store value by value: every metric point, param,
// tag and run field as the files hold them.
func TestImportRowByRow(t *testing.T) {
	for _, target := range targets {
		t.Run(target.name, func(t *testing.T) {
			root := testenv.Sample(t, "lostpet-textintel-mlflow1.30/mlruns")
			uri := target.uri(t)
			if _, err := importPaths(t, uri, importer.Options{}, root); err != nil {
				t.Fatal(err)
			}
			d := openDB(t, uri)
			var wantMetrics, wantParams, wantRuns, wantLatest []string
			deleted := 0
			runDirs, _ := filepath.Glob(filepath.Join(root, "*", "*", "meta.yaml"))
			trashDirs, _ := filepath.Glob(filepath.Join(root, ".trash", "*", "*", "meta.yaml"))
			for _, metaPath := range append(runDirs, trashDirs...) {
				runDir := filepath.Dir(metaPath)
				if filepath.Base(filepath.Dir(runDir)) == ".trash" {
					continue // an experiment's meta.yaml, not a run's
				}
				meta := readYAML(t, metaPath)
				id := meta["run_id"].(string)
				if meta["lifecycle_stage"] == "deleted" {
					deleted++
				}
				end := "null"
				if v, ok := meta["end_time"].(int); ok {
					end = strconv.Itoa(v)
				}
				status := map[int]string{1: "RUNNING", 3: "FINISHED", 4: "FAILED", 5: "KILLED"}[meta["status"].(int)]
				wantRuns = append(wantRuns, strings.Join([]string{id, meta["run_name"].(string), status,
					strconv.Itoa(meta["start_time"].(int)), end, meta["lifecycle_stage"].(string), meta["artifact_uri"].(string), meta["user_id"].(string)}, "|"))
				for _, p := range filesUnder(runDir, "params") {
					v, _ := os.ReadFile(filepath.Join(runDir, "params", p))
					wantParams = append(wantParams, id+"|"+p+"|"+string(v))
				}
				for _, key := range filesUnder(runDir, "metrics") {
					var best []float64
					for line := range distinctLines(t, filepath.Join(runDir, "metrics", key)) {
						f := strings.Fields(line)
						ts, _ := strconv.ParseInt(f[0], 10, 64)
						v, _ := strconv.ParseFloat(f[1], 64)
						step, _ := strconv.ParseInt(f[2], 10, 64)
						isNaN := math.IsNaN(v)
						if isNaN {
							v = 0
						}
						wantMetrics = append(wantMetrics, metricText(id, key, v, ts, step, isNaN))
						cand := []float64{float64(step), float64(ts), v}
						if best == nil || cand[0] > best[0] || (cand[0] == best[0] && (cand[1] > best[1] || (cand[1] == best[1] && cand[2] > best[2]))) {
							best = cand
						}
					}
					wantLatest = append(wantLatest, metricText(id, key, best[2], int64(best[1]), int64(best[0]), false))
				}
			}
			if len(wantRuns) != 30 || deleted != 11 || len(wantMetrics) != 453 {
				t.Fatalf("the sample's README promises 30 runs (11 deleted) and 453 metric rows; the test read %d (%d) and %d", len(wantRuns), deleted, len(wantMetrics))
			}
			gotRuns := d.rows(`SELECT run_uuid || '|' || name || '|' || status || '|' || CAST(start_time AS CHAR(20)) || '|' ||
				COALESCE(CAST(end_time AS CHAR(20)), 'null') || '|' || lifecycle_stage || '|' || artifact_uri || '|' || user_id FROM runs`)
			compareSets(t, "runs", gotRuns, wantRuns)
			compareSets(t, "params", d.rows(`SELECT run_uuid || '|' || "key" || '|' || value FROM params`), wantParams)
			compareSets(t, "metrics", readMetrics(t, d, "metrics"), wantMetrics)
			compareSets(t, "latest_metrics", readMetrics(t, d, "latest_metrics"), wantLatest)
		})
	}
}

func metricText(run, key string, v float64, ts, step int64, isNaN bool) string {
	return strings.Join([]string{run, key, strconv.FormatFloat(v, 'g', -1, 64), strconv.FormatInt(ts, 10), strconv.FormatInt(step, 10), strconv.FormatBool(isNaN)}, "|")
}

func readMetrics(t *testing.T, d *db, table string) []string {
	rows, err := d.tx.Query(context.Background(), `SELECT run_uuid, "key", value, "timestamp", step, is_nan FROM `+table)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var run, key string
		var v float64
		var ts, step int64
		var isNaN bool
		if err := rows.Scan(&run, &key, &v, &ts, &step, &isNaN); err != nil {
			t.Fatal(err)
		}
		out = append(out, metricText(run, key, v, ts, step, isNaN))
	}
	sort.Strings(out)
	return out
}

func compareSets(t *testing.T, what string, got, want []string) {
	t.Helper()
	sort.Strings(want)
	g, w := map[string]bool{}, map[string]bool{}
	for _, s := range got {
		g[s] = true
	}
	for _, s := range want {
		w[s] = true
	}
	missing, extra := 0, 0
	for s := range w {
		if !g[s] {
			if missing < 3 {
				t.Errorf("%s: missing %q", what, s)
			}
			missing++
		}
	}
	for s := range g {
		if !w[s] {
			if extra < 3 {
				t.Errorf("%s: unexpected %q", what, s)
			}
			extra++
		}
	}
	if len(got) != len(want) || missing+extra > 0 {
		t.Errorf("%s: %d rows, want %d (%d missing, %d unexpected)", what, len(got), len(want), missing, extra)
	}
}

// hasRemedy reports whether err names option as a way past it.
func hasRemedy(err error, option remedy.Option) bool {
	return slices.ContainsFunc(remedy.Of(err), func(r remedy.Remedy) bool { return r.Option == option })
}
