package schema

import (
	"fmt"
	"strings"
)

// After 3.14 (b7e4c1a90f23) MLflow published no schema dumps that mlflow-bulk could
// hold as a whole, so the schemas of MLflow 3.15, 3.16 and 3.17 are derived forward:
// 3.14's held DDL with each later revision's changes made, oldest first. A change is
// written here as what the migration did (a column added, an index dropped, a line
// replaced), and the tables and indexes a revision created are held per dialect as
// schema/ddl/<revision>/<dialect>.added.sql. The tests compare what this derives with
// the schema of a real database MLflow 3.15.1 wrote and with MLflow's own later dumps
// (docs/schema-data.md).

// forward is one change a migration made, which apply makes in a dialect's DDL.
type forward interface {
	apply(doc *ddlDoc, d Dialect) error
}

// stepsAfter are the revisions after newestDescribed whose changes are recorded, in
// chain order; the derivation stops at the first revision without a record.
var stepsAfter = map[string][]forward{
	"a8b9c0d1e2f3": {created{"a8b9c0d1e2f3"}},
	"c1d2e3f4a5b6": {removedIndex{"index_spans_experiment_id"}, created{"c1d2e3f4a5b6"}},
	"c3d9e7f1a2b4": {newColumns("budget_policies", all("VARCHAR(255)"), "target_value"), created{"c3d9e7f1a2b4"}},
	"6f8d9c3b2a1e": {newLine{"trace_info", "fk_trace_info_experiment_id", texts{
		MySQL: "CONSTRAINT fk_trace_info_experiment_id FOREIGN KEY(`experiment_id`) REFERENCES experiments (`experiment_id`) ON DELETE CASCADE",
		"":    "CONSTRAINT fk_trace_info_experiment_id FOREIGN KEY(experiment_id) REFERENCES experiments (experiment_id) ON DELETE CASCADE",
	}}},
	"1971f2d9a75b": {created{"1971f2d9a75b"}},
	"17e22815139b": {newDefinition{"experiment_tags", "value", texts{MySQL: "MEDIUMTEXT", "": "TEXT"}}},
	"b7e2c1a4d9f3": {newColumns("jobs", all("VARCHAR(255)"), "creator")},
	"75868b020152": traceAnalytics(),
}

// traceAnalytics is 75868b020152 (MLflow 3.17): the columns traces, spans and
// assessments are summed up by, spans' dimension_attributes dropped, the rollup tables
// and their indexes.
func traceAnalytics() []forward {
	double := texts{SQLite: "FLOAT", Postgres: "DOUBLE PRECISION", MySQL: "DOUBLE"}
	return []forward{
		newColumns("trace_info", all("VARCHAR(4096)"), "trace_name"),
		newColumns("trace_info", all("VARCHAR(250)"), "session_id"),
		newColumns("trace_info", all("BIGINT"), "input_tokens", "output_tokens", "total_tokens", "cache_read_input_tokens",
			"cache_creation_input_tokens", "cache_creation_input_tokens_above_1hr"),
		newColumns("trace_info", double, "input_cost", "output_cost", "total_cost"),
		newColumns("assessments", all("INTEGER"), "experiment_id"),
		newColumns("assessments", all("BIGINT"), "trace_timestamp_ms"),
		newColumns("assessments", double, "aggregate_value"),
		newColumns("assessments", texts{SQLite: "BOOLEAN DEFAULT 0 NOT NULL", Postgres: "BOOLEAN DEFAULT false NOT NULL", MySQL: "TINYINT(1) DEFAULT '0' NOT NULL"}, "is_numeric_value"),
		newColumns("spans", double, "input_cost", "output_cost", "total_cost"),
		newColumns("spans", all("VARCHAR(500)"), "model_name", "model_provider"),
		removedColumn{"spans", "dimension_attributes"},
		created{"75868b020152"},
	}
}

// Creatable reports whether mlflow-bulk can create revision r (on the dialects
// CanCreate names): it holds r's schema, derives it back from a held one, or forward.
func Creatable(r *Revision) bool { return r.Described() || forwardable(r) }

// NewestCreatable is the newest revision mlflow-bulk can create.
func NewestCreatable() *Revision {
	for i := len(chain) - 1; ; i-- {
		if Creatable(&chain[i]) {
			return &chain[i]
		}
	}
}

// NewestCreatableUpTo is the newest revision at or before r that mlflow-bulk creates
// on d, or nil.
func NewestCreatableUpTo(r *Revision, d Dialect) *Revision {
	for i := r.index; i >= 0; i-- {
		if CanCreate(&chain[i], d) {
			return &chain[i]
		}
	}
	return nil
}

// forwardable reports whether the DDL of r is derived forward: r is after the newest
// revision mlflow-bulk holds, and every step up to it is recorded.
func forwardable(r *Revision) bool {
	if r.Described() {
		return false
	}
	for i := Newest().index + 1; i <= r.index; i++ {
		if _, ok := stepsAfter[chain[i].ID]; !ok {
			return false
		}
	}
	return true
}

// deriveForward builds the DDL of r for d from the newest held DDL, making each later
// revision's changes, oldest first.
func deriveForward(r *Revision, d Dialect) ([]string, error) {
	stmts, err := heldStatements(Newest(), d)
	if err != nil {
		return nil, err
	}
	doc := parseDDL(stmts)
	for i := Newest().index + 1; i <= r.index; i++ {
		for _, c := range stepsAfter[chain[i].ID] {
			if err := c.apply(doc, d); err != nil {
				return nil, fmt.Errorf("schema %s on %s, making %s: %w", r.ID, d, chain[i].ID, err)
			}
		}
	}
	return doc.statements(), nil
}

// created: the tables and indexes a revision created, held per dialect.
type created struct{ rev string }

func (c created) apply(doc *ddlDoc, d Dialect) error {
	stmts, err := statementsIn(fmt.Sprintf("ddl/%s/%s.added.sql", c.rev, d))
	if err != nil {
		return err
	}
	added := parseDDL(stmts)
	for _, st := range added.stmts {
		if st.table != "" {
			if _, err := doc.findTable(st.table); err == nil {
				return fmt.Errorf("table %s exists already", st.table)
			}
		}
	}
	doc.stmts = append(doc.stmts, added.stmts...)
	return nil
}

// addedColumnsAfter: columns a revision added to a table with one definition (the text
// after the name), which ALTER TABLE puts after the table's last column.
type addedColumnsAfter struct {
	table      string
	definition texts
	names      []string
}

func newColumns(table string, definition texts, names ...string) addedColumnsAfter {
	return addedColumnsAfter{table, definition, names}
}

func (c addedColumnsAfter) apply(doc *ddlDoc, d Dialect) error {
	definition, ok, err := c.definition.in(d)
	if !ok {
		return err
	}
	st, err := doc.findTable(c.table)
	if err != nil {
		return err
	}
	for _, name := range c.names {
		if _, err := st.lineOf(name, true); err == nil {
			return fmt.Errorf("table %s has a column %s already", c.table, name)
		}
		at := len(st.lines)
		for i, line := range st.lines {
			if fields := strings.Fields(line); len(fields) > 0 && isConstraintLine(fields) {
				at = i
				break
			}
		}
		st.insertLine(at, columnName(d, name)+" "+definition)
	}
	return nil
}

// removedColumn: a column a revision dropped.
type removedColumn struct{ table, name string }

func (c removedColumn) apply(doc *ddlDoc, _ Dialect) error {
	st, i, err := doc.locate(c.table, c.name, true)
	if err != nil {
		return err
	}
	st.removeLine(i)
	return nil
}

// removedIndex: an index a revision dropped.
type removedIndex struct{ name string }

func (c removedIndex) apply(doc *ddlDoc, _ Dialect) error {
	for i, st := range doc.stmts {
		if st.index == c.name {
			doc.stmts = append(doc.stmts[:i], doc.stmts[i+1:]...)
			return nil
		}
	}
	return fmt.Errorf("no index %s", c.name)
}

// newDefinition: a column whose type (and the rest after its name) a revision changed.
type newDefinition struct {
	table, name string
	definition  texts
}

func (c newDefinition) apply(doc *ddlDoc, d Dialect) error {
	definition, ok, err := c.definition.in(d)
	if !ok {
		return err
	}
	return doc.replace(c.table, c.name, true, columnName(d, c.name)+" "+definition)
}

// newLine: a constraint a revision replaced, found by a fragment of its line.
type newLine struct {
	table, fragment string
	line            texts
}

func (c newLine) apply(doc *ddlDoc, d Dialect) error {
	line, ok, err := c.line.in(d)
	if !ok {
		return err
	}
	return doc.replace(c.table, c.fragment, false, line)
}
