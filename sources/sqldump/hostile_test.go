package sqldump

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/mlflow-bulk/mlflow-bulk/drivers/all"
	"github.com/mlflow-bulk/mlflow-bulk/sources"
	"github.com/mlflow-bulk/mlflow-bulk/sources/database"
)

// hostileHeads start a dump of each tool, so that the lines after them are read as that
// tool writes.
var hostileHeads = map[tool]string{
	toolSQLite:   "PRAGMA foreign_keys=OFF;\nBEGIN TRANSACTION;\nCREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL);\n",
	toolMySQL:    "-- MariaDB dump 10.19\n/*!40101 SET NAMES utf8mb4 */;\nCREATE TABLE `alembic_version` (`version_num` varchar(32) NOT NULL);\n",
	toolPostgres: "--\n-- PostgreSQL database dump\n--\nSET standard_conforming_strings = on;\nCREATE TABLE public.alembic_version (version_num character varying(32) NOT NULL);\n",
}

var hostileTails = map[tool]string{
	toolSQLite:   "COMMIT;\n",
	toolMySQL:    "-- Dump completed on 2026-12-07\n",
	toolPostgres: "--\n-- PostgreSQL database dump complete\n--\n",
}

// readDumpIn reads text as a dump of tl in a new working folder (where a relative ATTACH
// would create its file) and returns the files that folder and the scratch's parent then
// hold besides the dump.
func readDumpIn(t testing.TB, tl tool, body string) []string {
	dir := t.TempDir()
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	t.Chdir(dir)
	return readDump(t, dir, tmp, tl, body)
}

// readDump reads text as a dump of tl from dir, with the working folder dir and TMPDIR
// tmp, and returns the files both then hold besides the dump (which it removes).
func readDump(t testing.TB, dir, tmp string, tl tool, body string) []string {
	path := filepath.Join(dir, "dump.sql")
	if err := os.WriteFile(path, []byte(hostileHeads[tl]+body+hostileTails[tl]), 0o600); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(path)
	src, err := Open(context.Background(), path, database.Options{Drivers: all.Registry()})
	if err == nil {
		_ = src.Close()
	}
	var stray []string
	for _, d := range []string{dir, tmp} {
		_ = filepath.WalkDir(d, func(p string, e os.DirEntry, err error) error {
			if err == nil && !e.IsDir() && p != path {
				stray = append(stray, p)
			}
			return nil
		})
	}
	sort.Strings(stray)
	return stray
}

// TestHostileDDLReachesNoOtherFile: names, generated expressions and ON DELETE actions
// that close the scratch's statement and ATTACH another file, in each tool's quoting,
// neither create that file nor touch another database.
func TestHostileDDLReachesNoOtherFile(t *testing.T) {
	escape := `) STORED); COMMIT; ATTACH DATABASE 'pwned.db' AS pw; CREATE TABLE pw.x(y INTEGER); BEGIN; CREATE TABLE zz(q INTEGER --`
	for _, c := range []struct {
		name string
		tl   tool
		body string
	}{
		{"sqlite3 generated name", toolSQLite, `CREATE TABLE evil (a INTEGER, b INTEGER GENERATED ALWAYS AS ("a""` + escape + `"));` + "\n"},
		{"mysqldump generated name", toolMySQL, "CREATE TABLE `evil` (`a` int, `b` int GENERATED ALWAYS AS (`a\"" + escape + "`) STORED);\n"},
		{"pg_dump generated name", toolPostgres, `CREATE TABLE public.evil (a integer, b integer GENERATED ALWAYS AS ("a""` + escape + `") STORED);` + "\n"},
		{"sqlite3 table name", toolSQLite, `CREATE TABLE "evil"" (a INTEGER); ATTACH DATABASE 'pwned.db' AS pw; --" (a INTEGER);` + "\n"},
		{"sqlite3 column name", toolSQLite, `CREATE TABLE evil ("a"" INTEGER); ATTACH DATABASE 'pwned.db' AS pw; --" INTEGER);` + "\n"},
		{"on delete", toolSQLite, `CREATE TABLE p (id INTEGER PRIMARY KEY);` + "\n" +
			`CREATE TABLE evil (a INTEGER, FOREIGN KEY (a) REFERENCES p (id) ON DELETE "CASCADE); COMMIT; ATTACH DATABASE 'pwned.db' AS V; CREATE TABLE V.metrics(x INTEGER); BEGIN; CREATE TABLE q (b INTEGER");` + "\n"},
		{"generated semicolon", toolSQLite, `CREATE TABLE evil (a INTEGER, b INTEGER GENERATED ALWAYS AS (a ; ATTACH DATABASE 'pwned.db' AS pw) STORED);` + "\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if stray := readDumpIn(t, c.tl, c.body); len(stray) > 0 {
				t.Errorf("reading the dump left files behind: %v", stray)
			}
		})
	}
}

// TestHostileGeneratedExpressionIsRefused: an expression outside the closed grammar is
// invalid input that names the column; one inside it is rebuilt with its names quoted.
func TestHostileGeneratedExpressionIsRefused(t *testing.T) {
	_, err := parseCreateTable("CREATE TABLE t (a INTEGER, b INTEGER GENERATED ALWAYS AS (a ; DROP TABLE t) STORED)", toolSQLite, 1)
	if err == nil || !strings.Contains(err.Error(), "column b") || !strings.Contains(err.Error(), `";"`) {
		t.Errorf("err = %v", err)
	}
	tb, err := parseCreateTable("CREATE TABLE `spans` (`end` bigint, `start` bigint, `d` bigint GENERATED ALWAYS AS ((`end` - `start`)) STORED)", toolMySQL, 1)
	if err != nil {
		t.Fatal(err)
	}
	if got := tb.columns[2].generated; got != `( ( "end" - "start" ) )` {
		t.Errorf("generated = %q", got)
	}
	tb, err = parseCreateTable(`CREATE TABLE t (a INTEGER, b INTEGER GENERATED ALWAYS AS ("a""b") STORED)`, toolSQLite, 1)
	if err != nil {
		t.Fatal(err)
	}
	if got := tb.columns[1].generated; got != `( "a""b" )` {
		t.Errorf("generated = %q", got)
	}
	_, err = parseCreateTable(`CREATE TABLE t (a INTEGER REFERENCES p (id) ON DELETE "CASCADE; x")`, toolSQLite, 1)
	if err == nil || !strings.Contains(err.Error(), "ON DELETE") {
		t.Errorf("err = %v", err)
	}
	tb, err = parseCreateTable(`CREATE TABLE t (a INTEGER REFERENCES p (id) ON DELETE SET NULL, b INTEGER REFERENCES p (id) ON DELETE NO ACTION)`, toolSQLite, 1)
	if err != nil || tb.foreignKeys[0].onDelete != "SET NULL" || tb.foreignKeys[1].onDelete != "NO ACTION" {
		t.Errorf("%+v, %v", tb, err)
	}
}

// FuzzDumpReaders reads any text as each tool's dump: whatever it holds, the read
// leaves no file behind (besides the dump) in the working folder or TMPDIR.
func FuzzDumpReaders(f *testing.F) {
	for _, seed := range []string{
		`CREATE TABLE evil (a INTEGER, b INTEGER GENERATED ALWAYS AS ("a"") STORED); COMMIT; ATTACH DATABASE 'pwned.db' AS pw; CREATE TABLE pw.x(y INTEGER); BEGIN; CREATE TABLE zz(q INTEGER --"));`,
		"CREATE TABLE `t` (`a` int, CONSTRAINT `f` FOREIGN KEY (`a`) REFERENCES `p` (`id`) ON DELETE CASCADE);\nINSERT INTO `t` VALUES (1);",
		"CREATE TABLE public.t (a integer);\nCOPY public.t (a) FROM stdin;\n1\n\\.\n",
		"INSERT INTO alembic_version VALUES('1b5f0d9ad7c1');",
		"ATTACH DATABASE 'pwned.db' AS pw;\nCREATE TABLE pw.x (y INTEGER);",
	} {
		for tl := range hostileHeads {
			f.Add(uint8(tl), seed)
		}
	}
	dir, tmp := f.TempDir(), f.TempDir()
	f.Setenv("TMPDIR", tmp)
	f.Chdir(dir)
	f.Fuzz(func(t *testing.T, which uint8, body string) {
		tl := tool(int(which) % 3)
		if stray := readDump(t, dir, tmp, tl, body); len(stray) > 0 {
			for _, p := range stray {
				_ = os.RemoveAll(p)
			}
			t.Errorf("reading the dump left files behind: %v", stray)
		}
	})
}

// TestStaleScratchIsRemoved: a scratch folder a killed process left in TMPDIR (its
// process id no longer runs) is removed by the next read; one of a running process stays.
func TestStaleScratchIsRemoved(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	stale := filepath.Join(tmp, fmt.Sprintf("%s%d-123", scratchPrefix, dead.Process.Pid))
	live := filepath.Join(tmp, fmt.Sprintf("%s%d-456", scratchPrefix, os.Getppid()))
	for _, d := range []string{stale, live} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "dump.db"), []byte("secrets"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	readDump(t, dir, tmp, toolSQLite, "")
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the dead process's scratch is still there: %v", err)
	}
	if _, err := os.Stat(live); err != nil {
		t.Errorf("a running process's scratch was removed: %v", err)
	}
}

// TestEmptyTablesAreNotCopied: a dump of thousands of empty tables that are not MLflow's
// creates none of them in the scratch database (SQLite takes longer for each table the
// more it holds), while MLflow's own tables and tables with rows are created.
func TestEmptyTablesAreNotCopied(t *testing.T) {
	var b strings.Builder
	b.WriteString("CREATE TABLE experiments (experiment_id INTEGER PRIMARY KEY, name VARCHAR(256));\n")
	for i := range 3000 {
		fmt.Fprintf(&b, "CREATE TABLE empty_%d (id INTEGER PRIMARY KEY, v TEXT);\n", i)
	}
	b.WriteString("CREATE TABLE jobs (id INTEGER PRIMARY KEY, v TEXT);\nINSERT INTO jobs VALUES(1,'x');\n")
	names := scratchRows(t, toolSQLite, b.String(), "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
	if strings.Join(names, ",") != "alembic_version,experiments,jobs" {
		t.Errorf("the scratch database holds %d tables: %.200v", len(names), names)
	}
}

// scratchRows loads a dump of tl into a new scratch database and returns the rows of a
// query there, each as text.
func scratchRows(t *testing.T, tl tool, body, query string) []string {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "dump.sql")
	if err := os.WriteFile(path, []byte(hostileHeads[tl]+body+hostileTails[tl]), 0o600); err != nil {
		t.Fatal(err)
	}
	uri, _ := all.Registry().FileURI(filepath.Join(dir, "scratch.db"))
	if _, err := load(context.Background(), path, tl, uri, database.Options{Drivers: all.Registry()}); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", filepath.Join(dir, "scratch.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(query)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		texts := make([]string, len(vals))
		for i, v := range vals {
			if b, ok := v.([]byte); ok {
				v = string(b)
			}
			texts[i] = fmt.Sprint(v)
		}
		out = append(out, strings.Join(texts, " "))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestSQLiteDumpLeavesGeneratedColumnsOut: the sqlite3 shell's .dump writes a table with
// a generated column (MLflow's spans.duration_ns) with INSERTs that have no column list
// and no value for that column; they fill the other columns, and the scratch computes it.
func TestSQLiteDumpLeavesGeneratedColumnsOut(t *testing.T) {
	got := scratchRows(t, toolSQLite, "CREATE TABLE spans (trace_id VARCHAR(50) NOT NULL, start_time_unix_nano BIGINT, end_time_unix_nano BIGINT, "+
		"duration_ns BIGINT GENERATED ALWAYS AS (end_time_unix_nano - start_time_unix_nano) STORED, content TEXT);\n"+
		"INSERT INTO spans VALUES('tr-1',100,350,'{}');\n", "SELECT trace_id, start_time_unix_nano, end_time_unix_nano, duration_ns, content FROM spans")
	if strings.Join(got, "|") != "tr-1 100 350 250 {}" {
		t.Errorf("spans: %q", got)
	}
}

// TestInsertsWithOtherColumnLists: INSERTs into one table with different column lists
// each fill their own columns.
func TestInsertsWithOtherColumnLists(t *testing.T) {
	got := scratchRows(t, toolSQLite, "CREATE TABLE t (a INTEGER, b TEXT, c TEXT);\nINSERT INTO t(a,b) VALUES(1,'b1');\nINSERT INTO t(a,c) VALUES(2,'c2');\n",
		"SELECT a, b, c FROM t ORDER BY a")
	if strings.Join(got, "|") != "1 b1 <nil>|2 <nil> c2" {
		t.Errorf("rows: %q", got)
	}
}

// TestRowsCollidingInTheScratchNameTheirLines: two rows of one key (what INSERT … ON
// CONFLICT DO UPDATE rows make) are invalid input naming the dump's lines.
func TestRowsCollidingInTheScratchNameTheirLines(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "dump.sql")
	body := "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT);\nINSERT INTO t VALUES(1,'a');\nINSERT INTO t VALUES(1,'b') ON CONFLICT (id) DO UPDATE SET v = 'b';\n"
	if err := os.WriteFile(path, []byte(hostileHeads[toolSQLite]+body+hostileTails[toolSQLite]), 0o600); err != nil {
		t.Fatal(err)
	}
	uri, _ := all.Registry().FileURI(filepath.Join(dir, "scratch.db"))
	_, err := load(context.Background(), path, toolSQLite, uri, database.Options{Drivers: all.Registry()})
	var in *sources.InputError
	if !errors.As(err, &in) || in.File != path || in.Line != 5 || !strings.Contains(err.Error(), "lines 5 to 6") {
		t.Errorf("colliding rows: %v", err)
	}
}

// TestCutDumpNamesOneLine: a pg_dump cut inside a COPY block is bad input at the line
// where the file ends, named once (not the statement's line and the scanner's both).
func TestCutDumpNamesOneLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cut.sql")
	text := hostileHeads[toolPostgres] + "COPY public.alembic_version (version_num) FROM stdin;\n1b2c3d4e5f60\n"
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	src, err := Open(context.Background(), path, database.Options{Drivers: all.Registry()})
	if src != nil {
		src.Close()
	}
	var in *sources.InputError
	if !errors.As(err, &in) || in.Line != 8 || strings.Contains(in.Err.Error(), "line 8") || !strings.Contains(err.Error(), "cut.sql:8: the COPY block never ends") {
		t.Fatalf("a cut COPY block: %v", err)
	}
}
