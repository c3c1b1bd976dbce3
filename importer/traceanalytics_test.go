package importer_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/mlflow-bulk/mlflow-bulk/importer"
	"github.com/mlflow-bulk/mlflow-bulk/internal/testenv"
	"github.com/mlflow-bulk/mlflow-bulk/schema"
	"github.com/mlflow-bulk/mlflow-bulk/schema/live"
)

// The revision of a late-September 2026 MLflow master, after 3.17's trace analytics.
const analyticsRevision = "dc11669786a5"

// upgradeTo317 holds, per dialect, what MLflow's migrations from 3.14 to dc11669786a5 do
// to the tables traces and experiments live in (trace analytics, the rollup tables,
// experiment tag values as TEXT, jobs.creator), translated from the migrations.
var upgradeTo317 = map[string][]string{
	"postgresql": {
		`ALTER TABLE trace_info ADD COLUMN trace_name VARCHAR(4096), ADD COLUMN session_id VARCHAR(250), ADD COLUMN input_tokens BIGINT, ADD COLUMN output_tokens BIGINT,
			ADD COLUMN total_tokens BIGINT, ADD COLUMN cache_read_input_tokens BIGINT, ADD COLUMN cache_creation_input_tokens BIGINT, ADD COLUMN cache_creation_input_tokens_above_1hr BIGINT,
			ADD COLUMN input_cost DOUBLE PRECISION, ADD COLUMN output_cost DOUBLE PRECISION, ADD COLUMN total_cost DOUBLE PRECISION`,
		`ALTER TABLE assessments ADD COLUMN experiment_id INTEGER, ADD COLUMN trace_timestamp_ms BIGINT, ADD COLUMN aggregate_value DOUBLE PRECISION, ADD COLUMN is_numeric_value BOOLEAN DEFAULT false NOT NULL`,
		`ALTER TABLE spans ADD COLUMN input_cost DOUBLE PRECISION, ADD COLUMN output_cost DOUBLE PRECISION, ADD COLUMN total_cost DOUBLE PRECISION,
			ADD COLUMN model_name VARCHAR(500), ADD COLUMN model_provider VARCHAR(500), DROP COLUMN dimension_attributes`,
		`ALTER TABLE experiment_tags ALTER COLUMN value TYPE TEXT`,
		`ALTER TABLE jobs ADD COLUMN creator VARCHAR(255)`,
		`CREATE TABLE sql_trace_metric_daily_rollups (id BIGSERIAL NOT NULL, experiment_id INTEGER NOT NULL, rollup_day DATE NOT NULL, metric_name VARCHAR(250) NOT NULL,
			grouping_set VARCHAR(50) NOT NULL, trace_status VARCHAR(50), sample_count BIGINT NOT NULL, sum_value DOUBLE PRECISION, min_value DOUBLE PRECISION, max_value DOUBLE PRECISION,
			p50_value DOUBLE PRECISION, p90_value DOUBLE PRECISION, p99_value DOUBLE PRECISION, CONSTRAINT sql_trace_metric_daily_rollups_pk PRIMARY KEY (id))`,
		`CREATE TABLE sql_trace_rollup_rebuild_queue (experiment_id INTEGER NOT NULL, rollup_day DATE NOT NULL, rollup_family VARCHAR(50) NOT NULL,
			CONSTRAINT sql_trace_rollup_rebuild_queue_pk PRIMARY KEY (experiment_id, rollup_day, rollup_family))`,
		`UPDATE alembic_version SET version_num = '` + analyticsRevision + `'`,
	},
	"mysql": {
		`ALTER TABLE trace_info ADD COLUMN trace_name VARCHAR(4096), ADD COLUMN session_id VARCHAR(250), ADD COLUMN input_tokens BIGINT, ADD COLUMN output_tokens BIGINT,
			ADD COLUMN total_tokens BIGINT, ADD COLUMN cache_read_input_tokens BIGINT, ADD COLUMN cache_creation_input_tokens BIGINT, ADD COLUMN cache_creation_input_tokens_above_1hr BIGINT,
			ADD COLUMN input_cost DOUBLE, ADD COLUMN output_cost DOUBLE, ADD COLUMN total_cost DOUBLE`,
		"ALTER TABLE assessments ADD COLUMN experiment_id INTEGER, ADD COLUMN trace_timestamp_ms BIGINT, ADD COLUMN aggregate_value DOUBLE, ADD COLUMN is_numeric_value BOOL DEFAULT false NOT NULL",
		`ALTER TABLE spans ADD COLUMN input_cost DOUBLE, ADD COLUMN output_cost DOUBLE, ADD COLUMN total_cost DOUBLE,
			ADD COLUMN model_name VARCHAR(500), ADD COLUMN model_provider VARCHAR(500), DROP COLUMN dimension_attributes`,
		"ALTER TABLE experiment_tags MODIFY value MEDIUMTEXT",
		"ALTER TABLE jobs ADD COLUMN creator VARCHAR(255)",
		`CREATE TABLE sql_trace_metric_daily_rollups (id BIGINT NOT NULL AUTO_INCREMENT, experiment_id INTEGER NOT NULL, rollup_day DATE NOT NULL, metric_name VARCHAR(250) NOT NULL,
			grouping_set VARCHAR(50) NOT NULL, trace_status VARCHAR(50), sample_count BIGINT NOT NULL, sum_value DOUBLE, min_value DOUBLE, max_value DOUBLE,
			p50_value DOUBLE, p90_value DOUBLE, p99_value DOUBLE, CONSTRAINT sql_trace_metric_daily_rollups_pk PRIMARY KEY (id))`,
		`CREATE TABLE sql_trace_rollup_rebuild_queue (experiment_id INTEGER NOT NULL, rollup_day DATE NOT NULL, rollup_family VARCHAR(50) NOT NULL,
			CONSTRAINT sql_trace_rollup_rebuild_queue_pk PRIMARY KEY (experiment_id, rollup_day, rollup_family))`,
		`UPDATE alembic_version SET version_num = '` + analyticsRevision + `'`,
	},
}

// analyticsTarget builds a database of MLflow's schema after 3.17's trace analytics: on
// SQLite from MLflow's own dump of dc11669786a5, elsewhere from the 3.14 schema and the
// migrations' changes.
func analyticsTarget(t *testing.T, uri, name string) {
	t.Helper()
	if name == "sqlite" {
		fromMLflowDump(t, uri, analyticsRevision, "sqlite")
		return
	}
	createAt(t, uri, schema.Newest())
	setUp(t, uri, upgradeTo317[dialectOf[name]]...)
}

// legacyAnalyticsSource is a 3.14 database whose traces hold what 3.17 moves into
// columns, as MLflow 3.14 logs it.
func legacyAnalyticsSource(t *testing.T) string {
	src := testenv.SQLite(t)
	createAt(t, src, schema.Newest())
	setUp(t, src,
		"INSERT INTO experiments (experiment_id, name, artifact_location, lifecycle_stage) VALUES (7, 'agents', '/a', 'active')",
		"INSERT INTO trace_info (request_id, experiment_id, timestamp_ms, execution_time_ms, status) VALUES ('tr-a', 7, 1000, 25, 'OK')",
		"INSERT INTO trace_info (request_id, experiment_id, timestamp_ms, status) VALUES ('tr-b', 7, 2000, 'ERROR')",
		"INSERT INTO trace_tags (key, value, request_id) VALUES ('mlflow.traceName', 'chat\ttab \"q\" 😀', 'tr-a')",
		"INSERT INTO trace_tags (key, value, request_id) VALUES ('team', 'a', 'tr-a')",
		"INSERT INTO trace_request_metadata (key, value, request_id) VALUES ('mlflow.trace.session', 's-1', 'tr-a')",
		`INSERT INTO trace_request_metadata (key, value, request_id) VALUES ('mlflow.trace.tokenUsage', '{"input_tokens": 10, "output_tokens": 2, "total_tokens": 12}', 'tr-a')`,
		`INSERT INTO trace_request_metadata (key, value, request_id) VALUES ('mlflow.trace.cost', '{"input_cost": 0.5, "output_cost": 0.25, "total_cost": 0.75}', 'tr-a')`,
		"INSERT INTO trace_request_metadata (key, value, request_id) VALUES ('mlflow.user', 'ann', 'tr-a')",
		"INSERT INTO trace_metrics (request_id, key, value) VALUES ('tr-a', 'input_tokens', 10), ('tr-a', 'output_tokens', 2), ('tr-a', 'total_tokens', 12), ('tr-a', 'latency_ms', 25)",
		`INSERT INTO spans (trace_id, experiment_id, span_id, name, type, status, start_time_unix_nano, end_time_unix_nano, content, dimension_attributes)
			VALUES ('tr-a', 7, 's1', 'llm', 'LLM', 'OK', 100, 350, '{}', '{"mlflow.llm.model": "gpt-x", "mlflow.llm.provider": "openai"}')`,
		"INSERT INTO spans (trace_id, experiment_id, span_id, parent_span_id, name, type, status, start_time_unix_nano, content) VALUES ('tr-a', 7, 's2', 's1', 'tool', 'TOOL', 'OK', 120, '{}')",
		"INSERT INTO span_metrics (trace_id, span_id, key, value) VALUES ('tr-a', 's1', 'input_cost', 0.125), ('tr-a', 's1', 'total_cost', 0.125), ('tr-a', 's2', 'latency', 1)",
		"INSERT INTO assessments (assessment_id, trace_id, name, assessment_type, value, created_timestamp, last_updated_timestamp, source_type, valid) VALUES ('a-1', 'tr-a', 'ok', 'feedback', 'true', 5, 6, 'HUMAN', 1)",
		"INSERT INTO assessments (assessment_id, trace_id, name, assessment_type, value, created_timestamp, last_updated_timestamp, source_type, valid) VALUES ('a-2', 'tr-a', 'score', 'feedback', '0.5', 5, 6, 'LLM_JUDGE', 1)",
	)
	return src
}

// TestTraceAnalyticsTarget imports pre-3.17 traces into a database after 3.17's trace
// analytics, on every dialect: the columns hold what MLflow's migration would put there,
// the rows it deletes are not written, the rollup tables stay empty, verify is clean;
// the database as a source into a 3.14 database gives back the rows 3.14 logged.
func TestTraceAnalyticsTarget(t *testing.T) {
	src := legacyAnalyticsSource(t)
	want := map[string][]string{}
	srcDB := openDB(t, src)
	for table, cols := range traceTables {
		want[table] = rowsAsText(t, srcDB.tx, "SELECT "+cols+" FROM "+table)
	}
	srcDB.close()
	for _, target := range targets {
		t.Run(target.name, func(t *testing.T) {
			uri := target.uri(t)
			analyticsTarget(t, uri, target.name)
			report, err := importPaths(t, uri, importer.Options{}, src)
			if err != nil {
				t.Fatal(err)
			}
			if c := report.Count("traces"); c.Created != 2 {
				t.Errorf("traces %+v", c)
			}
			notes := strings.Join(report.Notices, "\n")
			if !strings.Contains(notes, "mlflow db build-trace-rollups") || strings.Contains(notes, "left at their defaults") {
				t.Errorf("notes:\n%s", notes)
			}
			d := openDB(t, uri)
			compareSets(t, "trace_info", rowsAsText(t, d.tx, `SELECT request_id, trace_name, session_id, input_tokens, output_tokens, total_tokens,
				cache_read_input_tokens, input_cost, output_cost, total_cost FROM trace_info`), []string{
				"tr-a|chat\ttab \"q\" 😀|s-1|10|2|12|NULL|0.5|0.25|0.75",
				"tr-b|NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL",
			})
			compareSets(t, "spans", rowsAsText(t, d.tx, "SELECT span_id, model_name, model_provider, input_cost, output_cost, total_cost FROM spans"),
				[]string{"s1|gpt-x|openai|0.125|NULL|0.125", "s2|NULL|NULL|NULL|NULL|NULL"})
			compareSets(t, "assessments", rowsAsText(t, d.tx, "SELECT assessment_id, experiment_id, trace_timestamp_ms, aggregate_value, is_numeric_value FROM assessments"),
				[]string{"a-1|7|1000|1|0", "a-2|7|1000|0.5|1"})
			compareSets(t, "legacy rows", rowsAsText(t, d.tx, `SELECT 'tag', "key" FROM trace_tags UNION ALL SELECT 'metadata', "key" FROM trace_request_metadata
				UNION ALL SELECT 'metric', "key" FROM trace_metrics UNION ALL SELECT 'span metric', "key" FROM span_metrics`),
				[]string{"tag|team", "metadata|mlflow.user", "metric|latency_ms", "span metric|latency"})
			if n := d.count("SELECT COUNT(*) FROM sql_trace_metric_daily_rollups"); n != 0 {
				t.Errorf("rollups hold %d rows", n)
			}
			d.close()
			if r := verifyPaths(t, uri, src); len(r.Differences) != 0 {
				t.Errorf("verify: %v", r.Differences)
			}

			// The other way: this database as a source into a 3.14 one (asked for: a new
			// database is otherwise created at the source's own revision).
			back := testenv.SQLite(t)
			if _, err := importPaths(t, back, importer.Options{SchemaRevision: schema.Newest()}, uri); err != nil {
				t.Fatal(err)
			}
			b := openDB(t, back)
			for table, cols := range traceTables {
				compareSets(t, table+" back in 3.14", rowsAsText(t, b.tx, "SELECT "+cols+" FROM "+table), want[table])
			}
			b.close()
			if r := verifyPaths(t, back, uri); len(r.Differences) != 0 {
				t.Errorf("verify of the 3.14 copy: %v", r.Differences)
			}
		})
	}
}

// TestRealTracesIntoAnalyticsTarget imports the real 3.x traces into MLflow's own
// dc11669786a5 schema and into 3.14's: each value the 3.14 database keeps in a tag or
// request metadata is in a column of the newer one, and no legacy row is left.
func TestRealTracesIntoAnalyticsTarget(t *testing.T) {
	samples := []string{
		testenv.Sample(t, "sh0r0ukk-agentic-traces-v3/mlruns"),
		testenv.Sample(t, "janzheng-groq-traces/mlruns"),
		testenv.Sample(t, "yizhehong-ecu-agent-sqlite/mlflow.db"),
	}
	old, newer := testenv.SQLite(t), testenv.SQLite(t)
	analyticsTarget(t, newer, "sqlite")
	for _, uri := range []string{old, newer} {
		if _, err := importPaths(t, uri, importer.Options{}, samples...); err != nil {
			t.Fatal(err)
		}
	}
	o := openDB(t, old)
	names := rowsAsText(t, o.tx, "SELECT request_id, value FROM trace_tags WHERE key = 'mlflow.traceName'")
	var tokens []string
	for _, row := range rowsAsText(t, o.tx, "SELECT request_id, value FROM trace_request_metadata WHERE key = 'mlflow.trace.tokenUsage'") {
		id, usage, _ := strings.Cut(row, "|")
		var u map[string]json.Number
		if err := json.Unmarshal([]byte(usage), &u); err != nil {
			t.Fatalf("token usage of %s: %v", id, err)
		}
		total := "NULL"
		if n, err := strconv.ParseInt(string(u["total_tokens"]), 10, 64); err == nil {
			total = fmt.Sprint(n)
		}
		tokens = append(tokens, id+"|"+total)
	}
	o.close()
	if len(names) == 0 || len(tokens) == 0 {
		t.Fatalf("the samples hold %d trace names and %d token usages: nothing to compare", len(names), len(tokens))
	}
	n := openDB(t, newer)
	defer n.close()
	compareSets(t, "trace names", rowsAsText(t, n.tx, "SELECT request_id, trace_name FROM trace_info WHERE trace_name IS NOT NULL"), names)
	compareSets(t, "total tokens", rowsAsText(t, n.tx, "SELECT request_id, total_tokens FROM trace_info WHERE total_tokens IS NOT NULL"), tokens)
	if c := n.count("SELECT COUNT(*) FROM trace_request_metadata WHERE key IN ('mlflow.trace.session', 'mlflow.trace.tokenUsage', 'mlflow.trace.cost')") +
		n.count("SELECT COUNT(*) FROM trace_tags WHERE key = 'mlflow.traceName'"); c != 0 {
		t.Errorf("%d legacy rows written", c)
	}
}

// mlflow3151Target builds the schema of a real database MLflow 3.15.1 wrote (its
// `.schema`), stamped as MLflow left it, with the Default experiment.
func mlflow3151Target(t *testing.T, uri string) {
	t.Helper()
	path := filepath.Join(filepath.Dir(testenv.Samples(t)), "mlflow-reference", "schemas-after-3.14", "6f8d9c3b2a1e", "sqlite.schema.sql")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// Statements end with ';' at a line's end; a trigger's body holds one too, so a
	// statement ends only where the next one starts.
	var stmts []string
	for i, s := range strings.Split(strings.TrimSpace(string(data)), ";\nCREATE ") {
		if i > 0 {
			s = "CREATE " + s
		}
		stmts = append(stmts, strings.TrimSuffix(s, ";"))
	}
	stmts = append(stmts, "INSERT INTO alembic_version (version_num) VALUES ('6f8d9c3b2a1e')",
		"INSERT INTO experiments (experiment_id, name, artifact_location, lifecycle_stage, workspace) VALUES (0, 'Default', 'mlflow-artifacts:/0', 'active', 'default')")
	setUp(t, uri, stmts...)
}

// TestMLflow315Database imports into the schema of a real MLflow 3.15.1 database without
// a flag, and moves it whole (its MCP registry tables too) into PostgreSQL and MariaDB.
func TestMLflow315Database(t *testing.T) {
	db := testenv.SQLite(t)
	mlflow3151Target(t, db)
	setUp(t, db, "INSERT INTO mcp_servers (workspace, name, display_name, icons, created_at, last_updated_at) VALUES ('default', 'search', 'Search', '[]', 1, 2)")
	store := testenv.Sample(t, "sh0r0ukk-agentic-traces-v3/mlruns")
	report, err := importPaths(t, db, importer.Options{}, store)
	if err != nil {
		t.Fatal(err)
	}
	notes := strings.Join(report.Notices, "\n")
	if !strings.Contains(notes, "6f8d9c3b2a1e (MLflow 3.15)") || strings.Contains(notes, "left at their defaults") {
		t.Errorf("notes:\n%s", notes)
	}
	if r := verifyPaths(t, db, store); len(r.Differences) != 0 {
		t.Errorf("verify: %v", r.Differences)
	}
	// Into a database of the same release: whole, the MCP registry too.
	same := testenv.SQLite(t)
	mlflow3151Target(t, same)
	if _, err := importPaths(t, same, importer.Options{}, db); err != nil {
		t.Fatal(err)
	}
	if r := verifyPaths(t, same, db); len(r.Differences) != 0 {
		t.Errorf("verify: %v", r.Differences)
	}
	s := openDB(t, same)
	if n := s.count("SELECT COUNT(*) FROM mcp_servers WHERE name = 'search'"); n != 1 {
		t.Errorf("MCP servers copied: %d", n)
	}
	s.close()
	// Into a new database, which mlflow-bulk creates at the source's own revision: whole,
	// every table of MLflow 3.15.1's and the MCP registry's rows, and the report says why.
	for _, target := range targets[1:] {
		t.Run(target.name, func(t *testing.T) {
			uri := target.uri(t)
			report, err := importPaths(t, uri, importer.Options{}, db)
			if err != nil {
				t.Fatal(err)
			}
			if !report.SchemaCreated || !strings.HasPrefix(report.Revision, "6f8d9c3b2a1e") {
				t.Errorf("schema created %v at %s, want 6f8d9c3b2a1e", report.SchemaCreated, report.Revision)
			}
			if notes := strings.Join(report.Notices, "\n"); !strings.Contains(notes, "the target was created at 6f8d9c3b2a1e (MLflow 3.15), the newest revision of the sources") {
				t.Errorf("the report does not say why the target is at 3.15: %s", notes)
			}
			d := openDB(t, uri)
			tables, err := live.Inspect(ctxT(t), d.tx, schema.Dialect(dialectOf[target.name]))
			if err != nil {
				t.Fatal(err)
			}
			if len(tables) < 59 {
				t.Errorf("the target has %d tables, MLflow 3.15.1's database 59", len(tables))
			}
			if n := d.count("SELECT COUNT(*) FROM mcp_servers WHERE name = 'search'"); n != 1 {
				t.Errorf("MCP servers copied: %d", n)
			}
			d.close()
			if r := verifyPaths(t, uri, db); len(r.Differences) != 0 {
				t.Errorf("verify: %v", r.Differences)
			}
		})
	}
}
