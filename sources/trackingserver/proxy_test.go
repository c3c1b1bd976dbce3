package trackingserver_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mlflow-bulk/mlflow-bulk/drivers/all"
	"github.com/mlflow-bulk/mlflow-bulk/importer"
	"github.com/mlflow-bulk/mlflow-bulk/importer/rules"
	"github.com/mlflow-bulk/mlflow-bulk/internal/importtest"
	"github.com/mlflow-bulk/mlflow-bulk/internal/testenv"
	"github.com/mlflow-bulk/mlflow-bulk/schema"
	"github.com/mlflow-bulk/mlflow-bulk/sinks"
	"github.com/mlflow-bulk/mlflow-bulk/sources"
	"github.com/mlflow-bulk/mlflow-bulk/sources/sourcetest"
	"github.com/mlflow-bulk/mlflow-bulk/sources/trackingserver"
)

// servedSample starts MLflow's server over a database filled from a real sample, and
// returns its URL and the URI of the database as it was filled (the server upgrades its
// own copy, which servedDB names).
func servedSample(t *testing.T, sample string, args ...string) (string, string) {
	url, src, _ := servedDB(t, sample, args...)
	return url, src
}

// servedDB is servedSample, with the URI of the database the server writes.
func servedDB(t *testing.T, sample string, args ...string) (string, string, string) {
	t.Helper()
	rev311, err := schema.ForRelease("3.11")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	src := "sqlite:///" + filepath.Join(dir, "src.db")
	path := testenv.Sample(t, sample)
	if strings.HasSuffix(path, ".db") {
		path = "sqlite:///" + path
	}
	if _, err := importtest.Import(t, src, importer.Options{SchemaRevision: rev311}, path); err != nil {
		t.Fatal(err)
	}
	served := filepath.Join(dir, "served.db")
	copyFile(t, filepath.Join(dir, "src.db"), served)
	return testenv.MLflowServer(t, "sqlite:///"+served, args...), src, "sqlite:///" + served
}

// flakyProxy stands in front of MLflow's server as a gateway would: it checks the
// credentials, and fails the first requests of each path, by turns with 503 and a
// Retry-After, 429, and a connection closed mid-request.
type flakyProxy struct {
	check func(*http.Request) bool
	proxy *httputil.ReverseProxy
	mu    sync.Mutex
	seen  map[string]int
	// refused counts the 503 and 429 answers, dropped the connections closed.
	refused, dropped int
}

func (p *flakyProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !p.check(r) {
		http.Error(w, `{"error_code": "UNAUTHENTICATED", "message": "credentials refused"}`, http.StatusUnauthorized)
		return
	}
	p.mu.Lock()
	p.seen[r.URL.Path]++
	n := p.seen[r.URL.Path]
	// Which refusal a path gets is read under the lock, as other requests add paths.
	even := len(p.seen)%2 == 0
	switch n {
	case 1:
		p.refused++
	case 2:
		p.dropped++
	}
	p.mu.Unlock()
	switch n {
	case 1:
		if even {
			w.Header().Set("Retry-After", "7")
			http.Error(w, "restarting", http.StatusServiceUnavailable)
		} else {
			http.Error(w, `{"error_code": "REQUEST_LIMIT_EXCEEDED", "message": "slow down"}`, http.StatusTooManyRequests)
		}
		return
	case 2:
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			_ = conn.Close() // the connection goes away without an answer
		}
		return
	}
	p.proxy.ServeHTTP(w, r)
}

func newFlakyProxy(t *testing.T, server string, check func(*http.Request) bool) (*flakyProxy, string) {
	t.Helper()
	u, err := url.Parse(server)
	if err != nil {
		t.Fatal(err)
	}
	p := &flakyProxy{check: check, proxy: httputil.NewSingleHostReverseProxy(u), seen: map[string]int{}}
	front := httptest.NewServer(p)
	t.Cleanup(front.Close)
	return p, front.URL
}

// importThrough imports the server at location into a new SQLite database.
func importThrough(t *testing.T, location string, opts trackingserver.Options) (string, *importer.Report, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	uri := testenv.SQLite(t)
	sink, err := all.Registry().Open(ctx, uri, sinks.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	src, err := trackingserver.Open(ctx, location, opts)
	if err != nil {
		return uri, nil, err
	}
	defer src.Close()
	report, err := importer.Import(ctx, sink, []sources.Source{src}, importer.Options{})
	return uri, report, err
}

func env(vars map[string]string) func(string) string { return func(k string) string { return vars[k] } }

// TestRetriesAndCredentials: behind a gateway that checks MLflow's client credentials and
// refuses or drops the first requests of every endpoint, the import waits as asked
// (Retry-After, else backing off), goes on, and ends equal to a direct import; refused
// credentials stop it with an error that names the endpoint and not the secret.
func TestRetriesAndCredentials(t *testing.T) {
	t.Parallel() // each waits on its own MLflow server starting
	server, src := servedSample(t, "shisian512-registry-aliases/mlruns")
	direct := testenv.SQLite(t)
	if _, err := importtest.Import(t, direct, importer.Options{}, src); err != nil {
		t.Fatal(err)
	}
	const token = "s3cret-token-value"
	cases := []struct {
		name  string
		check func(*http.Request) bool
		vars  map[string]string
	}{
		{"token", func(r *http.Request) bool { return r.Header.Get("Authorization") == "Bearer "+token }, map[string]string{"MLFLOW_TRACKING_TOKEN": token}},
		{"basic", func(r *http.Request) bool { u, p, ok := r.BasicAuth(); return ok && u == "ana" && p == token },
			map[string]string{"MLFLOW_TRACKING_USERNAME": "ana", "MLFLOW_TRACKING_PASSWORD": token}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			proxy, front := newFlakyProxy(t, server, c.check)
			var mu sync.Mutex
			var waits []time.Duration
			sleep := func(_ context.Context, d time.Duration) error {
				mu.Lock()
				defer mu.Unlock()
				waits = append(waits, d)
				return nil
			}
			uri, _, err := importThrough(t, front, trackingserver.Options{Getenv: env(c.vars), Sleep: sleep})
			if err != nil {
				t.Fatalf("through the flaky gateway: %v", err)
			}
			compareTargets(t, direct, uri)
			// Every refusal is waited out; a dropped connection Go's transport may retry
			// itself, at once, for a request it knows it may repeat.
			proxy.mu.Lock()
			refused, dropped := proxy.refused, proxy.dropped
			proxy.mu.Unlock()
			if refused == 0 || len(waits) < refused || len(waits) > refused+dropped {
				t.Errorf("%d waits for %d refused and %d dropped requests", len(waits), refused, dropped)
			}
			asked := false
			for _, w := range waits {
				asked = asked || w == 7*time.Second
			}
			if !asked {
				t.Errorf("Retry-After: 7 was not honoured: waits %v", waits)
			}
			_, _, err = importThrough(t, front, trackingserver.Options{Getenv: env(map[string]string{"MLFLOW_TRACKING_TOKEN": "wrong"}), Sleep: sleep})
			if err == nil || !strings.Contains(err.Error(), "401") || strings.Contains(err.Error(), token) {
				t.Errorf("refused credentials: %v", err)
			}
		})
	}
}

// TestDescribeHidesPassword: a password in the URI is never in what the source says of
// itself.
func TestDescribeHidesPassword(t *testing.T) {
	src, err := trackingserver.Open(context.Background(), "http://ana:pa55word@127.0.0.1:1/", trackingserver.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if d := src.Describe(); strings.Contains(d, "pa55word") || !strings.Contains(d, "127.0.0.1:1") {
		t.Errorf("Describe() = %q", d)
	}
}

// TestConformance: the server's stream keeps the source contract.
func TestConformance(t *testing.T) {
	t.Parallel() // each waits on its own MLflow server starting
	// Workers of its own: the tests that cancel leave a request the server waits out.
	server, _ := servedSample(t, "sqlite-bloodglucose-mlflow3/mlflow/mlflow.db", "--workers", "3")
	sourcetest.Run(t, func(t *testing.T, ctx context.Context) sources.Source {
		src, err := trackingserver.Open(ctx, server, trackingserver.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return src
	})
}

// countingProxy counts the requests to each path on their way to the server.
type countingProxy struct {
	proxy *httputil.ReverseProxy
	mu    sync.Mutex
	calls map[string]int
}

func (p *countingProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	p.calls[r.URL.Path]++
	p.mu.Unlock()
	p.proxy.ServeHTTP(w, r)
}

// countedServer puts a countingProxy in front of server, closed when the test ends.
func countedServer(t *testing.T, server string) (*countingProxy, *httptest.Server) {
	t.Helper()
	u, err := url.Parse(server)
	if err != nil {
		t.Fatal(err)
	}
	counter := &countingProxy{proxy: httputil.NewSingleHostReverseProxy(u), calls: map[string]int{}}
	front := httptest.NewServer(counter)
	t.Cleanup(front.Close)
	return counter, front
}

func (p *countingProxy) count(path string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := p.calls[path]
	p.calls = map[string]int{}
	return n
}

// TestReimportSkipsUnchangedRuns: a second import from the same server reads no metric
// history of a run it holds as the server shows it; a run that gained a point since is
// read again, and the target gains the point.
func TestReimportSkipsUnchangedRuns(t *testing.T) {
	t.Parallel() // each waits on its own MLflow server starting
	server, _ := servedSample(t, "khangtt-zoomcamp-datasets-mlflow2/mlruns")
	counter, front := countedServer(t, server)
	target := testenv.SQLite(t)
	importInto := func() *importer.Report {
		t.Helper()
		ctx := context.Background()
		sink, err := all.Registry().Open(ctx, target, sinks.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer sink.Close()
		src, err := trackingserver.Open(ctx, front.URL, trackingserver.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer src.Close()
		report, err := importer.Import(ctx, sink, []sources.Source{src}, importer.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return report
	}
	first := importInto()
	runs := first.Count("runs").Created
	if histories := counter.count("/api/2.0/mlflow/metrics/get-history"); runs == 0 || histories == 0 {
		t.Fatalf("the first import read %d runs with %d history requests", runs, histories)
	}
	again := importInto()
	if again.UnchangedRuns != runs || !again.NothingNew() {
		t.Errorf("the second import: %d runs unchanged of %d, counts %+v", again.UnchangedRuns, runs, again.Counts)
	}
	if n := counter.count("/api/2.0/mlflow/metrics/get-history"); n != 0 {
		t.Errorf("the second import asked for %d histories", n)
	}
	// A point past the latest of a run's metric: that run is read again, the others not.
	runID := first.CreatedRuns[0]
	body := strings.NewReader(`{"run_id": "` + runID + `", "key": "late_metric", "value": 1.5, "timestamp": 1900000000000, "step": 99}`)
	resp, err := http.Post(server+"/api/2.0/mlflow/runs/log-metric", "application/json", body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("log a metric on the server: %v %v", resp, err)
	}
	_ = resp.Body.Close()
	third := importInto()
	if third.UnchangedRuns != runs-1 || third.Count("metrics").Created != 1 {
		t.Errorf("after a point was logged: %d runs unchanged of %d, metrics %+v", third.UnchangedRuns, runs, third.Count("metrics"))
	}
}

// TestTraceAssessments: assessments MLflow's server records on a trace (a feedback with a
// nested value, an error and metadata; an expectation on a span) come through its REST
// API as its database holds them.
func TestTraceAssessments(t *testing.T) {
	t.Parallel() // each waits on its own MLflow server starting
	server, _, served := servedDB(t, "janzheng-groq-traces/mlruns")
	var found struct {
		Traces []struct {
			TraceID       string `json:"trace_id"`
			TraceLocation struct {
				MLflowExperiment struct {
					ExperimentID string `json:"experiment_id"`
				} `json:"mlflow_experiment"`
			} `json:"trace_location"`
		} `json:"traces"`
	}
	post := func(path, body string, out any) {
		t.Helper()
		resp, err := http.Post(server+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: HTTP %d", path, resp.StatusCode)
		}
		if out != nil {
			if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
				t.Fatal(err)
			}
		}
	}
	var experiments struct {
		Experiments []struct {
			ID string `json:"experiment_id"`
		} `json:"experiments"`
	}
	post("/api/2.0/mlflow/experiments/search", `{"max_results": 100}`, &experiments)
	for _, e := range experiments.Experiments {
		post("/api/3.0/mlflow/traces/search", `{"locations": [{"type": "MLFLOW_EXPERIMENT", "mlflow_experiment": {"experiment_id": "`+e.ID+`"}}], "max_results": 1}`, &found)
		if len(found.Traces) > 0 {
			break
		}
	}
	if len(found.Traces) == 0 {
		t.Fatal("the sample's server shows no trace")
	}
	id := found.Traces[0].TraceID
	post("/api/3.0/mlflow/traces/"+id+"/assessments", `{"assessment": {"trace_id": "`+id+`", "assessment_name": "correct",
		"source": {"source_type": "LLM_JUDGE", "source_id": "judge@x"},
		"feedback": {"value": {"b": [1, 2.5], "a": "\u00e9"}, "error": {"error_code": "TIMEOUT", "error_message": "slow"}},
		"rationale": "fine", "metadata": {"z": "1", "mlflow.assessment.sourceRunId": "abc"}}}`, nil)
	post("/api/3.0/mlflow/traces/"+id+"/assessments", `{"assessment": {"trace_id": "`+id+`", "assessment_name": "expected", "span_id": "s1",
		"source": {"source_type": "HUMAN", "source_id": "ann"}, "expectation": {"value": "PASS"}}}`, nil)
	viaREST, direct := testenv.SQLite(t), testenv.SQLite(t)
	if _, err := importtest.Import(t, viaREST, importer.Options{}, server); err != nil {
		t.Fatal(err)
	}
	if _, err := importtest.Import(t, direct, importer.Options{}, served); err != nil {
		t.Fatal(err)
	}
	compareTargets(t, direct, viaREST)
	if n := len(readTables(t, viaREST)["assessments"]); n != 2 {
		t.Errorf("%d assessments through REST, want 2", n)
	}
}

// TestRefusedAtOnce: a server that refuses the first connection is most likely a wrong
// address: the source says so at once, without waiting out retries.
func TestRefusedAtOnce(t *testing.T) {
	l := httptest.NewServer(http.NotFoundHandler())
	addr := l.URL
	l.Close() // nothing listens there now
	waited := 0
	src, err := trackingserver.Open(context.Background(), addr, trackingserver.Options{Sleep: func(context.Context, time.Duration) error { waited++; return nil }})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	for src.Next() {
	}
	if err := src.Err(); err == nil || !strings.Contains(err.Error(), "is the server running") || waited != 0 {
		t.Errorf("a refused first connection: %v, after %d waits", err, waited)
	}
}

// TestSelectionAsksOnlyForItsRuns: under an experiment selection the server is asked for
// the runs of the experiments taken only; the others are still handed over, and the
// import names them as left out.
func TestSelectionAsksOnlyForItsRuns(t *testing.T) {
	t.Parallel() // each waits on its own MLflow server starting
	server, _ := servedSample(t, "packt-hyperparam-mlflow1.x/mlruns")
	counter, front := countedServer(t, server)
	filter := rules.Filter{Experiments: []string{"example1"}}
	ctx := context.Background()
	sink, err := all.Registry().Open(ctx, testenv.SQLite(t), sinks.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	src, err := trackingserver.Open(ctx, front.URL, trackingserver.Options{TakesExperiment: func(e *sources.Experiment) bool {
		ok, _ := filter.TakesExperiment(e)
		return ok
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	report, err := importer.Import(ctx, sink, []sources.Source{src}, importer.Options{Filter: filter})
	if err != nil {
		t.Fatal(err)
	}
	if n := counter.count("/api/2.0/mlflow/runs/search"); n != 1 {
		t.Errorf("%d runs searches, want one: of example1's runs alone", n)
	}
	if runs := report.Count("runs"); runs.Created != 2 || runs.Read != 2 {
		t.Errorf("runs %+v, want example1's 2 read and created", runs)
	}
	if notes := strings.Join(report.Notices, "\n"); !strings.Contains(notes, `experiment "Default" left out`) {
		t.Errorf("the experiment left out is not named: %s", notes)
	}
}
