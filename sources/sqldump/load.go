package sqldump

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/mlflow-bulk/mlflow-bulk/schema"
	"github.com/mlflow-bulk/mlflow-bulk/sinks"
	"github.com/mlflow-bulk/mlflow-bulk/sources"
	"github.com/mlflow-bulk/mlflow-bulk/sources/database"
)

// rowsPerCopy bounds the rows held before they go into the scratch database.
const rowsPerCopy = 1000

// load reads the dump twice: first its schema (pg_dump adds keys after the data), then
// its rows, into the scratch database at uri, in one transaction.
//
// It returns the tables of the dump that are not MLflow's: those of other schemas.
func load(ctx context.Context, path string, t tool, uri string, opts database.Options) (others []tableKey, err error) {
	all, err := readSchema(ctx, path, t)
	if err != nil {
		return nil, err
	}
	tables, others, err := all.mlflowSchema()
	if err != nil {
		return nil, &sources.InputError{File: path, Err: fmt.Errorf("a %s dump %w", t, err)}
	}
	sink, err := opts.Drivers.Open(ctx, uri, sinks.Options{Unchecked: true})
	if err != nil {
		return nil, fmt.Errorf("%s: a scratch database to read it: %w", path, err)
	}
	defer sink.Close()
	defer func() {
		if err != nil && sink.Classify(err) == sinks.DiskFull {
			err = fmt.Errorf("%s: the temporary folder %s (TMPDIR), where mlflow-bulk loads the dump to read it, is full: "+
				"point TMPDIR at a disk with room for about the dump's size and run the same command again: %w", path, os.TempDir(), err)
		}
	}()
	tx, err := sink.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s: a scratch database to read it: %w", path, err)
	}
	defer func() { _ = tx.Rollback(ctx) }() // after Commit it does nothing
	quote := sink.Dialect().Quote
	for _, tb := range tables.ordered() {
		if !tb.hasRows && !schema.Modelled(tb.name) && tb.name != "alembic_version" {
			continue // empty, and not one of MLflow's own: nothing of it to read
		}
		tb.created = true
		if err := execOne(ctx, tx, tb.scratchDDL(quote, true)); err != nil {
			// An expression this database cannot compute: the column is filled from the
			// dump's values instead, as the target computes its own anyway.
			if err := execOne(ctx, tx, tb.scratchDDL(quote, false)); err != nil {
				return nil, &sources.InputError{File: path, Line: tb.line, Err: fmt.Errorf("table %s: %w", tb.name, err)}
			}
			for i := range tb.columns {
				tb.columns[i].generated = ""
			}
		}
	}
	l := &loader{ctx: ctx, path: path, tool: t, tables: tables, others: map[tableKey]bool{}, tx: tx, classify: sink.Classify}
	for _, k := range others {
		l.others[k] = true
	}
	if err := l.loadRows(); err != nil {
		return nil, err
	}
	// The database reader asks for a run's rows by run id, a trace's by its id: each
	// foreign key gets an index (built once, after the rows), as MLflow's schema has.
	for _, tb := range tables.ordered() {
		for i, fk := range tb.foreignKeys {
			if len(fk.columns) == 0 || !tb.created {
				continue
			}
			cols := make([]string, len(fk.columns))
			for j, c := range fk.columns {
				cols[j] = quote(c)
			}
			stmt := fmt.Sprintf("CREATE INDEX %s ON %s (%s)", quote(fmt.Sprintf("mlflow_bulk_scratch_%s_%d", tb.name, i)), quote(tb.name), strings.Join(cols, ", "))
			if err := execOne(ctx, tx, stmt); err != nil {
				return nil, fmt.Errorf("%s: index the scratch copy's table %s: %w", path, tb.name, err)
			}
		}
	}
	return others, tx.Commit(ctx)
}

// execOne runs one statement mlflow-bulk built for the scratch database. It is built
// from parsed and checked parts only; as a second guard, a text that would hold a second
// statement is refused before it reaches a database that runs several per call.
func execOne(ctx context.Context, tx sinks.Tx, stmt string) error {
	l := &lexer{src: stmt, tool: toolSQLite}
	for !l.done() {
		tk, err := l.next()
		if err != nil {
			return fmt.Errorf("a statement for the scratch database that does not read back: %w", err)
		}
		if tk.kind == tokPunct && tk.text == ";" {
			return fmt.Errorf("a statement for the scratch database that holds more than one")
		}
	}
	_, err := tx.Exec(ctx, stmt)
	return err
}

// schemaTables are the dump's tables by name, in the order it creates them.
type schemaTables map[string]*table

func (s schemaTables) ordered() []*table {
	out := make([]*table, 0, len(s))
	for _, tb := range s {
		out = append(out, tb)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].line < out[j].line })
	return out
}

// dumpTables are every table a dump creates, by schema and name.
type dumpTables map[tableKey]*table

// mlflowSchema picks the tables of the schema MLflow's tables are in (the one holding
// alembic_version), by name, and lists the others, which are left out: a table of the
// same name in another schema is not MLflow's.
func (d dumpTables) mlflowSchema() (schemaTables, []tableKey, error) {
	var homes []string
	for k := range d {
		if k.name == "alembic_version" {
			homes = append(homes, k.schema)
		}
	}
	switch len(homes) {
	case 0:
		return nil, nil, fmt.Errorf("without MLflow's alembic_version table: not a dump of an MLflow database (or not of all its tables)")
	case 1:
	default:
		sort.Strings(homes)
		return nil, nil, fmt.Errorf("with MLflow's tables in %d schemas (%s): dump one of them (pg_dump -n SCHEMA) and import each dump on its own", len(homes), strings.Join(homes, ", "))
	}
	tables, others := schemaTables{}, []tableKey{}
	for k, tb := range d {
		if k.schema == homes[0] {
			tables[k.name] = tb
		} else {
			others = append(others, k)
		}
	}
	sort.Slice(others, func(i, j int) bool { return others[i].String() < others[j].String() })
	return tables, others, nil
}

// readSchema is the first pass: every CREATE TABLE, and the keys ALTER TABLE adds.
// It notes the tables rows go into, so that an empty table that is not one of MLflow's
// own is not created in the scratch database: SQLite takes longer to create each table
// the more it holds, and a dump may hold tens of thousands of empty ones.
func readSchema(ctx context.Context, path string, t tool) (dumpTables, error) {
	tables := dumpTables{}
	err := eachStatement(ctx, path, t, func(s *scanner, st statement) error {
		switch {
		case hasPrefixFold(st.text, "CREATE TABLE"):
			tb, err := parseCreateTable(st.text, t, st.line)
			if err != nil {
				return err
			}
			tables[tableKey{schema: tb.schema, name: tb.name}] = tb
		case hasPrefixFold(st.text, "ALTER TABLE"):
			return parseAlterTable(st.text, t, tables)
		case hasPrefixFold(st.text, "INSERT") || hasPrefixFold(st.text, "REPLACE"):
			if key, err := insertTarget(&lexer{src: st.text, tool: t}); err == nil && tables[key] != nil {
				tables[key].hasRows = true
			}
		case s.inCopy:
			key, _, _ := copyTarget(st.text, t) // a bad COPY line is the second pass's to name
			for {
				_, more, err := s.copyLine()
				if err != nil || !more {
					return err
				}
				if tables[key] != nil {
					tables[key].hasRows = true
				}
			}
		}
		return nil
	})
	return tables, err
}

// copyTarget is the table of a COPY statement, and the columns it names.
func copyTarget(text string, t tool) (tableKey, []string, error) {
	lx := &lexer{src: text, tool: t}
	if err := expectWords(lx, "COPY"); err != nil {
		return tableKey{}, nil, err
	}
	key, err := qualifiedName(lx)
	if err != nil {
		return tableKey{}, nil, err
	}
	var named []string
	if lx.peekPunct('(') {
		if named, err = nameList(lx); err != nil {
			return tableKey{}, nil, err
		}
	}
	return key, named, nil
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// eachStatement streams the dump's statements to fn; an error names the dump and line.
func eachStatement(ctx context.Context, path string, t tool, fn func(*scanner, statement) error) error {
	r, closeText, err := openText(path)
	if err != nil {
		return err
	}
	defer func() { _ = closeText() }() // read only: closing cannot lose anything
	s := newScanner(r, t)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		st, err := s.next()
		if errors.Is(err, io.EOF) {
			if !s.complete() {
				return &sources.InputError{File: path, Line: s.line, Err: fmt.Errorf("the dump ends before %s's closing line: it was cut short (a copy or a dump that did not finish); "+
					"mlflow-bulk reads only complete dumps", t)}
			}
			return nil
		}
		if err != nil {
			return inputError(path, 0, err)
		}
		if err := fn(s, st); err != nil {
			var in *sources.InputError
			if errors.As(err, &in) || errors.Is(err, context.Canceled) {
				return err
			}
			return inputError(path, st.line, err)
		}
	}
}

// loader is the second pass: the dump's rows into the scratch database.
type loader struct {
	ctx    context.Context
	path   string
	tool   tool
	tables schemaTables
	// others are the tables of schemas that are not MLflow's: their rows are passed over.
	others map[tableKey]bool
	tx     sinks.Tx
	// pending rows of one table, written together.
	table   *table
	columns []string
	rows    [][]any
	// lines are where the pending rows start in the dump: the first and the last.
	lines [2]int
	// classify tells the scratch database's failures apart.
	classify func(error) sinks.ErrorKind
}

func (l *loader) loadRows() error {
	err := eachStatement(l.ctx, l.path, l.tool, func(s *scanner, st statement) error {
		switch {
		case hasPrefixFold(st.text, "INSERT") || hasPrefixFold(st.text, "REPLACE"):
			return l.insert(st)
		case s.inCopy:
			return l.copyBlock(s, st)
		case hasPrefixFold(st.text, "UPDATE") || hasPrefixFold(st.text, "DELETE") || hasPrefixFold(st.text, "MERGE"):
			// Rows changed after they were dumped: not a plain dump, and taking the
			// inserts alone would import rows the database no longer held as they were.
			return fmt.Errorf("a statement that changes rows (%s), which a dump of a database does not hold: give mlflow-bulk the dump as its tool wrote it", strings.Fields(st.text)[0])
		}
		return nil
	})
	if err != nil {
		return err
	}
	return l.flush()
}

// insert takes the rows of an INSERT statement.
func (l *loader) insert(st statement) error {
	ins, err := parseInsert(st.text, l.tool)
	if err != nil {
		return err
	}
	tb, err := l.lookup(ins.table)
	if tb == nil || err != nil {
		return err
	}
	width := 0
	if len(ins.rows) > 0 {
		width = len(ins.rows[0])
	}
	cols, err := targetColumns(tb, ins.columns, width)
	if err != nil {
		return err
	}
	for i, row := range ins.rows {
		if err := l.add(tb, cols, row, st.line+ins.rowLines[i]); err != nil {
			return &sources.InputError{File: l.path, Line: st.line + ins.rowLines[i], Err: fmt.Errorf("table %s: %w", tb.name, err)}
		}
	}
	return nil
}

// copyBlock takes the data lines of a pg_dump COPY block.
func (l *loader) copyBlock(s *scanner, st statement) error {
	name, named, err := copyTarget(st.text, l.tool)
	if err != nil {
		return err
	}
	tb, err := l.lookup(name)
	if err != nil {
		return err
	}
	if tb == nil { // another schema's: its lines are passed over
		for {
			_, more, err := s.copyLine()
			if err != nil || !more {
				return err
			}
		}
	}
	cols, err := targetColumns(tb, named, -1)
	if err != nil {
		return err
	}
	for {
		line, more, err := s.copyLine()
		if err != nil || !more {
			return err
		}
		fields, err := copyFields(line)
		if err == nil {
			err = l.add(tb, cols, fields, s.line-1)
		}
		if err != nil {
			return &sources.InputError{File: l.path, Line: s.line - 1, Err: fmt.Errorf("table %s: %w", tb.name, err)}
		}
	}
}

// lookup is the MLflow table rows go into; nil for a table of another schema, whose rows
// are passed over.
func (l *loader) lookup(key tableKey) (*table, error) {
	if l.others[key] {
		return nil, nil
	}
	if tb := l.tables[key.name]; tb != nil && (key.schema == "" || key.schema == tb.schema) {
		return tb, nil
	}
	return nil, fmt.Errorf("rows for table %s, which the dump does not create", key)
}

// targetColumns are the table's columns a statement's values go to, in its order (its
// own list, or all of the table's). Without a list, rows of width values (-1: unknown)
// that leave out exactly the generated columns go to the others: the sqlite3 shell's
// .dump writes such INSERTs, without a list, for a table with a generated column.
func targetColumns(tb *table, named []string, width int) ([]*column, error) {
	if len(named) == 0 {
		cols := make([]*column, 0, len(tb.columns))
		var stored []*column
		for i := range tb.columns {
			cols = append(cols, &tb.columns[i])
			if !tb.columns[i].declaredGenerated {
				stored = append(stored, &tb.columns[i])
			}
		}
		if width >= 0 && width != len(cols) && width == len(stored) {
			return stored, nil
		}
		return cols, nil
	}
	cols := make([]*column, len(named))
	for i, n := range named {
		if cols[i] = tb.column(n); cols[i] == nil {
			return nil, fmt.Errorf("table %s has no column %s", tb.name, n)
		}
	}
	return cols, nil
}

// add converts one row and queues it; a generated column's value is the database's.
func (l *loader) add(tb *table, cols []*column, values []literal, line int) error {
	if len(values) != len(cols) {
		return fmt.Errorf("a row of %d values for %d columns", len(values), len(cols))
	}
	if l.table != tb || !sameColumns(l.columns, cols) {
		// Another table, or the same with another column list: what is pending goes
		// first, as it was listed.
		if err := l.flush(); err != nil {
			return err
		}
		l.table, l.columns = tb, nil
		for _, c := range cols {
			if c.generated == "" {
				l.columns = append(l.columns, c.name)
			}
		}
	}
	row := make([]any, 0, len(l.columns))
	for i, c := range cols {
		if c.generated != "" {
			continue
		}
		v, err := convert(values[i], c.kind, l.tool)
		if err != nil {
			return fmt.Errorf("column %s: %w", c.name, err)
		}
		row = append(row, v)
	}
	if len(l.rows) == 0 {
		l.lines[0] = line
	}
	l.lines[1] = line
	l.rows = append(l.rows, row)
	if len(l.rows) >= rowsPerCopy {
		return l.flush()
	}
	return nil
}

// sameColumns tells whether the columns written of cols are names, in order.
func sameColumns(names []string, cols []*column) bool {
	i := 0
	for _, c := range cols {
		if c.generated != "" {
			continue
		}
		if i >= len(names) || names[i] != c.name {
			return false
		}
		i++
	}
	return i == len(names)
}

func (l *loader) flush() error {
	if len(l.rows) == 0 {
		return nil
	}
	src := &sliceRows{rows: l.rows, i: -1}
	if _, err := l.tx.CopyFrom(l.ctx, l.table.name, l.columns, src); err != nil {
		if l.classify(err) == sinks.UniqueViolation {
			return &sources.InputError{File: l.path, Line: l.lines[0], Err: fmt.Errorf("table %s: a row of lines %d to %d has the key of another row of the dump "+
				"(INSERT … ON DUPLICATE KEY UPDATE and ON CONFLICT DO UPDATE change a row: such a file is not a dump of one state of a database); "+
				"give mlflow-bulk the dump as its tool wrote it: %w", l.table.name, l.lines[0], l.lines[1], err)}
		}
		return fmt.Errorf("table %s: %w", l.table.name, err)
	}
	l.rows = l.rows[:0]
	return nil
}

// sliceRows hands buffered rows to CopyFrom.
type sliceRows struct {
	rows [][]any
	i    int
}

func (s *sliceRows) Next() bool             { s.i++; return s.i < len(s.rows) }
func (s *sliceRows) Values() ([]any, error) { return s.rows[s.i], nil }
func (s *sliceRows) Err() error             { return nil }

// inputError is err at line of the dump, or at the line err names itself (a COPY block
// that never ends is at its own line, not the statement's), which is named once.
func inputError(path string, line int, err error) *sources.InputError {
	var at *lineError
	if errors.As(err, &at) {
		return &sources.InputError{File: path, Line: at.line, Err: at.err}
	}
	return &sources.InputError{File: path, Line: line, Err: err}
}
