package importer_test

import (
	"compress/gzip"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlflow-bulk/mlflow-bulk/importer"
	"github.com/mlflow-bulk/mlflow-bulk/internal/importtest"
	"github.com/mlflow-bulk/mlflow-bulk/internal/testenv"
	"github.com/mlflow-bulk/mlflow-bulk/schema"
)

// hostileStore is a file store whose values are the ones dump formats escape: tabs,
// newlines, backslashes, both quotes, emoji, and NaN and ±inf metrics.
func hostileStore(t *testing.T) string {
	t.Helper()
	return importtest.HostileStore(t)
}

// dumpsOf runs the dump tool of the database behind uri, in every form it offers that
// mlflow-bulk reads, and returns the files.
func dumpsOf(t *testing.T, name, uri string) []string {
	t.Helper()
	dir := t.TempDir()
	run := func(out string, env []string, program string, args ...string) string {
		path := filepath.Join(dir, out)
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(testenv.Tool(t, program), args...)
		var stderr strings.Builder
		cmd.Stdout, cmd.Stderr, cmd.Env = f, &stderr, append(os.Environ(), env...)
		if err := cmd.Run(); err != nil {
			t.Fatalf("%s: %v %s", program, err, stderr.String())
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		return path
	}
	u, err := url.Parse(uri)
	if err != nil {
		t.Fatal(err)
	}
	switch name {
	case "sqlite":
		plain := run("sqlite.sql", nil, "sqlite3", strings.TrimPrefix(uri, "sqlite:///"), ".dump")
		return []string{plain, gzipped(t, plain)}
	case "postgres":
		return []string{
			run("plain.sql", nil, "pg_dump", uri),
			run("inserts.sql", nil, "pg_dump", "--inserts", "--on-conflict-do-nothing", uri),
			run("column-inserts.sql", nil, "pg_dump", "--column-inserts", "--rows-per-insert=7", uri),
		}
	default:
		pw, _ := u.User.Password()
		args := []string{"-u", u.User.Username(), "-h", u.Hostname(), "-P", u.Port(), strings.TrimPrefix(u.Path, "/")}
		return []string{
			run("mariadb.sql", []string{"MYSQL_PWD=" + pw}, "mariadb-dump", args...),
			run("mariadb-hex.sql", []string{"MYSQL_PWD=" + pw}, "mariadb-dump", append([]string{"--hex-blob", "--skip-extended-insert"}, args...)...),
			run("mariadb-replace.sql", []string{"MYSQL_PWD=" + pw}, "mariadb-dump", append([]string{"--replace", "--complete-insert"}, args...)...),
			run("mariadb-compact.sql", []string{"MYSQL_PWD=" + pw}, "mariadb-dump", append([]string{"--compact"}, args...)...),
		}
	}
}

func gzipped(t *testing.T, path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := path + ".gz"
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	w := gzip.NewWriter(f)
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestSQLDumpsImportAsTheLiveDatabase builds one MLflow database on each server from
// hostile values and real data (traces, a registry, logged models), dumps it with that
// database's own tool in each form, and imports every dump into every target: each
// verifies clean against the dump and against the live database it was made from.
func TestSQLDumpsImportAsTheLiveDatabase(t *testing.T) {
	stores := []string{
		hostileStore(t),
		testenv.Sample(t, "shisian512-registry-aliases/mlruns"),
		testenv.Sample(t, "sh0r0ukk-agentic-traces-v3/mlruns"),
	}
	for _, source := range targets {
		t.Run(source.name, func(t *testing.T) {
			live := source.uri(t)
			if _, err := importPaths(t, live, importer.Options{}, stores...); err != nil {
				t.Fatal(err)
			}
			runs := count(t, live, "runs")
			for _, dump := range dumpsOf(t, source.name, live) {
				for _, target := range targets {
					t.Run(filepath.Base(dump)+"/"+target.name, func(t *testing.T) {
						uri := target.uri(t)
						if _, err := importPaths(t, uri, importer.Options{}, dump); err != nil {
							t.Fatal(err)
						}
						if n := count(t, uri, "runs"); n != runs {
							t.Errorf("%d runs, the live database has %d", n, runs)
						}
						if r := verifyPaths(t, uri, dump); len(r.Differences) != 0 {
							t.Errorf("verify the dump: %v", r.Differences)
						}
						if r := verifyPaths(t, uri, live); len(r.Differences) != 0 {
							t.Errorf("verify the live database: %v", r.Differences)
						}
					})
				}
			}
		})
	}
}

// TestSQLDumpOfAnOlderRevision: a dump of a 2.x database (no traces, no logged models)
// reads at its own revision.
func TestSQLDumpOfAnOlderRevision(t *testing.T) {
	older, _ := schema.Lookup("0584bdc529eb")
	for _, source := range targets {
		t.Run(source.name, func(t *testing.T) {
			live := source.uri(t)
			createAt(t, live, older)
			store := hostileStore(t)
			if _, err := importPaths(t, live, importer.Options{}, store); err != nil {
				t.Fatal(err)
			}
			dump := dumpsOf(t, source.name, live)[0]
			uri := testenv.SQLite(t)
			report, err := importPaths(t, uri, importer.Options{}, dump)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(strings.Join(report.Notices, "\n"), "alembic revision 0584bdc529eb") {
				t.Errorf("notes: %v", report.Notices)
			}
			if r := verifyPaths(t, uri, store); len(r.Differences) != 0 {
				t.Errorf("verify against the store: %v", r.Differences)
			}
		})
	}
}

// TestSQLDumpsKeepNUL: text holding NUL, which MariaDB stores, goes through mariadb-dump
// into a database of its kind as it was. (PostgreSQL cannot hold NUL, and the sqlite3
// shell's .dump cuts text at one: those dumps never carry it.)
func TestSQLDumpsKeepNUL(t *testing.T) {
	for _, c := range []struct {
		name string
		uri  func(testing.TB) string
		nul  string
	}{{"mariadb", testenv.MySQL, "CONCAT('a', CHAR(0), 'b')"}} {
		t.Run(c.name, func(t *testing.T) {
			live := c.uri(t)
			store := hostileStore(t)
			if _, err := importPaths(t, live, importer.Options{}, store); err != nil {
				t.Fatal(err)
			}
			setUp(t, live, `UPDATE params SET value = `+c.nul+` WHERE "key" = 'sql'`)
			for _, dump := range dumpsOf(t, c.name, live) {
				uri := c.uri(t)
				if _, err := importPaths(t, uri, importer.Options{}, dump); err != nil {
					t.Fatalf("%s: %v", filepath.Base(dump), err)
				}
				d := openDB(t, uri)
				got := d.rows(`SELECT value FROM params WHERE "key" = 'sql'`)
				d.close()
				if len(got) != 1 || got[0] != "a\x00b" {
					t.Errorf("%s: param %q", filepath.Base(dump), got)
				}
				if r := verifyPaths(t, uri, live); len(r.Differences) != 0 {
					t.Errorf("%s: verify against the live database: %v", filepath.Base(dump), r.Differences)
				}
			}
		})
	}
}

// TestPgDumpOtherSchemasLeftOut: a pg_dump of a database whose other schema holds a
// table named as one of MLflow's gives MLflow's tables alone; the other schema's tables
// are named in the report, and none of their rows is imported.
func TestPgDumpOtherSchemasLeftOut(t *testing.T) {
	live := testenv.Postgres(t)
	store := hostileStore(t)
	if _, err := importPaths(t, live, importer.Options{}, store); err != nil {
		t.Fatal(err)
	}
	setUp(t, live, "CREATE SCHEMA other",
		"CREATE TABLE other.experiment_tags (key VARCHAR(250) NOT NULL, value VARCHAR(5000), experiment_id INTEGER NOT NULL, PRIMARY KEY (key, experiment_id))",
		"INSERT INTO other.experiment_tags VALUES ('intruder', 'x', 0)")
	dump := dumpsOf(t, "postgres", live)[0]
	uri := testenv.SQLite(t)
	report, err := importPaths(t, uri, importer.Options{}, dump)
	if err != nil {
		t.Fatal(err)
	}
	var named bool
	for _, n := range report.Skipped {
		named = named || strings.Contains(n.Reason, "other.experiment_tags")
	}
	if !named {
		t.Errorf("the other schema's table is not named: %+v", report.Skipped)
	}
	d := openDB(t, uri)
	if n := d.count("SELECT COUNT(*) FROM experiment_tags WHERE key = 'intruder'"); n != 0 {
		t.Errorf("%d rows of other.experiment_tags were imported", n)
	}
	d.close()
	if r := verifyPaths(t, uri, store); len(r.Differences) != 0 {
		t.Errorf("verify against the store: %v", r.Differences)
	}
}
