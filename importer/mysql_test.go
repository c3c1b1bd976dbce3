package importer_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/mlflow-bulk/mlflow-bulk/importer"
	"github.com/mlflow-bulk/mlflow-bulk/importer/rules"
	"github.com/mlflow-bulk/mlflow-bulk/internal/importtest"
	"github.com/mlflow-bulk/mlflow-bulk/internal/synth"
	"github.com/mlflow-bulk/mlflow-bulk/internal/testenv"
	"github.com/mlflow-bulk/mlflow-bulk/schema"
	"github.com/mlflow-bulk/mlflow-bulk/schema/live"
)

// querier runs a read query: a target's transaction or a source's read-only handle.
type querier interface {
	Query(ctx context.Context, query string, args ...any) (live.Rows, error)
}

// content is every row of the tracking tables a database holds at revision rev,
// rendered the same way whatever the database. Dataset and input uuids are left out
// (the file store has none, so each import makes its own): inputs show the dataset's
// name and digest instead.
func content(t *testing.T, q querier, rev *schema.Revision) map[string][]string {
	out := map[string][]string{}
	add := func(table, query string, kinds string) {
		rows, err := q.Query(context.Background(), query)
		if err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		defer rows.Close()
		for rows.Next() {
			dest := make([]any, len(kinds))
			for i, k := range kinds {
				switch k {
				case 's':
					dest[i] = new(sql.NullString)
				case 'f':
					dest[i] = new(float64)
				case 'b':
					dest[i] = new(bool)
				case 'n':
					dest[i] = new(sql.NullFloat64)
				}
			}
			if err := rows.Scan(dest...); err != nil {
				t.Fatalf("%s: %v", table, err)
			}
			var parts []string
			for _, v := range dest {
				switch x := v.(type) {
				case *sql.NullString:
					if x.Valid {
						parts = append(parts, x.String)
					} else {
						parts = append(parts, "NULL")
					}
				case *float64:
					parts = append(parts, fmt.Sprint(*x))
				case *bool:
					parts = append(parts, fmt.Sprint(*x))
				case *sql.NullFloat64:
					parts = append(parts, fmt.Sprint(x.Float64, x.Valid))
				}
			}
			out[table] = append(out[table], strings.Join(parts, "|"))
		}
		sort.Strings(out[table])
	}
	for _, table := range []string{"experiments", "experiment_tags", "runs", "params", "tags", "metrics", "latest_metrics", "datasets",
		"logged_models", "logged_model_params", "logged_model_tags", "logged_model_metrics",
		"registered_models", "model_versions", "registered_model_tags", "model_version_tags", "registered_model_aliases"} {
		if !rev.HasTable(table) {
			continue
		}
		var cols []string
		kinds := ""
		for _, c := range rev.Columns(table) {
			if c == "dataset_uuid" || c == "workspace" {
				continue
			}
			cols = append(cols, `"`+c+`"`)
			switch {
			case c == "value" && (table == "metrics" || table == "latest_metrics"):
				kinds += "f"
			case c == "is_nan":
				kinds += "b"
			case c == "metric_value":
				kinds += "n"
			default:
				kinds += "s"
			}
		}
		add(table, "SELECT "+strings.Join(cols, ", ")+" FROM "+table, kinds)
	}
	if rev.HasTable("inputs") {
		step := "0"
		if rev.HasColumn("inputs", "step") {
			step = "i.step"
		}
		add("inputs", `SELECT COALESCE(d.name, i.source_id), d.digest, i.source_type, i.destination_type, i.destination_id, `+step+`, t.name, t.value FROM inputs i
			LEFT JOIN datasets d ON d.dataset_uuid = i.source_id LEFT JOIN input_tags t ON t.input_uuid = i.input_uuid`, "ssssssss")
	}
	return out
}

// targetContent is content of a target at the newest revision.
func targetContent(t *testing.T, uri string) map[string][]string {
	d := openDB(t, uri)
	defer d.close()
	return content(t, d.tx, schema.Newest())
}

// TestMariaDBSameContentAsPostgres imports every real file store and a synthetic store
// with NaN/inf into PostgreSQL and into MariaDB (both write paths) and compares every row.
func TestMariaDBSameContentAsPostgres(t *testing.T) {
	synthetic := filepath.Join(t.TempDir(), "mlruns")
	if _, err := synth.Write(context.Background(), synthetic, synth.Options{Experiments: 2, Runs: 8, MetricKeys: 3, Steps: 120, Params: 3, Tags: 2, Special: true, Seed: 11}); err != nil {
		t.Fatal(err)
	}
	stores := []string{synthetic}
	for _, s := range fileStoreSamples {
		stores = append(stores, testenv.Sample(t, s))
	}
	pg := testenv.Postgres(t)
	if _, err := importPaths(t, pg, importer.Options{}, stores...); err != nil {
		t.Fatal(err)
	}
	want := targetContent(t, pg)
	for _, variant := range []string{"", "?x-local-infile=false"} {
		t.Run("mariadb"+variant, func(t *testing.T) {
			my := testenv.MySQL(t) + variant
			report, err := importPaths(t, my, importer.Options{}, stores...)
			if err != nil {
				t.Fatal(err)
			}
			if variant != "" && !strings.Contains(strings.Join(report.Notices, "\n"), "INSERT") {
				t.Errorf("the report does not say INSERTs were used: %v", report.Notices)
			}
			got := targetContent(t, my)
			for table, rows := range want {
				if len(rows) == 0 && table != "experiment_tags" {
					t.Errorf("%s: no rows to compare", table)
				}
				compareSets(t, table, got[table], rows)
			}
		})
	}
}

// storeWith writes a store of one experiment and one run holding the given files
// (paths relative to the run folder).
func storeWith(t *testing.T, files map[string]string) string {
	t.Helper()
	return importtest.StoreWith(t, files)
}

func TestFourByteUTF8(t *testing.T) {
	root := storeWith(t, map[string]string{
		"params/emoji": "🚀 ünïcödé 𝔘",
		"tags/note":    "多言語 🎉",
		"metrics/loss": "5 0.5 0\n",
	})
	for _, target := range targets {
		t.Run(target.name, func(t *testing.T) {
			uri := target.uri(t)
			if _, err := importPaths(t, uri, importer.Options{}, root); err != nil {
				t.Fatal(err)
			}
			d := openDB(t, uri)
			if got := d.rows(`SELECT value FROM params WHERE "key" = 'emoji'`); len(got) != 1 || got[0] != "🚀 ünïcödé 𝔘" {
				t.Errorf("param value %q", got)
			}
			if got := d.rows(`SELECT value FROM tags WHERE "key" = 'note'`); len(got) != 1 || got[0] != "多言語 🎉" {
				t.Errorf("tag value %q", got)
			}
		})
	}
}

// TestKeyCollisions: keys MLflow keeps apart ("lr"/"LR", "x"/"x ") are one key under
// MariaDB's default collation. By default the run is rejected with a message naming both
// keys; keep-first keeps the first; PostgreSQL and SQLite keep both.
func TestKeyCollisions(t *testing.T) {
	root := storeWith(t, map[string]string{
		"params/lr":    "0.1",
		"params/LR":    "0.2",
		"tags/x":       "a",
		"tags/x ":      "b",
		"metrics/loss": "5 0.5 0\n",
		"metrics/Loss": "5 0.7 0\n",
	})
	for _, target := range targets {
		t.Run(target.name, func(t *testing.T) {
			uri := target.uri(t)
			_, err := importPaths(t, uri, importer.Options{}, root)
			if target.name != "mariadb" {
				if err != nil {
					t.Fatal(err)
				}
				d := openDB(t, uri)
				if n := d.count("SELECT COUNT(*) FROM params"); n != 2 {
					t.Errorf("%d params, want both keys", n)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), `"LR" and "lr"`) || !hasRemedy(err, importer.OptionOnKeyCollision) {
				t.Fatalf("want a collision error naming both keys and the way out, got %v", err)
			}
			report, err := importPaths(t, uri, importer.Options{OnKeyCollision: rules.CollisionKeepFirst}, root)
			if err != nil {
				t.Fatal(err)
			}
			d := openDB(t, uri)
			if got := d.rows(`SELECT "key" || '=' || value FROM params`); strings.Join(got, ",") != "LR=0.2" {
				t.Errorf("params %v, want the first key only", got)
			}
			if got := d.rows(`SELECT "key" || '=' || value FROM tags WHERE "key" <> 'mlflow.runName'`); len(got) != 1 {
				t.Errorf("tags %q, want one of x and 'x '", got)
			}
			if n := d.count("SELECT COUNT(*) FROM latest_metrics"); n != 1 {
				t.Errorf("%d latest metrics, want 1", n)
			}
			notes := fmt.Sprint(report.Skipped)
			for _, want := range []string{`param "lr" left out`, `metric "loss" left out`, `tag "x " left out`} {
				if !strings.Contains(notes, want) {
					t.Errorf("report lacks %q: %s", want, notes)
				}
			}
			d.close()
			// verify passes, and says what keep-first left out rather than "matches".
			vr := verifyPaths(t, uri, root)
			if len(vr.Differences) != 0 || vr.Accepted.KeysLeftOut != 3 {
				t.Errorf("verify after keep-first: accepted %+v, differences %+v; want the 3 keys left out counted", vr.Accepted, vr.Differences)
			}
		})
	}
}

// setUpFile writes one more file into a store.
func setUpFile(t *testing.T, root, rel, content string) {
	t.Helper()
	importtest.WriteFile(t, root, rel, content)
}

func equalContent(a, b map[string][]string) bool {
	if len(a) != len(b) {
		return false
	}
	for table, rows := range a {
		if strings.Join(rows, "\n") != strings.Join(b[table], "\n") {
			return false
		}
	}
	return true
}

// TestModelNamesOnlyCaseApart: on MariaDB's default, case-insensitive collation, two
// registered models whose names differ only in case are one name to the target: the
// second is never merged into the first (their versions mixed), but refused as a
// conflict naming both spellings, or left out under --on-key-collision keep-first.
func TestModelNamesOnlyCaseApart(t *testing.T) {
	lower := registryDB(t, map[int]string{1: "s3://models/a1"})
	upper := registryDBNamed(t, "Churn", map[int]string{1: "s3://models/B1", 2: "s3://models/B2"})
	uri := testenv.MySQL(t)
	if _, err := importPaths(t, uri, importer.Options{}, lower); err != nil {
		t.Fatal(err)
	}
	_, err := importPaths(t, uri, importer.Options{}, upper)
	if !errors.Is(err, importer.ErrTargetConflict) || !strings.Contains(err.Error(), `registered model "Churn" and the target's "churn" are one name`) {
		t.Fatalf("a model name only case apart: %v", err)
	}
	report, err := importPaths(t, uri, importer.Options{OnKeyCollision: rules.CollisionKeepFirst}, upper)
	if err != nil || !strings.Contains(fmt.Sprint(report.Skipped), "this one is left out with its versions") {
		t.Fatalf("keep-first: %v, %v", err, report.Skipped)
	}
	d := openDB(t, uri)
	defer d.close()
	if got := d.rows("SELECT CAST(version AS CHAR(5)) || '=' || source FROM model_versions"); strings.Join(got, ",") != "1=s3://models/a1" {
		t.Errorf("versions %v: another model's versions were mixed in", got)
	}
}
