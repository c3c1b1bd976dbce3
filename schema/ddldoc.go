package schema

import (
	"fmt"
	"regexp"
	"strings"
)

// ddlDoc is a held DDL file as statements that can be edited: tables as lines (columns
// and constraints), indexes by name, anything else kept as it is. It is how the schema of
// a revision between two held ones is derived (history.go): the nearer newer file, with
// what later revisions did taken back.
type ddlDoc struct {
	stmts []*ddlStmt
}

type ddlStmt struct {
	table string   // CREATE TABLE: the table's name
	lines []string // CREATE TABLE: its columns and constraints, without trailing commas
	index string   // CREATE [UNIQUE] INDEX: the index's name
	on    string   // CREATE [UNIQUE] INDEX: its table
	text  string   // anything else, and an index's whole statement
}

var (
	createTableRe = regexp.MustCompile(`^CREATE TABLE ("?\w+"?) \(\n([\s\S]*)\n\)$`)
	createIndexRe = regexp.MustCompile(`^CREATE (?:UNIQUE )?INDEX (\w+) ON (\w+) \(`)
)

func parseDDL(stmts []string) *ddlDoc {
	doc := &ddlDoc{}
	for _, s := range stmts {
		if m := createTableRe.FindStringSubmatch(s); m != nil {
			st := &ddlStmt{table: strings.Trim(m[1], `"`)}
			for _, line := range strings.Split(m[2], "\n") {
				st.lines = append(st.lines, strings.TrimSuffix(strings.TrimSpace(line), ","))
			}
			doc.stmts = append(doc.stmts, st)
			continue
		}
		if m := createIndexRe.FindStringSubmatch(s); m != nil {
			doc.stmts = append(doc.stmts, &ddlStmt{index: m[1], on: m[2], text: s})
			continue
		}
		doc.stmts = append(doc.stmts, &ddlStmt{text: s})
	}
	return doc
}

func (doc *ddlDoc) statements() []string {
	out := make([]string, 0, len(doc.stmts))
	for _, st := range doc.stmts {
		if st.table == "" {
			out = append(out, st.text)
			continue
		}
		out = append(out, "CREATE TABLE "+st.table+" (\n\t"+strings.Join(st.lines, ",\n\t")+"\n)")
	}
	return out
}

func (doc *ddlDoc) findTable(name string) (*ddlStmt, error) {
	for _, st := range doc.stmts {
		if st.table == name {
			return st, nil
		}
	}
	return nil, fmt.Errorf("no table %s", name)
}

// unquoted drops MySQL's backquotes, so that one fragment finds a line in every dialect.
func unquoted(s string) string { return strings.ReplaceAll(s, "`", "") }

// lineOf finds the one line of a table that holds fragment (backquotes aside); a column
// is found by "name " at the line's start.
func (st *ddlStmt) lineOf(fragment string, column bool) (int, error) {
	found := -1
	for i, line := range st.lines {
		l := unquoted(line)
		hit := strings.Contains(l, fragment)
		if column {
			hit = strings.HasPrefix(l, fragment+" ")
		}
		if !hit {
			continue
		}
		if found >= 0 {
			return 0, fmt.Errorf("table %s: %q is in more than one line", st.table, fragment)
		}
		found = i
	}
	if found < 0 {
		return 0, fmt.Errorf("table %s: no line holds %q", st.table, fragment)
	}
	return found, nil
}

func (st *ddlStmt) removeLine(i int) { st.lines = append(st.lines[:i], st.lines[i+1:]...) }

func (st *ddlStmt) insertLine(i int, line string) {
	st.lines = append(st.lines[:i], append([]string{line}, st.lines[i:]...)...)
}

// columnName quotes a column as the dialect's held DDL writes it.
func columnName(d Dialect, name string) string {
	if d == MySQL {
		return "`" + name + "`"
	}
	return name
}

// constraintWords start the lines of a CREATE TABLE that are not columns.
var constraintWords = map[string]bool{"PRIMARY": true, "CONSTRAINT": true, "FOREIGN": true, "UNIQUE": true, "CHECK": true, "KEY": true, "INDEX": true}

// isConstraintLine tells a CREATE TABLE's constraint or index line from a column's: a
// column may be named key (MLflow's tags are), but MySQL's index lines are KEY name (…).
func isConstraintLine(fields []string) bool {
	word := strings.ToUpper(fields[0])
	if word != "KEY" && word != "INDEX" {
		return constraintWords[word]
	}
	return len(fields) > 1 && strings.HasPrefix(fields[1], "(") || len(fields) > 2 && strings.HasPrefix(fields[2], "(")
}

// DDLColumnsOf are the columns of each table of a revision's statements, lower case.
func DDLColumnsOf(stmts []string) map[string]map[string]bool {
	out := map[string]map[string]bool{}
	for _, st := range parseDDL(stmts).stmts {
		if st.table == "" {
			continue
		}
		cols := map[string]bool{}
		for _, line := range st.lines {
			fields := strings.Fields(line)
			if len(fields) == 0 || isConstraintLine(fields) {
				continue
			}
			cols[strings.ToLower(strings.Trim(fields[0], "\"`"))] = true
		}
		out[strings.ToLower(st.table)] = cols
	}
	return out
}
