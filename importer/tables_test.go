package importer_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/mlflow-bulk/mlflow-bulk/importer"
	"github.com/mlflow-bulk/mlflow-bulk/internal/testenv"
	"github.com/mlflow-bulk/mlflow-bulk/schema"
	"github.com/mlflow-bulk/mlflow-bulk/sinks"
	"github.com/mlflow-bulk/mlflow-bulk/sources"
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
	sink, err := sinks.Default().Open(ctx, uri, sinks.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	tx, err := sink.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, "INSERT INTO experiments (experiment_id, name, artifact_location, lifecycle_stage) VALUES (?, 'second', 'mlflow-artifacts:/7', 'active')", sourceExperiment); err != nil {
		t.Fatal(err)
	}
	tables, err := schema.Inspect(ctx, tx, schema.SQLite)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for name := range tables {
		if !sources.IsModelledTable(name) {
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

// tableRows reads every row of a table as text, columns in name order, with the
// experiment ids in experiment columns given as "exp:<id>".
func tableRows(t *testing.T, uri, table string, expCols map[string]bool) []string {
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
			if c == "duration_ns" {
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
			if c := again.Count("scorers"); c.Merged != 1 {
				t.Errorf("scorers on the second import: %+v", c)
			}
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
			for _, want := range []string{"table review_queues, 1 rows", "table label_schemas, 1 rows", "table review_queue_items, 1 rows",
				"column workspaces.trace_archival_location, 1 rows", "column workspaces.trace_archival_retention, 1 rows", "Nothing was written", "--skip-unsupported"} {
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
		})
	}
}
