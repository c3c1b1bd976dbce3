package trackingserver_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/mlflow-bulk/mlflow-bulk/drivers/all"
	"github.com/mlflow-bulk/mlflow-bulk/importer"
	"github.com/mlflow-bulk/mlflow-bulk/internal/importtest"
	"github.com/mlflow-bulk/mlflow-bulk/internal/testenv"
	"github.com/mlflow-bulk/mlflow-bulk/schema"
	"github.com/mlflow-bulk/mlflow-bulk/schema/live"
	"github.com/mlflow-bulk/mlflow-bulk/sinks"
	"github.com/mlflow-bulk/mlflow-bulk/tablerows"
	"github.com/mlflow-bulk/mlflow-bulk/verify"
)

// serverSamples are the real samples, file stores and databases, that MLflow's server
// serves in the tests, each into every target.
var serverSamples = []string{
	"khangtt-zoomcamp-datasets-mlflow2/mlruns",
	"shisian512-registry-aliases/mlruns",
	"packt-hyperparam-mlflow1.x/mlruns",
	"heart-mlops-bigids-mlflow3/mlruns",
	"dmatrix-logged-models/mlruns",
	"lostpet-textintel-mlflow1.30/mlruns",
	"janzheng-groq-traces/mlruns",
	"sh0r0ukk-agentic-traces-v3/mlruns",
	"hcigu-pgpt-sqlite-prompts/backend/mlflow.db",
	"sqlite-bloodglucose-mlflow3/mlflow/mlflow.db",
	"sqlite-peco602-zoomcamp-mlflow1.26/02-experiment-tracking/mlflow.db",
	"sqlite-arnaud-p7sentiment-mlflow2.2x/notebooks/mlflow.db",
	"yizhehong-ecu-agent-sqlite/mlflow.db",
}

// notCarried are the columns MLflow's REST API does not give, which the import's notice
// names.
var notCarried = map[string][]string{
	"runs":                 {"deleted_time", "source_type", "source_name", "entry_point_name", "source_version"},
	"datasets":             {"dataset_uuid"},
	"inputs":               {"input_uuid", "source_id"},
	"input_tags":           {"input_uuid"},
	"logged_model_metrics": {"experiment_id"},
	"registered_models":    {"description"},
	"model_versions":       {"storage_location"},
}

func notRead(table string) bool {
	return table == "alembic_version" || strings.HasPrefix(table, "mlflow_bulk")
}

// TestServerAsSource: each real sample, in a database MLflow's own server serves, comes
// through its REST API into every target equal to a direct import of that database, but
// the columns the API does not carry, which the report names; verify against the server
// finds nothing.
func TestServerAsSource(t *testing.T) {
	t.Parallel() // each waits on its own MLflow server starting
	rev311, err := schema.ForRelease("3.11")
	if err != nil {
		t.Fatal(err)
	}
	for _, sample := range serverSamples {
		t.Run(strings.SplitN(sample, "/", 2)[0], func(t *testing.T) {
			t.Parallel() // most of a sample's time is its server starting, which waits
			path := testenv.Sample(t, sample)
			if strings.HasSuffix(path, ".db") {
				path = "sqlite:///" + path
			}
			dir := t.TempDir()
			src := "sqlite:///" + filepath.Join(dir, "src.db")
			if _, err := importtest.Import(t, src, importer.Options{SchemaRevision: rev311}, path); err != nil {
				t.Fatalf("the database the server serves: %v", err)
			}
			leavePartialTrace(t, filepath.Join(dir, "src.db"))
			served := filepath.Join(dir, "served.db")
			copyFile(t, filepath.Join(dir, "src.db"), served)
			url := spansGateway(t, testenv.MLflowServer(t, "sqlite:///"+served), served)
			for _, target := range importtest.Targets {
				t.Run(target.Name, func(t *testing.T) {
					viaREST, direct := target.URI(t), target.URI(t)
					report, err := importtest.Import(t, viaREST, importer.Options{}, url)
					if err != nil {
						t.Fatalf("through REST: %v", err)
					}
					if notes := strings.Join(report.Notices, "\n"); !strings.Contains(notes, "does not carry runs.deleted_time") {
						t.Errorf("the report does not name what REST does not carry: %s", notes)
					}
					if _, err := importtest.Import(t, direct, importer.Options{}, src); err != nil {
						t.Fatalf("direct: %v", err)
					}
					compareTargets(t, direct, viaREST)
					if vr := importtest.Verify(t, viaREST, verify.Options{}, url); len(vr.Differences) > 0 {
						t.Errorf("verify against the server: %+v", vr.Differences)
					}
				})
			}
		})
	}
}

// leavePartialTrace takes one span out of a trace whose spans the database keeps, as
// if the trace were still being written: the server's batch answer leaves such a trace
// out, and it is read alone.
func leavePartialTrace(t *testing.T, path string) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`DELETE FROM spans WHERE rowid = (SELECT max(rowid) FROM spans WHERE parent_span_id IS NOT NULL)`); err != nil {
		t.Fatal(err)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// compareTargets fails for every row of a table one target holds and the other does not,
// the columns REST does not carry left out.
func compareTargets(t *testing.T, want, got string) {
	t.Helper()
	a, b := readTables(t, want), readTables(t, got)
	for table, rows := range a {
		other := b[table]
		var missing, extra []string
		for k := range rows {
			if _, ok := other[k]; !ok {
				missing = append(missing, k)
			}
		}
		for k := range other {
			if _, ok := rows[k]; !ok {
				extra = append(extra, k)
			}
		}
		sort.Strings(missing)
		sort.Strings(extra)
		if len(missing)+len(extra) > 0 {
			t.Errorf("%s: %d rows, through REST %d; missing %q; extra %q", table, len(rows), len(other), first(missing), first(extra))
		}
	}
}

func first(s []string) []string { return s[:min(3, len(s))] }

// readTables reads every table a test compares, each row keyed by all its columns.
func readTables(t *testing.T, uri string) map[string]map[string][]any {
	t.Helper()
	ctx := context.Background()
	sink, err := all.Registry().Open(ctx, uri, sinks.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	tx, err := sink.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	d := sink.Dialect()
	tables, err := live.Inspect(ctx, tx, d)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string][]any{}
	for name, info := range tables {
		if notRead(name) {
			continue
		}
		var names []string
		for _, c := range info.Columns {
			if !contains(notCarried[name], c.Name) {
				names = append(names, c.Name)
			}
		}
		key := make([]int, len(names))
		for i := range key {
			key[i] = i
		}
		read := map[string][]any{}
		if err := tablerows.ReadRows(ctx, tx, d, info, names, key, "1 = 1", nil, read); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		rows := map[string][]any{}
		for _, row := range read {
			if name == "assessments" {
				for i, c := range names {
					if c == "value" || c == "error" || c == "assessment_metadata" {
						row[i] = canonicalJSON(row[i])
					}
				}
			}
			rows[tablerows.RowKey(row, key)] = row
		}
		out[name] = rows
	}
	if len(out) == 0 {
		t.Fatalf("%s holds no tables", uri)
	}
	return out
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// canonicalJSON is a JSON text with its objects' keys sorted: MLflow writes an
// assessment's maps in no fixed order, so two writes of one assessment may differ in it.
func canonicalJSON(v any) any {
	var text string
	switch x := v.(type) {
	case string:
		text = x
	case []byte:
		text = string(x)
	default:
		return v
	}
	var parsed any
	if err := json.Unmarshal([]byte(text), &parsed); err != nil {
		return v
	}
	out, err := json.Marshal(parsed)
	if err != nil {
		return v
	}
	return string(out)
}
