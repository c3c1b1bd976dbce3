package schema

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// ErrStrayTables stops completing an interrupted schema creation whose tables are not
// all of the revision being created: resuming over them would leave a database of two
// revisions, which no MLflow release opens.
var ErrStrayTables = errors.New("the target's tables are not those of the schema being created")

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

// ddlColumnsOf are the columns of each table of a revision's statements, lower case.
func ddlColumnsOf(stmts []string) map[string]map[string]bool {
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

// checkResumable compares the tables an interrupted creation left with those of the
// revision being created: each must be one of its tables, with its columns. It names
// every one that is not.
func checkResumable(ctx context.Context, db DB, d Dialect, r *Revision, stmts []string) error {
	have, err := Inspect(ctx, db, d)
	if err != nil {
		return err
	}
	want := ddlColumnsOf(stmts)
	var strays []string
	for name, t := range have {
		if OwnTable(name) {
			continue
		}
		cols, ok := want[strings.ToLower(name)]
		if !ok {
			strays = append(strays, fmt.Sprintf("table %s is not in it", name))
			continue
		}
		var extra []string
		seen := map[string]bool{}
		for _, c := range t.Columns {
			lower := strings.ToLower(c.Name)
			seen[lower] = true
			if !cols[lower] {
				extra = append(extra, c.Name)
			}
		}
		var missing []string
		for c := range cols {
			if !seen[c] {
				missing = append(missing, c)
			}
		}
		sort.Strings(extra)
		sort.Strings(missing)
		switch {
		case len(extra) > 0 && len(missing) > 0:
			strays = append(strays, fmt.Sprintf("table %s has %s, which it lacks, and lacks %s", name, strings.Join(extra, ", "), strings.Join(missing, ", ")))
		case len(extra) > 0:
			strays = append(strays, fmt.Sprintf("table %s has %s, which it lacks", name, strings.Join(extra, ", ")))
		case len(missing) > 0:
			strays = append(strays, fmt.Sprintf("table %s lacks %s", name, strings.Join(missing, ", ")))
		}
	}
	if len(strays) == 0 {
		return nil
	}
	sort.Strings(strays)
	return fmt.Errorf("%w: the database holds part of a schema (an interrupted creation), but not of %s's: %s. "+
		"It holds no data: drop those tables (or the database) and create the schema again", ErrStrayTables, r, strings.Join(strays, "; "))
}
