package sqldump

import (
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/mlflow-bulk/mlflow-bulk/sources"
)

func statements(t *testing.T, text string, tl tool) []statement {
	t.Helper()
	s := newScanner(strings.NewReader(text), tl)
	var out []statement
	for {
		st, err := s.next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, st)
		for s.inCopy {
			if _, _, err := s.copyLine(); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func TestScannerSplitsWhereEachToolEndsAStatement(t *testing.T) {
	mysql := "/*M!999999\\- enable the sandbox mode */ \n-- MariaDB dump\n/*!40101 SET NAMES utf8mb4 */;\n" +
		"INSERT INTO `t` VALUES ('a;b\\';c','x'),\n('--not a comment','/*no*/');\n-- Dump completed on 2026-12-04\n"
	got := statements(t, mysql, toolMySQL)
	if len(got) != 1 || got[0].line != 4 || !strings.HasSuffix(got[0].text, `'/*no*/')`) {
		t.Errorf("mysqldump: %+v", got)
	}
	pg := "\\restrict abc\nSET standard_conforming_strings = on;\nCOPY public.t (a, b) FROM stdin;\nx;y\t\\N\n\\.\n" +
		"INSERT INTO public.t VALUES ('it''s \\ ok;', E'\\';x', $q$a;b$q$);\n"
	got = statements(t, pg, toolPostgres)
	if len(got) != 3 || got[1].text != "COPY public.t (a, b) FROM stdin" || got[2].line != 6 {
		t.Errorf("pg_dump: %+v", got)
	}
	sqlite := "PRAGMA foreign_keys=OFF;\nBEGIN TRANSACTION;\nINSERT INTO t VALUES(replace('a\\nb;','\\n',char(10)));\nCOMMIT;\n"
	got = statements(t, sqlite, toolSQLite)
	if len(got) != 4 || got[3].text != "COMMIT" {
		t.Errorf("sqlite3: %+v", got)
	}
}

func TestScannerNamesWhatNeverEnds(t *testing.T) {
	for _, c := range []struct {
		text string
		tl   tool
		want string
	}{
		{"INSERT INTO t VALUES ('a');\nINSERT INTO t VALUES ('b\n\n", toolSQLite, "line 2: the value that starts there never ends"},
		{"INSERT INTO t VALUES (1)\n", toolSQLite, "line 1: the statement that starts there never ends"},
		{"COPY public.t (a) FROM stdin;\nx\n", toolPostgres, "the COPY block never ends"},
		{"/* open\n", toolMySQL, "line 1: the comment that starts there never ends"},
	} {
		s := newScanner(strings.NewReader(c.text), c.tl)
		var err error
		for err == nil {
			_, err = s.next()
			for err == nil && s.inCopy {
				_, _, err = s.copyLine()
			}
		}
		if errors.Is(err, io.EOF) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want %q", c.text, err, c.want)
		}
	}
}

func TestValuesDecodeAsEachToolWrites(t *testing.T) {
	for _, c := range []struct {
		stmt string
		tl   tool
		want []literal
	}{
		{`INSERT INTO t VALUES ('a\tb\nc\\d\'e\"f\0g\Z\%',_binary 'x\0y',0x4142,NULL,-1.5e3)`, toolMySQL, []literal{
			{text: "a\tb\nc\\d'e\"f\x00g\x1a\\%"}, {bytes: []byte("x\x00y"), isBin: true}, {bytes: []byte("AB"), isBin: true}, {null: true}, {text: "-1.5e3", num: true}}},
		{`INSERT INTO public.t (a, b, c, d) VALUES ('it''s \n', E'\t\x41\101\u00e9', 'NaN'::double precision, true)`, toolPostgres, []literal{
			{text: `it's \n`}, {text: "\tAAé"}, {text: "NaN"}, {text: "1", num: true}}},
		{`INSERT INTO "t" VALUES(replace(replace('a\rb\nc','\r',char(13)),'\n',char(10)),X'00ff',unistr('x\000a\+01F600'),1e999)`, toolSQLite, []literal{
			{text: "a\rb\nc"}, {bytes: []byte{0, 0xff}, isBin: true}, {text: "x\n😀"}, {text: "1e999", num: true}}},
	} {
		ins, err := parseInsert(c.stmt, c.tl)
		if err != nil {
			t.Errorf("%s: %v", c.stmt, err)
			continue
		}
		if !reflect.DeepEqual(ins.rows[0], c.want) {
			t.Errorf("%s:\n got %#v\nwant %#v", c.stmt, ins.rows[0], c.want)
		}
	}
}

func TestInsertFormsOfDumpOptions(t *testing.T) {
	for _, c := range []struct {
		stmt string
		tl   tool
	}{
		{"REPLACE INTO `t` VALUES (1,'a')", toolMySQL},
		{"INSERT IGNORE INTO `t` VALUES (1,'a')", toolMySQL},
		{"INSERT OR REPLACE INTO \"t\" VALUES(1,'a')", toolSQLite},
		{"INSERT INTO public.t VALUES (1, 'a') ON CONFLICT DO NOTHING", toolPostgres},
	} {
		ins, err := parseInsert(c.stmt, c.tl)
		if err != nil || ins.table.name != "t" || len(ins.rows) != 1 || ins.rows[0][1].text != "a" {
			t.Errorf("%s: %+v %v", c.stmt, ins, err)
		}
	}
}

func TestCopyFieldsAndConversions(t *testing.T) {
	fields, err := copyFields("a\\tb\\nc\\\\d\t\\N\tt\t-Infinity\t\\\\x41")
	if err != nil {
		t.Fatal(err)
	}
	want := []literal{{text: "a\tb\nc\\d"}, {null: true}, {text: "t"}, {text: "-Infinity"}, {text: `\x41`}}
	if !reflect.DeepEqual(fields, want) {
		t.Errorf("fields %#v", fields)
	}
	for _, c := range []struct {
		v    literal
		k    columnKind
		want any
	}{
		{literal{text: "t"}, kindBoolean, int64(1)}, {literal{text: "0", num: true}, kindBoolean, int64(0)},
		{literal{text: "12345678901234", num: true}, kindInteger, int64(12345678901234)},
		{literal{text: `\x4142`}, kindBinary, []byte("AB")},
		{literal{text: "x"}, kindText, "x"},
	} {
		got, err := convert(c.v, c.k, toolPostgres)
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("convert(%+v) = %#v, %v; want %#v", c.v, got, err, c.want)
		}
	}
	if _, err := convert(literal{text: "a\xffb"}, kindText, toolMySQL); err == nil || !strings.Contains(err.Error(), "not UTF-8") {
		t.Errorf("invalid UTF-8: %v", err)
	}
}

func TestCreateTableOfEachTool(t *testing.T) {
	mysql := "CREATE TABLE `spans` (\n  `trace_id` varchar(50) NOT NULL,\n  `key` varchar(250) NOT NULL DEFAULT 'k',\n" +
		"  `is_nan` tinyint(1) NOT NULL,\n  `duration_ns` bigint(20) GENERATED ALWAYS AS (`end` - `start`) STORED,\n" +
		"  PRIMARY KEY (`trace_id`,`key`),\n  KEY `ix` (`key`),\n" +
		"  CONSTRAINT `fk` FOREIGN KEY (`trace_id`) REFERENCES `trace_info` (`request_id`) ON DELETE CASCADE\n) ENGINE=InnoDB"
	tb, err := parseCreateTable(mysql, toolMySQL, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(tb.columns) != 4 || tb.columns[1].def != "'k'" || tb.columns[2].kind != kindBoolean || tb.columns[3].generated == "" ||
		!reflect.DeepEqual(tb.primaryKey, []string{"trace_id", "key"}) || len(tb.foreignKeys) != 1 || tb.foreignKeys[0].onDelete != "CASCADE" {
		t.Errorf("mysqldump's table: %+v", tb)
	}
	// pg_dump adds keys after the rows; a column named key is a column there.
	pg, err := parseCreateTable("CREATE TABLE public.params (\n    key character varying(250) NOT NULL,\n    value double precision\n)", toolPostgres, 1)
	if err != nil {
		t.Fatal(err)
	}
	tables := dumpTables{{schema: "public", name: "params"}: pg}
	for _, alter := range []string{"ALTER TABLE ONLY public.params\n    ADD CONSTRAINT param_pk PRIMARY KEY (key)",
		"ALTER TABLE ONLY public.params\n    ADD CONSTRAINT fk FOREIGN KEY (key) REFERENCES public.runs(run_uuid)"} {
		if err := parseAlterTable(alter, toolPostgres, tables); err != nil {
			t.Fatal(err)
		}
	}
	if len(pg.columns) != 2 || pg.columns[0].declared != "VARCHAR(250)" || pg.columns[1].kind != kindFloat ||
		!reflect.DeepEqual(pg.primaryKey, []string{"key"}) || pg.foreignKeys[0].refTable != "runs" {
		t.Errorf("pg_dump's table: %+v", pg)
	}
}

func TestSniff(t *testing.T) {
	for head, want := range map[string]string{
		"PGDMP\x01\x0e": "pg_restore -f dump.sql",
		"hello":         "not an SQL dump",
	} {
		_, err := sniff("f.sql", []byte(head))
		var in *sources.InputError
		if !errors.As(err, &in) || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v", head, err)
		}
	}
	for head, want := range map[string]tool{"-- MariaDB dump 10.19": toolMySQL, "--\n-- PostgreSQL database dump\n": toolPostgres, "PRAGMA foreign_keys=OFF;\nBEGIN TRANSACTION;": toolSQLite} {
		if got, err := sniff("f.sql", []byte(head)); err != nil || got != want {
			t.Errorf("%q: %v %v", head, got, err)
		}
	}
}
