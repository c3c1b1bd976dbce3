// Package schemagen turns MLflow's own schema dumps (tests/db/schemas/*.sql of the
// mlflow/mlflow repository at a release) into the DDL files mlflow-bulk creates
// databases from (schema/ddl/<revision>/<dialect>.sql). The dumps hold tables only and
// are not executable as they are; this adds what MLflow's migrations create besides and
// what each dialect needs:
//
//   - statements end with ';' and come parents first;
//   - PostgreSQL: the sequence behind experiments.experiment_id;
//   - MySQL: quoted column names, AUTO_INCREMENT on experiments.experiment_id,
//     tinyint(1) booleans, foreign keys MariaDB names itself (<table>_ibfk_<n>) left
//     unnamed so that their indexes get MariaDB's names too, and the unique keys the
//     MySQL dumps leave out (taken from the PostgreSQL dump);
//   - every dialect: the indexes, which the dumps leave out, from a database MLflow
//     itself created at the revision (an SQLite mlflow.db).
//
// docs/schema-data.md says how to use it for a new MLflow release.
package schemagen

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/mlflow-bulk/mlflow-bulk/schema"
)

// Dialects are the dump files' names, as schema.Dialect spells them.
var Dialects = []string{"postgresql", "mysql", "sqlite"}

// Input is what one revision's DDL is made from.
type Input struct {
	Revision string
	// Dumps holds MLflow's dump per dialect, as the files are.
	Dumps map[string]string
	// Indexes are the CREATE INDEX statements of an SQLite database MLflow created at
	// the revision (sqlite_master's sql of its named indexes), for dumps that leave
	// indexes out (MLflow's dumps list them only from mid-2026 on). A dialect's own
	// dump's indexes win where it has them.
	Indexes []string
}

var (
	createTable = regexp.MustCompile(`^CREATE TABLE (\w+) \(`)
	references  = regexp.MustCompile(`REFERENCES (\w+)`)
	blankLines  = regexp.MustCompile(`\n\s*\n`)
	indexStmt   = regexp.MustCompile(`^CREATE (UNIQUE )?INDEX (\w+) ON "?(\w+)"? \((.*)\)$`)
	pgUnique    = regexp.MustCompile(`(?m)^\tCONSTRAINT (\w+) UNIQUE \(([^)]*)\)`)
	ibfk        = regexp.MustCompile(`CONSTRAINT \w+_ibfk_\d+ FOREIGN KEY`)
	tinyint     = regexp.MustCompile(`\bTINYINT\b`)
)

// Generate returns the DDL file of each dialect.
func Generate(in Input) (map[string]string, error) {
	out := map[string]string{}
	for _, d := range Dialects {
		dump, ok := in.Dumps[d]
		if !ok {
			return nil, fmt.Errorf("no %s dump", d)
		}
		tables, indexes, err := splitTables(dump)
		if err != nil {
			return nil, fmt.Errorf("%s dump: %w", d, err)
		}
		if len(indexes) == 0 {
			indexes = in.Indexes
		}
		if len(indexes) == 0 {
			return nil, fmt.Errorf("the %s dump lists no indexes: give those of a database MLflow created at %s", d, in.Revision)
		}
		if d == "mysql" {
			pgTables, _, err := splitTables(in.Dumps["postgresql"])
			if err != nil {
				return nil, fmt.Errorf("postgresql dump: %w", err)
			}
			sqliteTables, _, err := splitTables(in.Dumps["sqlite"])
			if err != nil {
				return nil, fmt.Errorf("sqlite dump: %w", err)
			}
			for name, stmt := range tables {
				tables[name] = mysqlTable(name, stmt, pgTables[name]+"\n"+sqliteUniques(sqliteTables[name]))
			}
		}
		if d == "postgresql" {
			for name, stmt := range tables {
				// CHECKs as MLflow writes them, so that they read back as MLflow's do.
				tables[name] = schema.CheckAsIn(strings.ReplaceAll(stmt, "DOUBLE_PRECISION", "DOUBLE PRECISION"))
			}
		}
		var b strings.Builder
		fmt.Fprintf(&b, "-- MLflow schema at alembic revision %s, %s dialect.\n", in.Revision, d)
		b.WriteString("-- Tables in foreign-key order; statements end with ';'. Made by internal/schemagen from\n")
		b.WriteString("-- MLflow's schema dumps plus the indexes its migrations create (docs/schema-data.md).\n\n")
		for _, name := range parentsFirst(tables) {
			if d == "postgresql" && name == "experiments" {
				b.WriteString("CREATE SEQUENCE experiments_experiment_id_seq AS integer;\n\n")
			}
			b.WriteString(tables[name] + ";\n\n")
			if d == "postgresql" && name == "experiments" {
				b.WriteString("ALTER SEQUENCE experiments_experiment_id_seq OWNED BY experiments.experiment_id;\n\n")
			}
		}
		for _, stmt := range indexes {
			idx, err := indexFor(d, stmt)
			if err != nil {
				return nil, err
			}
			b.WriteString(idx + ";\n")
		}
		out[d] = b.String()
	}
	return out, nil
}

// splitTables reads a dump's CREATE TABLE statements by table name, and its CREATE
// INDEX lines (newer dumps list a table's indexes after it, one a line).
func splitTables(dump string) (map[string]string, []string, error) {
	tables := map[string]string{}
	var indexes []string
	for _, stmt := range blankLines.Split(dump, -1) {
		stmt = strings.TrimSpace(stmt)
		if stmt == "" {
			continue
		}
		if strings.HasPrefix(stmt, "CREATE INDEX") || strings.HasPrefix(stmt, "CREATE UNIQUE INDEX") {
			indexes = append(indexes, strings.Split(stmt, "\n")...)
			continue
		}
		m := createTable.FindStringSubmatch(stmt)
		if m == nil {
			return nil, nil, fmt.Errorf("not a CREATE TABLE or CREATE INDEX statement: %.60q", stmt)
		}
		tables[m[1]] = stmt
	}
	if len(tables) == 0 {
		return nil, nil, fmt.Errorf("no tables")
	}
	return tables, indexes, nil
}

// parentsFirst orders tables so that referenced ones come first, alembic_version first
// of all, by name otherwise.
func parentsFirst(tables map[string]string) []string {
	names := make([]string, 0, len(tables))
	for n := range tables {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool {
		if (names[i] == "alembic_version") != (names[j] == "alembic_version") {
			return names[i] == "alembic_version"
		}
		return names[i] < names[j]
	})
	done := map[string]bool{}
	var out []string
	var visit func(string)
	visit = func(n string) {
		if done[n] {
			return
		}
		done[n] = true
		for _, m := range references.FindAllStringSubmatch(tables[n], -1) {
			if _, ok := tables[m[1]]; ok {
				visit(m[1])
			}
		}
		out = append(out, n)
	}
	for _, n := range names {
		visit(n)
	}
	return out
}

// sqliteUnique is an unnamed unique key of an SQLite dump's table.
var sqliteUnique = regexp.MustCompile(`(?m)^\tUNIQUE \(([^)]*)\)`)

// sqliteUniques are the unnamed unique keys of an SQLite dump's table in PostgreSQL's
// form (<table>_<columns>_key): MLflow's PostgreSQL dumps leave out registered_models'
// UNIQUE (name) of 1.x and 2.x, which MLflow creates on MySQL (MariaDB names it name).
func sqliteUniques(stmt string) string {
	name := ""
	if m := createTable.FindStringSubmatch(strings.TrimSpace(stmt)); m != nil {
		name = m[1]
	}
	var out []string
	for _, m := range sqliteUnique.FindAllStringSubmatch(stmt, -1) {
		out = append(out, "\tCONSTRAINT "+name+"_"+strings.ReplaceAll(m[1], ", ", "_")+"_key UNIQUE ("+m[1]+")")
	}
	return strings.Join(out, "\n")
}

// mysqlTable makes a MySQL dump's CREATE TABLE executable and equal to what MLflow's
// migrations create.
func mysqlTable(name, stmt, pgStmt string) string {
	lines := strings.Split(stmt, "\n")
	for i, line := range lines[1 : len(lines)-1] {
		line = strings.TrimRight(line, ",")
		comma := strings.HasSuffix(lines[i+1], ",")
		trimmed := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(trimmed, "PRIMARY KEY"), strings.HasPrefix(trimmed, "CONSTRAINT"), strings.HasPrefix(trimmed, "UNIQUE"), strings.HasPrefix(trimmed, "CHECK"):
			line = "\t" + quoteColumnLists(trimmed)
			line = ibfk.ReplaceAllString(line, "FOREIGN KEY")
		default:
			col, rest, _ := strings.Cut(trimmed, " ")
			line = "\t`" + col + "` " + tinyint.ReplaceAllString(rest, "TINYINT(1)")
			if name == "experiments" && col == "experiment_id" && !strings.Contains(rest, "AUTO_INCREMENT") {
				line += " AUTO_INCREMENT"
			}
		}
		if comma {
			line += ","
		}
		lines[i+1] = line
	}
	out := strings.Join(lines, "\n")
	// Unique keys MLflow creates on MySQL too, which its MySQL dumps leave out.
	for _, m := range pgUnique.FindAllStringSubmatch(pgStmt, -1) {
		cols := quoteList(m[2])
		if strings.Contains(out, "UNIQUE ("+cols+")") {
			continue
		}
		constraint := "CONSTRAINT " + m[1] + " UNIQUE (" + cols + ")"
		if m[1] == name+"_"+strings.ReplaceAll(m[2], ", ", "_")+"_key" {
			constraint = "UNIQUE (" + cols + ")" // PostgreSQL's name for an unnamed key
		}
		// After the primary key, where MLflow's tables declare their unique keys.
		lines := strings.Split(out, "\n")
		at := len(lines) - 1
		for i, line := range lines {
			if strings.HasPrefix(strings.TrimSpace(line), "PRIMARY KEY") {
				at = i + 1
			}
		}
		if at == len(lines)-1 {
			lines[at-1] += ","
			lines = append(lines[:at], append([]string{"\t" + constraint}, lines[at:]...)...)
		} else {
			lines = append(lines[:at], append([]string{"\t" + constraint + ","}, lines[at:]...)...)
		}
		out = strings.Join(lines, "\n")
	}
	return out
}

var columnList = regexp.MustCompile(`\(([\w, ]+)\)`)

// quoteColumnLists backquotes the column names in the parenthesised lists of a
// constraint (keys, foreign keys, their references).
func quoteColumnLists(s string) string {
	if strings.HasPrefix(s, "CHECK") || strings.Contains(s, " CHECK ") {
		return s
	}
	return columnList.ReplaceAllStringFunc(s, func(m string) string {
		return "(" + quoteList(m[1:len(m)-1]) + ")"
	})
}

func quoteList(list string) string {
	parts := strings.Split(list, ",")
	for i, p := range parts {
		parts[i] = "`" + strings.Trim(strings.TrimSpace(p), "`\"") + "`"
	}
	return strings.Join(parts, ", ")
}

// indexFor writes an index of MLflow's SQLite database for a dialect.
func indexFor(d, stmt string) (string, error) {
	stmt = strings.TrimSuffix(strings.TrimSpace(stmt), ";")
	m := indexStmt.FindStringSubmatch(stmt)
	if m == nil {
		return "", fmt.Errorf("not an index statement: %q", stmt)
	}
	unique, name, table, cols := m[1], m[2], m[3], m[4]
	switch d {
	case "mysql":
		cols = quoteList(cols)
	default:
		cols = strings.ReplaceAll(cols, `"`, "")
		cols = regexp.MustCompile(`\bkey\b`).ReplaceAllString(cols, `"key"`)
	}
	return fmt.Sprintf("CREATE %sINDEX %s ON %s (%s)", unique, name, table, cols), nil
}
