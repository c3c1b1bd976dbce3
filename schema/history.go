package schema

import "fmt"

// What each revision did to the schema, so that a revision's DDL can be derived from the
// nearest newer one mlflow-bulk holds (schema/ddl): walking the chain back, each step's
// changes are taken back in reverse order. mlflow-bulk holds complete DDL at a few
// revisions (MLflow's own dumps and real databases); every other revision, and so every
// release head from 1.0 to 3.14, is derived, and the tests check each derivation that
// reaches a held revision against it (docs/schema-data.md).

// step is one revision's changes, as alembic applied them, oldest first.
type step struct {
	rev     string
	changes []change
}

// change is one change a migration made, which undo takes back in a dialect's DDL.
type change interface {
	undo(doc *ddlDoc, d Dialect) error
}

// texts is a text per dialect; the "" key is the text for every dialect not named. An
// empty text says the change did nothing on that dialect; a dialect with neither its
// own text nor the common one lacks a text, which is an error, not "nothing".
type texts map[Dialect]string

func (t texts) in(d Dialect) (string, bool, error) {
	if v, ok := t[d]; ok {
		return v, v != "", nil
	}
	if v, ok := t[""]; ok {
		return v, v != "", nil
	}
	return "", false, fmt.Errorf("mlflow-bulk has no %s form of this change", d)
}

func (t texts) lacks(d Dialect) bool { _, _, err := t.in(d); return err != nil }

// textual is a change whose effect is written per dialect; lacks tells a dialect it has
// no text for.
type textual interface {
	lacks(d Dialect) bool
}

// MissingTexts names the recorded changes that have no text for d: a database added
// without them would get derived DDL that silently lacks what those changes made.
func MissingTexts(d Dialect) []string {
	var out []string
	for _, list := range [][]step{steps1x, steps2x, steps3x} {
		for _, s := range list {
			for i, c := range s.changes {
				if o, ok := c.(onlyOn); ok {
					if !o.on(d) {
						continue
					}
					c = o.change
				}
				if tx, ok := c.(textual); ok && tx.lacks(d) {
					out = append(out, fmt.Sprintf("revision %s, change %d (%T)", s.rev, i+1, c))
				}
			}
		}
	}
	return out
}

func all(text string) texts { return texts{"": text} }

// locate finds the one line of a table that holds fragment (a column's name when column).
func (doc *ddlDoc) locate(table, fragment string, column bool) (*ddlStmt, int, error) {
	st, err := doc.findTable(table)
	if err != nil {
		return nil, 0, err
	}
	i, err := st.lineOf(fragment, column)
	return st, i, err
}

// replace sets the one line of a table that holds fragment to text.
func (doc *ddlDoc) replace(table, fragment string, column bool, text string) error {
	st, i, err := doc.locate(table, fragment, column)
	if err == nil {
		st.lines[i] = text
	}
	return err
}

// addedTables: tables the revision created (their indexes go with them).
type addedTables []string

func (c addedTables) undo(doc *ddlDoc, _ Dialect) error {
	for _, name := range c {
		if _, err := doc.findTable(name); err != nil {
			return err
		}
		kept := doc.stmts[:0]
		for _, st := range doc.stmts {
			if st.table != name && st.on != name {
				kept = append(kept, st)
			}
		}
		doc.stmts = kept
	}
	return nil
}

// addedColumns: columns the revision added to a table.
type addedColumns struct {
	table string
	names []string
}

func columns(table string, names ...string) addedColumns { return addedColumns{table, names} }

func (c addedColumns) undo(doc *ddlDoc, _ Dialect) error {
	for _, name := range c.names {
		st, i, err := doc.locate(c.table, name, true)
		if err != nil {
			return err
		}
		st.removeLine(i)
	}
	return nil
}

// addedIndexes: indexes the revision created.
type addedIndexes []string

func (c addedIndexes) undo(doc *ddlDoc, _ Dialect) error {
	for _, name := range c {
		found := false
		kept := doc.stmts[:0]
		for _, st := range doc.stmts {
			if st.index == name {
				found = true
				continue
			}
			kept = append(kept, st)
		}
		doc.stmts = kept
		if !found {
			return fmt.Errorf("no index %s", name)
		}
	}
	return nil
}

// addedLine: a constraint the revision added to a table, found by a fragment of its line.
type addedLine struct{ table, fragment string }

func (c addedLine) undo(doc *ddlDoc, _ Dialect) error {
	st, i, err := doc.locate(c.table, c.fragment, false)
	if err != nil {
		return err
	}
	st.removeLine(i)
	return nil
}

// changedColumn: a column whose definition (type, nullability, default) the revision
// changed; before is the definition after the column's name, as it was.
type changedColumn struct {
	table, name string
	before      texts
}

func (c changedColumn) lacks(d Dialect) bool { return c.before.lacks(d) }

func (c changedColumn) undo(doc *ddlDoc, d Dialect) error {
	before, ok, err := c.before.in(d)
	if !ok {
		return err
	}
	return doc.replace(c.table, c.name, true, columnName(d, c.name)+" "+before)
}

// renamedColumn: a column the revision renamed from `from`, with its definition before.
type renamedColumn struct {
	table, from, to string
	before          texts
}

func (c renamedColumn) lacks(d Dialect) bool { return c.before.lacks(d) }

func (c renamedColumn) undo(doc *ddlDoc, d Dialect) error {
	before, ok, err := c.before.in(d)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("table %s: no earlier definition of %s on %s", c.table, c.from, d)
	}
	return doc.replace(c.table, c.to, true, columnName(d, c.from)+" "+before)
}

// changedLine: a constraint line the revision replaced; before is the whole line as it was.
type changedLine struct {
	table, fragment string
	before          texts
}

func (c changedLine) lacks(d Dialect) bool { return c.before.lacks(d) }

func (c changedLine) undo(doc *ddlDoc, d Dialect) error {
	before, ok, err := c.before.in(d)
	if !ok {
		return err
	}
	return doc.replace(c.table, c.fragment, false, before)
}

// droppedLine: a constraint line the revision removed; undo puts it back after the line
// holding `after` (a column name or a constraint's fragment), or at the end.
type droppedLine struct {
	table, after string
	line         texts
}

func (c droppedLine) lacks(d Dialect) bool { return c.line.lacks(d) }

func (c droppedLine) undo(doc *ddlDoc, d Dialect) error {
	line, ok, err := c.line.in(d)
	if !ok {
		return err
	}
	st, err := doc.findTable(c.table)
	if err != nil {
		return err
	}
	if c.after == "" {
		st.lines = append(st.lines, line)
		return nil
	}
	_, i, err := doc.locate(c.table, c.after, false)
	if err != nil {
		return err
	}
	st.insertLine(i+1, line)
	return nil
}

// droppedIndex: an index the revision removed; undo creates it again, after the indexes
// of its table (or at the end).
type droppedIndex struct {
	name, table string
	text        texts
}

func (c droppedIndex) lacks(d Dialect) bool { return c.text.lacks(d) }

func (c droppedIndex) undo(doc *ddlDoc, d Dialect) error {
	text, ok, err := c.text.in(d)
	if !ok {
		return err
	}
	st := &ddlStmt{index: c.name, on: c.table, text: text}
	at := len(doc.stmts)
	for i, s := range doc.stmts {
		if s.on == c.table {
			at = i + 1
		}
	}
	doc.stmts = append(doc.stmts[:at], append([]*ddlStmt{st}, doc.stmts[at:]...)...)
	return nil
}

// onlyOn: a change made on some dialects only.
type onlyOn struct {
	dialects []Dialect
	change   change
}

func (c onlyOn) undo(doc *ddlDoc, d Dialect) error {
	if c.on(d) {
		return c.change.undo(doc, d)
	}
	return nil
}

func (c onlyOn) on(d Dialect) bool {
	for _, x := range c.dialects {
		if x == d {
			return true
		}
	}
	return false
}

var stepsByRev = func() map[string]*step {
	m := map[string]*step{}
	for _, list := range [][]step{steps1x, steps2x, steps3x} {
		for i := range list {
			m[list[i].rev] = &list[i]
		}
	}
	return m
}()

// heldBase is the nearest revision at or after r whose DDL mlflow-bulk holds for d.
func heldBase(r *Revision, d Dialect) (*Revision, bool) {
	for i := r.index; i < len(chain) && chain[i].Described(); i++ {
		if held(&chain[i], d) {
			return &chain[i], true
		}
	}
	return nil, false
}

// derivable reports whether the DDL of r can be derived for d: every step between it
// and the held revision above it is recorded.
func derivable(r *Revision, d Dialect) bool {
	base, ok := heldBase(r, d)
	if !ok {
		return false
	}
	for i := base.index; i > r.index; i-- {
		if stepsByRev[chain[i].ID] == nil {
			return false
		}
	}
	return true
}

// derive builds the DDL of r for d from the held DDL of base (a revision at or after r),
// taking back each later revision's changes, newest first.
func derive(r, base *Revision, d Dialect) ([]string, error) {
	stmts, err := heldStatements(base, d)
	if err != nil {
		return nil, err
	}
	doc := parseDDL(stmts)
	for i := base.index; i > r.index; i-- {
		s := stepsByRev[chain[i].ID]
		if s == nil {
			return nil, fmt.Errorf("mlflow-bulk has no record of what revision %s changed", chain[i].ID)
		}
		for j := len(s.changes) - 1; j >= 0; j-- {
			if err := s.changes[j].undo(doc, d); err != nil {
				return nil, fmt.Errorf("schema %s on %s, taking back %s: %w", r.ID, d, s.rev, err)
			}
		}
	}
	return doc.statements(), nil
}
