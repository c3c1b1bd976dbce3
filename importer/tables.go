package importer

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/mlflow-bulk/mlflow-bulk/importer/rules"
	"github.com/mlflow-bulk/mlflow-bulk/remedy"
	"github.com/mlflow-bulk/mlflow-bulk/tablerows"

	"github.com/mlflow-bulk/mlflow-bulk/schema"
	"github.com/mlflow-bulk/mlflow-bulk/sources"
)

// Tables without rules of their own (jobs, scorers, gateway endpoints, review queues,
// and whatever a newer MLflow adds) are copied row by row as the source database holds
// them. The only values that change are experiment ids, mapped as the experiments were;
// a row the target already holds (same primary key) is left as the target has it.

// ErrUnsupported stops an import whose sources hold data the target has no place for.
var ErrUnsupported = errors.New("the target cannot hold everything the sources have")

// tableCopier writes the tables a source copies as rows (a database's or a dump's tables
// mlflow-bulk has no entity of its own for), and names before anything is written what a
// source holds that the target has no place for.
type tableCopier struct {
	base
	exps *experimentMapper
	runs runLookup
	// commit ends the batch once copied rows fill it (the importer's).
	commit func(ctx context.Context, reopen bool) error
	widths *columnWidths
	// checked: the sources whose tables were compared with the target before writing.
	checked map[int]bool
}

// checkUnsupported compares, before anything is written, what table sources hold with
// what the target's tables can hold.
func (tc *tableCopier) checkUnsupported(ctx context.Context, srcs []sources.Source) error {
	var problems []string
	tc.checked = map[int]bool{}
	for i, src := range srcs {
		ts, ok := src.(sources.TableSource)
		if !ok {
			continue
		}
		tc.checked[i] = true
		found, err := ts.Unsupported(ctx, tc.targetTables)
		if err != nil {
			return err
		}
		for _, u := range found {
			if tc.exps.workspaceUnsupported(u) {
				// --workspace merges the source's workspaces: nothing is missing.
				continue
			}
			tc.report.Unsupported = append(tc.report.Unsupported, UnsupportedData{Source: src.Describe(), Unsupported: u})
			what := "table " + u.Table
			if u.Column != "" {
				what = "column " + u.Table + "." + u.Column
			}
			why := fmt.Sprintf("the target at revision %s has no such %s", tc.rev.ID, strings.Fields(what)[0])
			if u.Reason != "" {
				why = u.Reason
			}
			problems = append(problems, fmt.Sprintf("  %s: %s, %d rows: %s", src.Describe(), what, u.Rows, why))
			if tc.opts.SkipUnsupported {
				done := "left out"
				if u.Reason != "" {
					done = "imported as that says"
				}
				tc.noteSkipped(src.Describe()+" "+u.Table, fmt.Sprintf("%s, %d rows: %s; %s (%s)", what, u.Rows, why, done, remedy.Mention(OptionSkipUnsupported)))
			}
		}
	}
	tc.countedBeforeWriting = len(tc.report.Unsupported)
	if len(problems) == 0 || tc.opts.SkipUnsupported {
		return nil
	}
	if workspaceProblem(tc.report.Unsupported) {
		return remedy.With(fmt.Errorf("%w: %s at revision %s lacks\n%s\nNothing was written. Import into a target of MLflow 3.10 or later, or put the sources' workspaces into one",
			ErrUnsupported, tc.sink.Describe(), tc.rev.ID, strings.Join(problems, "\n")),
			remedy.Remedy{Option: OptionWorkspace, Value: "NAME", Does: "to put them into workspace NAME"},
			remedy.Remedy{Option: OptionDefaultWorkspace, Does: "to put them into the default one"}, skipUnsupported)
	}
	return remedy.With(fmt.Errorf("%w: %s at revision %s lacks\n%s\nNothing was written. Create the target with a newer schema ('mlflow-bulk schema init --revision ...' on an empty database), "+
		"or upgrade it with 'mlflow db upgrade' from the MLflow release the source comes from",
		ErrUnsupported, tc.sink.Describe(), tc.rev.ID, strings.Join(problems, "\n")), skipUnsupported)
}

// workspaceProblem reports whether what a target lacks is workspaces.
func workspaceProblem(found []UnsupportedData) bool {
	for _, u := range found {
		if u.Column == "workspace" || u.Table == "workspaces" {
			return true
		}
	}
	return false
}

// unsupportedRows catches, for sources the check before writing cannot ask (a dump),
// rows of a table the target lacks, or values of a column it lacks: an error, or under
// --skip-unsupported a note. A database source's are named before anything is written.
func (tc *tableCopier) unsupportedRows(c *sources.TableChunk, target *schema.TableInfo) error {
	what, n := c.UnsupportedIn(target)
	if n == 0 || (tc.opts.Workspace != "" && (c.Table.Name == "workspaces" || what == "column "+c.Table.Name+".workspace")) {
		return nil
	}
	if !tc.opts.SkipUnsupported {
		return remedy.With(fmt.Errorf("%w: %s: %s, %d rows: the target at revision %s has no such %s; create the target with a newer schema, "+
			"or upgrade it with 'mlflow db upgrade'",
			ErrUnsupported, c.Origin.File, what, n, tc.rev.ID, strings.Fields(what)[0]), skipUnsupported)
	}
	tc.noteSkipped(c.Origin.File, fmt.Sprintf("%s, %d rows: the target at revision %s has no such %s; left out (%s)", what, n, tc.rev.ID, strings.Fields(what)[0], remedy.Mention(OptionSkipUnsupported)))
	return nil
}

// tableChunk copies rows of a table without rules.
func (tc *tableCopier) tableChunk(ctx context.Context, source int, c *sources.TableChunk) error {
	name := c.Table.Name
	count := tc.committed.table(name)
	count.Read += int64(len(c.Rows))
	target := tc.targetTables[name]
	if !tc.checked[source] {
		if err := tc.unsupportedRows(c, target); err != nil {
			return err
		}
	}
	sourceRows, copied := tc.exps.workspaceRows(name, c.Columns, c.Rows)
	if !copied {
		count.Merged += int64(len(c.Rows))
		return nil
	}
	if target == nil {
		count.Skipped += int64(len(c.Rows)) // --skip-unsupported; unsupportedRows noted it
		return nil
	}
	// Rows of earlier records (runs that issues refer to, say) go first.
	if err := tc.runs.flushAll(ctx); err != nil {
		return err
	}
	c = &sources.TableChunk{Table: c.Table, Columns: c.Columns, Rows: sourceRows, Origin: c.Origin}
	rows, names, err := tc.copiedRows(ctx, source, c, target, count)
	if err != nil {
		return err
	}
	key := tablerows.KeyColumns(target, names)
	existing, err := tablerows.ReadRowsByKey(ctx, tc.tx, tc.dialect, target, names, key, rows)
	if err != nil {
		return err
	}
	var fresh [][]any
	var differ int64
	for _, row := range rows {
		held, ok := existing[tablerows.RowKey(row, key)]
		switch {
		case !ok:
			fresh = append(fresh, row)
		case tablerows.SameRow(row, held):
			count.Merged++
		case bareWorkspace(name, names, held):
			// A workspace this or an earlier import created for the experiments it
			// wrote takes the source's description and settings.
			if err := tc.exps.fillWorkspace(ctx, names, row); err != nil {
				return err
			}
			count.Merged++
		case tc.opts.OnExistingRun == rules.ExistingRunFail:
			return remedy.With(fmt.Errorf("%s: a row of %s with key %s is in the target with other values, and the import was to stop at what the target holds",
				c.Origin.File, name, strings.ReplaceAll(tablerows.RowKey(row, key), "\x1f", ", ")),
				remedy.Remedy{Option: OptionOnExistingRun, Value: string(rules.ExistingRunMerge), Does: "to keep the target's row and report it"})
		default:
			count.Skipped++
			differ++
		}
	}
	if differ > 0 {
		tc.noteSkipped(c.Origin.File, fmt.Sprintf("%d rows of %s kept as the target has them: the target holds rows with the same primary key and other values", differ, name))
	}
	if err := tc.insertRows(ctx, name, names, fresh); err != nil {
		return fmt.Errorf("%s: %w", c.Origin.File, err)
	}
	if name == "secrets" && len(fresh) > 0 && !tc.notedOnce["secrets"] {
		tc.notedOnce["secrets"] = true
		tc.report.Notices = append(tc.report.Notices, "gateway secrets were copied encrypted, as they are: the target's MLflow server reads them only with the "+
			"source server's key (the same MLFLOW_CRYPTO_KEK_PASSPHRASE and MLFLOW_CRYPTO_KEK_VERSION)")
	}
	tc.batch.table(name).Created += int64(len(fresh))
	tc.batchRows += len(fresh)
	if tc.batchRows >= tc.opts.batchRows() {
		return tc.commit(ctx, true)
	}
	return nil
}

// mapRow maps the experiment ids of a row; false when one names an experiment that was
// not imported.
func (tc *tableCopier) mapRow(source int, c *sources.TableChunk, row []any, expCols []int) ([]any, bool) {
	return tablerows.MapExperimentIDs(c.Table.Name, c.Columns, row, expCols, func(id string) (int64, bool) {
		target, ok := tc.exps.expIDs[expKey{source, id}]
		return target, ok
	})
}

// targetValue converts a value to what the target's column takes where drivers differ:
// SQLite and MySQL keep booleans as integers, PostgreSQL wants them as booleans.
func targetValue(v any, col *schema.ColumnInfo, d schema.Dialect) any {
	if d.Database().NativeBooleans && col.Boolean {
		switch x := v.(type) {
		case int64:
			return x != 0
		case string:
			return x == "1" || strings.EqualFold(x, "true")
		}
	}
	if b, ok := v.(bool); ok && !d.Database().NativeBooleans {
		if b {
			return int64(1)
		}
		return int64(0)
	}
	return v
}

// insertRows writes rows with multi-row INSERTs.
func (tc *tableCopier) insertRows(ctx context.Context, table string, names []string, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	quoted := make([]string, len(names))
	for i, n := range names {
		quoted[i] = tc.dialect.Quote(n)
	}
	one := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(names)), ", ") + ")"
	per := max(1, tablerows.MaxParams/len(names))
	for start := 0; start < len(rows); start += per {
		end := min(start+per, len(rows))
		var args []any
		for _, row := range rows[start:end] {
			args = append(args, row...)
		}
		query := fmt.Sprintf("INSERT INTO %s (%s) VALUES %s", tc.dialect.Quote(table), strings.Join(quoted, ", "),
			strings.TrimSuffix(strings.Repeat(one+", ", end-start), ", "))
		stored, err := tc.tx.Exec(ctx, query, args...)
		if err != nil {
			return fmt.Errorf("insert into %s: %w", table, err)
		}
		if err := checkStored(table, int64(end-start), stored); err != nil {
			return err
		}
	}
	return nil
}

// cellText is the text of a row's cell at i, false when there is none.
func cellText(row []any, i int) (string, bool) {
	if i < 0 || i >= len(row) {
		return "", false
	}
	switch v := row[i].(type) {
	case string:
		return v, true
	case []byte:
		return string(v), true
	}
	return "", false
}

// copiedRows are the rows of a chunk as the target takes them, in its columns names:
// invalid ones left out (or the import stopped), experiment ids mapped, rows of
// experiments not imported left out.
func (tc *tableCopier) copiedRows(ctx context.Context, source int, c *sources.TableChunk, target *schema.TableInfo, count *Count) ([][]any, []string, error) {
	cols, names := tablerows.WritableColumns(target, c.Columns)
	expCols := tablerows.ExperimentColumns(c.Table, c.Columns)
	rows := make([][]any, 0, len(c.Rows))
	var unmapped int64
	for i, row := range c.Rows {
		err := tc.checkCopiedRow(ctx, c, target, row)
		var invalid *invalidRowError
		if err != nil && !errors.As(err, &invalid) {
			return nil, nil, err // reading the target failed
		}
		if err != nil {
			count.Rejected++
			if err := tc.invalid(&sources.InputError{File: c.Origin.File, Line: c.Origin.Line + i, Err: err}); err != nil {
				return nil, nil, err
			}
			continue
		}
		out, ok := tc.mapRow(source, c, row, expCols)
		if !ok {
			unmapped++
			continue
		}
		picked := make([]any, len(cols))
		for j, i := range cols {
			picked[j] = targetValue(out[i], target.Column(c.Columns[i]), tc.dialect)
		}
		rows = append(rows, picked)
	}
	if unmapped > 0 {
		count.Skipped += unmapped
		tc.noteSkipped(c.Origin.File, fmt.Sprintf("%d rows of %s left out: they belong to experiments not imported (filtered out, or not in the source)", unmapped, c.Table.Name))
	}
	return rows, names, nil
}

// invalidRowError is a row copied as it is that is invalid input.
type invalidRowError struct{ err error }

func (e *invalidRowError) Error() string { return e.err.Error() }
func (e *invalidRowError) Unwrap() error { return e.err }

// checkCopiedRow checks a row of a table copied as it is before it is written: its
// values as MLflow keeps them, their widths in the target's columns, and the workspace
// it names. Invalid input is an *invalidRowError; any other error is the target's.
func (tc *tableCopier) checkCopiedRow(ctx context.Context, c *sources.TableChunk, target *schema.TableInfo, row []any) error {
	name := c.Table.Name
	if err := tc.asm.CheckRow("a row of "+name, c.Columns, row); err != nil {
		return &invalidRowError{err}
	}
	err := tc.widths.overLong(ctx, tc.tx, "a row of "+name+rowKeyText(c.Columns, row, target.PrimaryKey), name, c.Columns, row)
	var tooLong *tooLongError
	switch {
	case errors.As(err, &tooLong):
		return &invalidRowError{err}
	case err != nil:
		return err
	}
	wsCol := tablerows.IndexOf(c.Columns, "workspace")
	if name == "workspaces" {
		wsCol = tablerows.IndexOf(c.Columns, "name")
	}
	if ws, isText := cellText(row, wsCol); isText {
		if err := tc.exps.checkSourceWorkspace(ws); err != nil {
			return &invalidRowError{fmt.Errorf("a row of %s: %w", name, err)}
		}
	}
	return nil
}
