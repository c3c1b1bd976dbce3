package importer_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/mlflow-bulk/mlflow-bulk/drivers/all"
	"github.com/mlflow-bulk/mlflow-bulk/export"
	"github.com/mlflow-bulk/mlflow-bulk/importer"
	"github.com/mlflow-bulk/mlflow-bulk/importer/rules"
	"github.com/mlflow-bulk/mlflow-bulk/internal/testenv"
	"github.com/mlflow-bulk/mlflow-bulk/remedy"
	"github.com/mlflow-bulk/mlflow-bulk/schema"
	"github.com/mlflow-bulk/mlflow-bulk/schema/live"
	"github.com/mlflow-bulk/mlflow-bulk/sinks"
	"github.com/mlflow-bulk/mlflow-bulk/sources"
	"github.com/mlflow-bulk/mlflow-bulk/sources/database"
	"github.com/mlflow-bulk/mlflow-bulk/sources/formats"
	"github.com/mlflow-bulk/mlflow-bulk/verify"
)

// sourceExperiment is the id of the experiment every row of everyTableDB belongs to; the
// targets hold another experiment at that id, so it must be mapped.
const sourceExperiment = 7

// everyTableDB builds a source database at the newest revision with one row in every
// table mlflow-bulk copies as rows (two in workspaces), values chosen from each column's
// type and references. It returns the URI and the tables filled.
func everyTableDB(t *testing.T) (string, []string) {
	t.Helper()
	ctx := context.Background()
	uri := testenv.SQLite(t)
	createAt(t, uri, schema.Newest())
	sink, err := all.Registry().Open(ctx, uri, sinks.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	tx, err := sink.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if _, err := tx.Exec(ctx, "INSERT INTO experiments (experiment_id, name, artifact_location, lifecycle_stage) VALUES (?, 'second', 'mlflow-artifacts:/7', 'active')", sourceExperiment); err != nil {
		t.Fatal(err)
	}
	tables, err := live.Inspect(ctx, tx, schema.SQLite)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for name := range tables {
		if !schema.Modelled(name) {
			names = append(names, name)
		}
	}
	names = schema.ParentsFirst(tables, names)
	width := regexp.MustCompile(`char\((\d+)\)`)
	values := map[string]any{} // "table.column" -> value written
	for _, name := range names {
		tab := tables[name]
		var cols, marks []string
		var args []any
		for _, c := range tab.Columns {
			if c.Generated {
				continue
			}
			var v any
			ref, refCol := tab.References(c.Name)
			switch {
			case ref == "experiments" || c.Name == "experiment_id":
				v = int64(sourceExperiment)
			case ref != "":
				v = values[ref+"."+refCol]
			case name == "workspaces" && c.Name == "name":
				v = "team-a"
			case c.Name == "workspace":
				v = "default"
			case name == "entity_associations" && c.Name == "source_type":
				v = "EXPERIMENT"
			case name == "entity_associations" && c.Name == "source_id":
				v = strconv.Itoa(sourceExperiment)
			case strings.Contains(c.Type, "int"):
				v = int64(3)
			case c.Boolean:
				v = int64(1)
			case strings.Contains(c.Type, "float") || strings.Contains(c.Type, "double") || strings.Contains(c.Type, "real"):
				v = 2.5
			case strings.Contains(c.Type, "json"):
				v = `{"k": [1, "x"]}`
			case c.Binary:
				v = []byte{0, 1, 2, 0xff}
			default:
				s := "v:" + name + "." + c.Name
				if m := width.FindStringSubmatch(c.Type); m != nil {
					n, _ := strconv.Atoi(m[1])
					s = s[:min(len(s), n)]
				}
				v = s
			}
			values[name+"."+c.Name] = v
			cols = append(cols, `"`+c.Name+`"`)
			marks = append(marks, "?")
			args = append(args, v)
		}
		query := fmt.Sprintf("INSERT INTO %s (%s) VALUES (%s)", name, strings.Join(cols, ", "), strings.Join(marks, ", "))
		if _, err := tx.Exec(ctx, query, args...); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
	}
	if _, err := tx.Exec(ctx, "UPDATE workspaces SET trace_archival_location = 's3://archive' WHERE name = 'team-a'"); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if len(names) < 25 {
		t.Fatalf("only %d tables copied as rows", len(names))
	}
	return uri, names
}

// tableRows reads every row of a table as text, columns in name order; only the
// columns named in only, where it is not nil.
func tableRows(t *testing.T, uri, table string, only map[string]bool) []string {
	t.Helper()
	d := openDB(t, uri)
	defer d.close()
	rows, err := d.tx.Query(context.Background(), "SELECT * FROM "+table)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, err := rows.(interface{ Columns() ([]string, error) }).Columns()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for rows.Next() {
		values := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range values {
			ptrs[i] = &values[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		var parts []string
		for i, c := range cols {
			c = strings.ToLower(c)
			if c == "duration_ns" || (only != nil && !only[c]) {
				continue
			}
			parts = append(parts, c+"="+text(values[i]))
		}
		sort.Strings(parts)
		out = append(out, strings.Join(parts, " "))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

// text renders a value alike whichever database it comes from.
func text(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case bool:
		if x {
			return "1"
		}
		return "0"
	case []byte:
		return text(string(x))
	case string:
		// JSON columns: PostgreSQL's driver decodes them; compare documents, not spacing.
		var doc any
		if strings.HasPrefix(x, "{") && json.Unmarshal([]byte(x), &doc) == nil {
			return text(doc)
		}
		return fmt.Sprintf("%q", x)
	case map[string]any, []any:
		b, _ := json.Marshal(x)
		return string(b)
	case float64:
		if x == math.Trunc(x) {
			return strconv.FormatInt(int64(x), 10)
		}
	}
	return fmt.Sprint(v)
}

// TestEveryTableRoundTrips copies a database with a row in every table into each
// target, whose experiment 7 is another one: every table arrives row for row, experiment
// ids mapped, everything else as it was; a second import changes nothing.
func TestEveryTableRoundTrips(t *testing.T) {
	src, tables := everyTableDB(t)
	for _, target := range targets {
		t.Run(target.name, func(t *testing.T) {
			uri := target.uri(t)
			createAt(t, uri, schema.Newest())
			setUp(t, uri, fmt.Sprintf("INSERT INTO experiments (experiment_id, name, artifact_location, lifecycle_stage) VALUES (%d, 'occupied', 'x', 'active')", sourceExperiment))
			report, err := importPaths(t, uri, importer.Options{}, src)
			if err != nil {
				t.Fatal(err)
			}
			var mapped int64 = -1
			for _, m := range report.Experiments {
				if m.SourceID == strconv.Itoa(sourceExperiment) {
					mapped = m.TargetID
				}
			}
			if mapped < 0 || mapped == sourceExperiment {
				t.Fatalf("experiment %d mapped to %d", sourceExperiment, mapped)
			}
			for _, table := range tables {
				want := tableRows(t, src, table, nil)
				got := tableRows(t, uri, table, nil)
				if table == "workspaces" {
					want = want[1:] // the target's own default workspace stays as it was
					got = got[1:]
				}
				fix := strings.NewReplacer(fmt.Sprintf("=%d ", sourceExperiment), fmt.Sprintf("=%d ", mapped),
					fmt.Sprintf("=%q ", strconv.Itoa(sourceExperiment)), fmt.Sprintf("=%q ", strconv.FormatInt(mapped, 10)))
				for i := range want {
					want[i] = strings.TrimSuffix(fix.Replace(want[i]+" "), " ")
				}
				if strings.Join(got, "\n") != strings.Join(want, "\n") {
					t.Errorf("%s:\n got %v\nwant %v", table, got, want)
				}
				if c := report.Count(table); c.Created != int64(len(want)) || c.Read != c.Created+c.Merged+c.Skipped+c.Rejected {
					t.Errorf("%s counted %+v", table, c)
				}
			}
			again, err := importPaths(t, uri, importer.Options{}, src)
			if err != nil {
				t.Fatal(err)
			}
			if !again.NothingNew() {
				t.Errorf("a second import wrote rows: %+v", again.Counts)
			}
			for _, table := range tables {
				if c := again.Count(table); c.Merged != c.Read || c.Read == 0 {
					t.Errorf("%s on the second import: %+v", table, c)
				}
			}
			// verify compares every table, and finds them equal.
			vr := verifyPaths(t, uri, src)
			if len(vr.Differences) > 0 {
				t.Errorf("verify: %+v", vr.Differences)
			}
			checked := map[string]bool{}
			for _, c := range vr.Tables {
				checked[c.Table] = c.Rows > 0
			}
			for _, table := range tables {
				if !checked[table] {
					t.Errorf("verify did not check %s: %+v", table, vr.Tables)
				}
			}
			if target.name == "sqlite" {
				return
			}
			// The server database as a source: every table comes out as it went in.
			hop := testenv.SQLite(t)
			if _, err := importPaths(t, hop, importer.Options{}, uri); err != nil {
				t.Fatal(err)
			}
			for _, table := range tables {
				if got, want := tableRows(t, hop, table, nil), tableRows(t, uri, table, nil); strings.Join(got, "\n") != strings.Join(want, "\n") {
					t.Errorf("%s from %s:\n got %v\nwant %v", table, target.name, got, want)
				}
			}
			// JSON documents keep their text, spacing and key order included.
			d := openDB(t, hop)
			if got := d.rows("SELECT inputs FROM evaluation_dataset_records"); len(got) != 1 || got[0] != `{"k": [1, "x"]}` {
				t.Errorf("a JSON document came back as %q", got)
			}
			d.close()
		})
	}
}

// TestUnsupportedStopsBeforeWriting imports the newest schema's tables into a target one
// release older: the import names each table and column it cannot hold and writes
// nothing, unless --skip-unsupported.
func TestUnsupportedStopsBeforeWriting(t *testing.T) {
	src, _ := everyTableDB(t)
	older, _ := schema.Lookup("7d34483879f0")
	for _, target := range targets {
		t.Run(target.name, func(t *testing.T) {
			uri := target.uri(t)
			createAt(t, uri, older)
			_, err := importPaths(t, uri, importer.Options{}, src)
			if !errors.Is(err, importer.ErrUnsupported) {
				t.Fatalf("err = %v", err)
			}
			if !hasRemedy(err, importer.OptionSkipUnsupported) {
				t.Errorf("the error does not name the way past it: %+v", remedy.Of(err))
			}
			for _, want := range []string{"table review_queues, 1 rows", "table label_schemas, 1 rows", "table review_queue_items, 1 rows",
				"column workspaces.trace_archival_location, 1 rows", "column workspaces.trace_archival_retention, 1 rows", "Nothing was written"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("the error does not say %q:\n%v", want, err)
				}
			}
			// trace_info.db_payload_generation holds only its default: nothing lost.
			if strings.Contains(err.Error(), "db_payload_generation") {
				t.Errorf("a column holding only its default is named:\n%v", err)
			}
			if n := count(t, uri, "experiments"); n != 1 {
				t.Errorf("%d experiments after a refused import", n)
			}
			report, err := importPaths(t, uri, importer.Options{SkipUnsupported: true}, src)
			if err != nil {
				t.Fatal(err)
			}
			if len(report.Unsupported) != 7 || report.Count("scorers").Created != 1 || report.Count("review_queues").Created != 0 {
				t.Errorf("unsupported %+v, scorers %+v", report.Unsupported, report.Count("scorers"))
			}
			// verify accepts what --skip-unsupported left out, and counts it; told
			// nothing, it names the tables the target lacks.
			if diffs := verifyPaths(t, uri, src).Differences; len(diffs) == 0 || diffs[0].Kind != "table missing" {
				t.Errorf("verify without --skip-unsupported: %+v", diffs)
			}
			vr := verifyPathsWith(t, uri, verify.Options{SkipUnsupported: true}, src)
			if len(vr.Differences) != 0 || vr.Accepted.UnsupportedRows != 5 {
				t.Errorf("verify --skip-unsupported: %+v, accepted %+v", vr.Differences, vr.Accepted)
			}
		})
	}
}

// TestRealDatabasesEveryTable moves real MLflow 3 databases into new databases on every
// target and compares every table of the source, row for row, on the source's columns,
// with experiment ids mapped as the report says.
func TestRealDatabasesEveryTable(t *testing.T) {
	for _, sample := range []string{"yizhehong-ecu-agent-sqlite/mlflow.db", "hcigu-pgpt-sqlite-prompts/backend/mlflow.db", "sqlite-bloodglucose-mlflow3/mlflow/mlflow.db"} {
		path := testenv.Sample(t, sample)
		srcURI := "sqlite:///" + filepath.ToSlash(path)
		ro, _ := openSQLiteReadOnly(t, path)
		tables, err := live.Inspect(context.Background(), ro, schema.SQLite)
		if err != nil {
			t.Fatal(err)
		}
		for _, target := range targets {
			t.Run(strings.Split(sample, "/")[0]+"/"+target.name, func(t *testing.T) {
				uri := target.uri(t)
				report, err := importPaths(t, uri, importer.Options{}, srcURI)
				if err != nil {
					t.Fatal(err)
				}
				mapped := map[string]string{}
				for _, m := range report.Experiments {
					mapped[m.SourceID] = strconv.FormatInt(m.TargetID, 10)
				}
				compared := 0
				for name, info := range tables {
					if name == "alembic_version" {
						continue
					}
					cols := map[string]bool{}
					exp := map[string]bool{}
					for _, c := range info.Columns {
						cols[c.Name] = !c.Generated
						if ref, _ := info.References(c.Name); ref == "experiments" || (ref == "" && c.Name == "experiment_id") {
							exp[c.Name] = true
						}
					}
					want := tableRows(t, srcURI, name, cols)
					for i, row := range want {
						parts := strings.Split(row, " ")
						for j, p := range parts {
							col, v, _ := strings.Cut(p, "=")
							if exp[col] && v != "NULL" {
								parts[j] = col + "=" + mapped[strings.Trim(v, `"`)]
							}
						}
						want[i] = strings.Join(parts, " ")
					}
					got := tableRows(t, uri, name, cols)
					if strings.Join(got, "\n") != strings.Join(want, "\n") {
						t.Errorf("%s differs:\n got %d rows %.600v\nwant %d rows %.600v", name, len(got), got, len(want), want)
					}
					compared += len(want)
				}
				if compared < 10 {
					t.Errorf("only %d rows compared", compared)
				}
				vr := verifyPaths(t, uri, srcURI)
				if len(vr.Differences) > 0 {
					t.Errorf("verify: %+v", vr.Differences)
				}
				if tables["trace_info"] != nil && count(t, srcURI, "trace_info") > 0 {
					found := false
					for _, c := range vr.Tables {
						found = found || (c.Table == "spans" && c.Rows == int64(count(t, srcURI, "spans")))
					}
					if !found {
						t.Errorf("verify did not compare every span: %+v", vr.Tables)
					}
				}
			})
		}
	}
}

// killingSource ends the source database's other connections once it has handed over
// a number of records, as a server restart or a dropped link would.
type killingSource struct {
	sources.Source
	after int
	seen  int
	kill  func()
}

func (k *killingSource) Next() bool {
	if k.seen++; k.seen == k.after {
		k.kill()
	}
	return k.Source.Next()
}

// TestSourceConnectionLostHalfway: a database source whose server connection is cut
// while it streams ends the import with an error, never with a short, clean result.
func TestSourceConnectionLostHalfway(t *testing.T) {
	ctx := ctxT(t)
	srcURI := testenv.Postgres(t)
	if _, err := importPaths(t, srcURI, importer.Options{}, "sqlite:///"+filepath.ToSlash(testenv.Sample(t, "sqlite-peco602-zoomcamp-mlflow1.26/02-experiment-tracking/mlflow.db"))); err != nil {
		t.Fatal(err)
	}
	src, err := formats.Open(ctx, srcURI, formats.Options{Database: database.Options{Drivers: all.Registry()}})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	killed := false
	kill := func() {
		admin, err := pgx.Connect(ctx, srcURI)
		if err != nil {
			t.Fatal(err)
		}
		defer admin.Close(ctx)
		tag, err := admin.Exec(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
		if err != nil {
			t.Fatal(err)
		}
		killed = tag.RowsAffected() > 0
	}
	sink, err := all.Registry().Open(ctx, testenv.SQLite(t), sinks.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	report, err := importer.Import(ctx, sink, []sources.Source{&killingSource{Source: src, after: 20, kill: kill}}, importer.Options{})
	if !killed {
		t.Fatal("no connection was cut")
	}
	if err == nil {
		t.Fatalf("the import ended cleanly with %d of 125 runs", report.Count("runs").Created)
	}
	if report.Complete {
		t.Error("the report says complete")
	}
}

// TestRowHeldWithOtherValues: a row the target holds under the same key with other values
// stays as the target has it, and the report, verify and --on-existing-run fail say so.
func TestRowHeldWithOtherValues(t *testing.T) {
	src, _ := everyTableDB(t)
	uri := testenv.SQLite(t)
	if _, err := importPaths(t, uri, importer.Options{}, src); err != nil {
		t.Fatal(err)
	}
	setUp(t, uri, "UPDATE jobs SET job_name = 'changed in the target'")
	report, err := importPaths(t, uri, importer.Options{}, src)
	if err != nil {
		t.Fatal(err)
	}
	if c := report.Count("jobs"); c.Skipped != 1 || c.Merged != 0 || c.Created != 0 {
		t.Errorf("jobs: %+v", c)
	}
	noted := false
	for _, n := range report.Skipped {
		noted = noted || strings.Contains(n.Reason, "1 rows of jobs kept as the target has them")
	}
	if !noted {
		t.Errorf("not in the report: %+v", report.Skipped)
	}
	if d := openDB(t, uri); len(d.rows("SELECT job_name FROM jobs WHERE job_name = 'changed in the target'")) != 1 {
		t.Error("the target's row was changed")
	} else {
		d.close()
	}
	if _, err := importPaths(t, uri, importer.Options{OnExistingRun: rules.ExistingRunFail}, src); err == nil || !strings.Contains(err.Error(), "a row of jobs") {
		t.Errorf("--on-existing-run fail: %v", err)
	}
	vr := verifyPaths(t, uri, src)
	if len(vr.Differences) != 1 || vr.Differences[0].Kind != "row differs" || vr.Differences[0].Key != "jobs" {
		t.Errorf("verify: %+v", vr.Differences)
	}
}

// TestEveryTableThroughADump: tables copied as rows go through mlflow-bulk's dump format
// (gzip) unchanged, binary columns included.
func TestEveryTableThroughADump(t *testing.T) {
	ctx := ctxT(t)
	src, tables := everyTableDB(t)
	dir := filepath.Join(t.TempDir(), "dump")
	s, err := formats.Open(ctx, src, formats.Options{Database: database.Options{Drivers: all.Registry()}})
	if err != nil {
		t.Fatal(err)
	}
	report, err := export.Write(ctx, s, dir, export.Options{Gzip: true})
	s.Close()
	if err != nil {
		t.Fatal(err)
	}
	if report.Counts["tables"] < int64(len(tables)) {
		t.Errorf("the dump holds %d table chunks for %d tables", report.Counts["tables"], len(tables))
	}
	direct, viaDump := testenv.SQLite(t), testenv.SQLite(t)
	if _, err := importPaths(t, direct, importer.Options{}, src); err != nil {
		t.Fatal(err)
	}
	if _, err := importPaths(t, viaDump, importer.Options{}, dir); err != nil {
		t.Fatal(err)
	}
	for _, table := range tables {
		if got, want := tableRows(t, viaDump, table, nil), tableRows(t, direct, table, nil); strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s through a dump:\n got %v\nwant %v", table, got, want)
		}
	}
}
