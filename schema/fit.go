package schema

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// MLflow ships a schema change every few weeks, so a database newer than the binary is
// the common case, not the exception: it is read and written by what it has. A database
// at a revision mlflow-bulk does not know is written as the newest revision it knows
// (everything it writes is that revision's) when its tables hold every column it writes,
// wide enough, and none of the columns it leaves out must be given a value. The columns
// it leaves out are then at their defaults, and the report names them.

// RequiredColumnError is a column of a target table that every row must give a value
// (NOT NULL, no default) and that mlflow-bulk does not write: no row could be inserted.
type RequiredColumnError struct {
	Revision string
	Columns  []string // "table.column"
	// Known: the revision is one mlflow-bulk knows, whose tables were changed since.
	Known bool
}

// Unwrap makes it an unknown revision to errors.As too.
func (e *RequiredColumnError) Unwrap() error { return &UnknownRevisionError{ID: e.Revision} }

func (e *RequiredColumnError) Error() string {
	if e.Known {
		return fmt.Sprintf("the target is at alembic revision %s, but its tables have columns that MLflow's schema of it lacks, that every row must fill, "+
			"and that mlflow-bulk does not write: %s. Nothing was written; drop those columns or give them defaults, or import into a database MLflow made", e.Revision, strings.Join(e.Columns, ", "))
	}
	return fmt.Sprintf("the target is at alembic revision %s, which mlflow-bulk does not know, and its tables have columns that every row must fill and that mlflow-bulk does not write: %s. "+
		"Nothing was written; upgrade mlflow-bulk, or import into a database of an MLflow release it knows (%s)", e.Revision, strings.Join(e.Columns, ", "), SupportedReleases())
}

// UnknownColumns lists the columns of the tables mlflow-bulk has rules for that MLflow's
// schema at r does not have, as "table.column", sorted: those every row must fill
// (required), and the others. Generated columns are the database's and left out. With
// traces, the tables of traces count too: their rows are copied by the columns both
// sides have, so a source's trace columns are all read, but a target's unknown ones are
// left at their defaults (MLflow 3.17's trace analytics columns, for one).
func UnknownColumns(r *Revision, d Dialect, tables map[string]*TableInfo, traces bool) (required, others []string) {
	inDDL := ddlColumns(r.DescribedBase(), d)
	for table, cols := range TraceAnalyticsColumns {
		// Filled only where the table has the whole set, as MLflow's migration adds it.
		if info := tables[table]; info == nil || !hasAll(info, cols) {
			continue
		}
		if inDDL[table] == nil {
			inDDL[table] = map[string]bool{}
		}
		for _, c := range cols {
			inDDL[table][c] = true
		}
	}
	names := make([]string, 0, len(trackingTables)+len(traceTables))
	for _, t := range trackingTables {
		if r.HasTable(t.name) {
			names = append(names, t.name)
		}
	}
	if traces {
		names = append(names, traceTables...)
	}
	for _, name := range names {
		info := tables[name]
		if info == nil {
			continue
		}
		known := map[string]bool{}
		if IsTrackingTable(name) {
			for _, c := range r.Columns(name) {
				known[c] = true
			}
		}
		for c := range inDDL[name] {
			known[c] = true
		}
		for _, c := range info.Columns {
			switch {
			case known[c.Name] || c.Generated:
			case c.Required:
				required = append(required, name+"."+c.Name)
			default:
				others = append(others, name+"."+c.Name)
			}
		}
	}
	sort.Strings(required)
	sort.Strings(others)
	return required, others
}

// TraceAnalyticsColumns are the columns MLflow 3.17 (75868b020152) added to the trace
// tables, newer than the newest schema mlflow-bulk holds, which it fills all the same
// (importer/rules, as MLflow's migration does).
var TraceAnalyticsColumns = map[string][]string{
	"trace_info": {"trace_name", "session_id", "input_tokens", "output_tokens", "total_tokens", "cache_read_input_tokens",
		"cache_creation_input_tokens", "cache_creation_input_tokens_above_1hr", "input_cost", "output_cost", "total_cost"},
	"spans":       {"input_cost", "output_cost", "total_cost", "model_name", "model_provider"},
	"assessments": {"experiment_id", "trace_timestamp_ms", "aggregate_value", "is_numeric_value"},
}

func hasAll(t *TableInfo, columns []string) bool {
	for _, c := range columns {
		if t.Column(c) == nil {
			return false
		}
	}
	return true
}

// HeldElsewhere reports whether a column of a trace table that a target lacks is held
// there all the same: MLflow 3.17's analytics columns go back into the tags, request
// metadata, span_metrics and spans.dimension_attributes an older target keeps them in
// (or are derived, as the assessments' are), and spans.dimension_attributes of an older
// source goes into a newer target's model columns.
func HeldElsewhere(table, column string, target map[string]*TableInfo) bool {
	has := func(table, column string) bool {
		t := target[table]
		return t != nil && (column == "" || t.Column(column) != nil)
	}
	switch {
	case table == "spans" && column == "dimension_attributes":
		return has("spans", "model_name")
	case table == "spans" && (column == "model_name" || column == "model_provider"):
		return has("spans", "dimension_attributes")
	case table == "spans":
		return slices.Contains(TraceAnalyticsColumns["spans"], column) && has("span_metrics", "")
	}
	return slices.Contains(TraceAnalyticsColumns[table], column) && table != "spans"
}

// DerivedTables are tables MLflow builds from other rows on request (3.17's daily trace
// rollups, by `mlflow db build-trace-rollups`): never copied, left for MLflow to build.
var DerivedTables = []string{"sql_trace_metric_daily_rollups", "sql_span_cost_daily_rollups", "sql_assessment_daily_rollups", "sql_trace_rollup_rebuild_queue"}

// traceTables are the tables a trace is written into, copied by the columns both sides
// have.
var traceTables = []string{"trace_info", "trace_tags", "trace_request_metadata", "assessments", "spans"}

func IsTrackingTable(name string) bool {
	for _, t := range trackingTables {
		if t.name == name {
			return true
		}
	}
	return false
}

// ddlColumns lists the columns of each table of MLflow's schema at r, from the DDL
// mlflow-bulk holds for it (none where it holds none).
func ddlColumns(r *Revision, d Dialect) map[string]map[string]bool {
	out := map[string]map[string]bool{}
	stmts, err := Statements(r, d)
	if err != nil {
		return out
	}
	for _, stmt := range stmts {
		rest, ok := strings.CutPrefix(stmt, "CREATE TABLE ")
		if !ok {
			continue
		}
		name, body, ok := strings.Cut(rest, " (")
		if !ok {
			continue
		}
		cols := map[string]bool{}
		for _, line := range strings.Split(body, "\n") {
			fields := strings.Fields(line)
			if len(fields) < 2 {
				continue
			}
			// Keywords are upper case in MLflow's dumps; a column named key is not.
			switch fields[0] {
			case "CONSTRAINT", "PRIMARY", "FOREIGN", "UNIQUE", "CHECK", "KEY", "INDEX":
				continue
			}
			cols[strings.ToLower(strings.Trim(fields[0], "`\"[]"))] = true
		}
		out[strings.ToLower(strings.Trim(name, "`\""))] = cols
	}
	return out
}
