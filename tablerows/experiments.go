package tablerows

import (
	"fmt"
	"strconv"

	"github.com/mlflow-bulk/mlflow-bulk/schema"
)

// polymorphicRefs are references that no foreign key declares: a type column saying
// what an id column names. Where the type is EXPERIMENT the id is an experiment id.
var polymorphicRefs = map[string][][2]string{
	"entity_associations": {{"source_type", "source_id"}, {"destination_type", "destination_id"}},
}

// ExperimentColumns are the columns of a table that hold experiment ids: those whose
// foreign key refers to experiments, and columns named experiment_id that no foreign key
// declares (spans.experiment_id).
func ExperimentColumns(t *schema.TableInfo, columns []string) []int {
	var out []int
	for i, c := range columns {
		ref, refCol := t.References(c)
		if (ref == "experiments" && refCol == "experiment_id") || (ref == "" && c == "experiment_id") {
			out = append(out, i)
		}
	}
	return out
}

// MapExperimentIDs rewrites the experiment ids of a row (the columns expCols, and the
// polymorphic references of the table) with lookup; false when lookup knows one not.
// The row itself is not changed.
func MapExperimentIDs(table string, columns []string, row []any, expCols []int, lookup func(string) (int64, bool)) ([]any, bool) {
	out := row
	cloned := false
	set := func(i int, v any) {
		if !cloned {
			out = append([]any(nil), row...)
			cloned = true
		}
		out[i] = v
	}
	for _, i := range expCols {
		if row[i] == nil {
			continue
		}
		id, ok := lookup(IDText(row[i]))
		if !ok {
			return nil, false
		}
		set(i, id)
	}
	for _, ref := range polymorphicRefs[table] {
		ti, ii := IndexOf(columns, ref[0]), IndexOf(columns, ref[1])
		if ti < 0 || ii < 0 || IDText(row[ti]) != "EXPERIMENT" || row[ii] == nil {
			continue
		}
		id, ok := lookup(IDText(row[ii]))
		if !ok {
			return nil, false
		}
		set(ii, strconv.FormatInt(id, 10))
	}
	return out, true
}

// IDText is an id value as text, as experiment ids are keyed.
func IDText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []byte:
		return string(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}

// PlaceInWorkspace puts rows copied as they are (jobs, gateway endpoints, …) into
// workspace ws (--workspace): their workspace column says ws. The rows of the workspaces
// table itself are not copied then (false), as the one workspace is the import's own.
// The rows given are not changed.
func PlaceInWorkspace(table string, columns []string, rows [][]any, ws string) ([][]any, bool) {
	if ws == "" {
		return rows, true
	}
	if table == "workspaces" {
		return nil, false
	}
	i := IndexOf(columns, "workspace")
	if i < 0 {
		return rows, true
	}
	out := make([][]any, len(rows))
	for r, row := range rows {
		out[r] = append([]any(nil), row...)
		out[r][i] = ws
	}
	return out, true
}
