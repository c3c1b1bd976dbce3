package sqldump

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/mlflow-bulk/mlflow-bulk/schema"
)

// A dump's CREATE TABLE statements (and, in pg_dump's, the ALTER TABLE statements that
// add keys after the data) give the schema; the scratch database is created from it,
// with each column's type reduced to how it is stored and its keys kept, because
// mlflow-bulk reads a table's keys to order, match and map its rows.

type column struct {
	name      string
	kind      columnKind
	declared  string // the type as the scratch database declares it
	notNull   bool
	def       string // a literal default, as SQL
	generated string // the expression of a generated column, "" for others
	// declaredGenerated: the dump declares it generated (even where the scratch
	// database cannot compute it and stores the dump's values instead).
	declaredGenerated bool
}

type foreignKey struct {
	columns  []string
	refTable string
	refCols  []string
	onDelete string
}

type table struct {
	name        string
	schema      string // the schema the dump puts it in, "" where it names none
	columns     []column
	primaryKey  []string
	foreignKeys []foreignKey
	line        int // of its CREATE TABLE
	// hasRows: the dump holds rows of it; created: the scratch database has it.
	hasRows, created bool
}

func (t *table) column(name string) *column {
	for i := range t.columns {
		if strings.EqualFold(t.columns[i].name, name) {
			return &t.columns[i]
		}
	}
	return nil
}

// columnKeywords end a column's type.
var columnKeywords = map[string]bool{"NOT": true, "NULL": true, "DEFAULT": true, "PRIMARY": true, "REFERENCES": true, "GENERATED": true,
	"AS": true, "COLLATE": true, "CHARACTER": true, "CHARSET": true, "CHECK": true, "UNIQUE": true, "AUTO_INCREMENT": true, "AUTOINCREMENT": true,
	"COMMENT": true, "CONSTRAINT": true, "ON": true, "INVISIBLE": true}

// parseCreateTable reads a CREATE TABLE statement.
func parseCreateTable(text string, t tool, line int) (*table, error) {
	l := &lexer{src: text, tool: t}
	if err := expectWords(l, "CREATE", "TABLE"); err != nil {
		return nil, err
	}
	if l.peekWord("IF") {
		if err := expectWords(l, "IF", "NOT", "EXISTS"); err != nil {
			return nil, err
		}
	}
	key, err := qualifiedName(l)
	if err != nil {
		return nil, err
	}
	name := key.name
	tb := &table{name: name, schema: key.schema, line: line}
	if _, err := expectPunct(l, "("); err != nil {
		return nil, err
	}
	for {
		item, end, err := tableItem(l)
		if err != nil {
			return nil, fmt.Errorf("table %s: %w", name, err)
		}
		if err := tb.addItem(item, t); err != nil {
			return nil, fmt.Errorf("table %s: %w", name, err)
		}
		if end {
			return tb, nil
		}
	}
}

// tableItem collects the tokens of one column or constraint, up to a comma or the
// closing parenthesis at the top level; end reports the latter.
func tableItem(l *lexer) ([]token, bool, error) {
	var item []token
	depth := 0
	for {
		tk, err := l.next()
		if err != nil {
			return nil, false, err
		}
		if tk.kind == tokPunct {
			switch tk.text {
			case "":
				return nil, false, fmt.Errorf("the statement ends inside its list of columns")
			case "(":
				depth++
			case ")":
				if depth == 0 {
					return item, true, nil
				}
				depth--
			case ",":
				if depth == 0 {
					return item, false, nil
				}
			}
		}
		item = append(item, tk)
	}
}

func isWord(tk token, w string) bool { return tk.kind == tokWord && strings.EqualFold(tk.text, w) }

// addItem adds a column or a table constraint.
func (tb *table) addItem(item []token, t tool) error {
	if len(item) == 0 {
		return nil
	}
	i := 0
	if isWord(item[0], "CONSTRAINT") {
		i = 2 // CONSTRAINT name
	}
	if i >= len(item) {
		return fmt.Errorf("a constraint without a body")
	}
	switch {
	case isWord(item[i], "PRIMARY"):
		tb.primaryKey = parenNames(item[i:])
		return nil
	case isWord(item[i], "FOREIGN"):
		fk, err := parseForeignKey(item[i:])
		if err != nil {
			return err
		}
		tb.foreignKeys = append(tb.foreignKeys, fk)
		return nil
	case isWord(item[i], "UNIQUE"), isWord(item[i], "CHECK"), isWord(item[i], "EXCLUDE"):
		return nil
	case t == toolMySQL && (isWord(item[i], "KEY") || isWord(item[i], "INDEX") || isWord(item[i], "FULLTEXT") || isWord(item[i], "SPATIAL")):
		// mysqldump quotes every column name, so a bare KEY is an index (elsewhere a
		// column may be named key).
		return nil
	}
	return tb.addColumn(item, t)
}

// parenNames are the names in the first parenthesis of tokens.
func parenNames(tokens []token) []string {
	var names []string
	in := false
	for _, tk := range tokens {
		switch {
		case tk.kind == tokPunct && tk.text == "(":
			in = true
		case tk.kind == tokPunct && tk.text == ")":
			if in {
				return names
			}
		case in && (tk.kind == tokWord || tk.kind == tokName):
			names = append(names, tk.text)
		}
	}
	return names
}

// deleteActions are the ON DELETE actions a scratch key may carry: a closed list, so
// that no text of the dump reaches the scratch database's DDL.
var deleteActions = map[string]bool{"CASCADE": true, "RESTRICT": true, "NO ACTION": true, "SET NULL": true, "SET DEFAULT": true}

func parseForeignKey(tokens []token) (foreignKey, error) {
	fk := foreignKey{columns: parenNames(tokens)}
	for i, tk := range tokens {
		if isWord(tk, "REFERENCES") && i+1 < len(tokens) {
			fk.refTable = tokens[i+1].text
			j := i + 2
			for j+1 < len(tokens) && tokens[j].kind == tokPunct && tokens[j].text == "." {
				fk.refTable = tokens[j+1].text // schema.table
				j += 2
			}
			fk.refCols = parenNames(tokens[j:])
		}
		if isWord(tk, "DELETE") && i > 0 && isWord(tokens[i-1], "ON") {
			action, err := deleteAction(tokens[i+1:])
			if err != nil {
				return fk, err
			}
			fk.onDelete = action
		}
	}
	return fk, nil
}

// deleteAction reads the action after ON DELETE, which must be one of deleteActions.
func deleteAction(tokens []token) (string, error) {
	var words []string
	for _, tk := range tokens[:min(len(tokens), 2)] {
		if tk.kind != tokWord {
			break
		}
		words = append(words, strings.ToUpper(tk.text))
	}
	for n := len(words); n > 0; n-- {
		if action := strings.Join(words[:n], " "); deleteActions[action] {
			return action, nil
		}
	}
	return "", fmt.Errorf("a foreign key's ON DELETE action is not one of CASCADE, RESTRICT, NO ACTION, SET NULL, SET DEFAULT")
}

// addColumn reads name, type and the attributes that matter: NOT NULL, a literal
// DEFAULT, GENERATED … AS (expr), an inline PRIMARY KEY or REFERENCES.
func (tb *table) addColumn(item []token, t tool) error {
	if item[0].kind != tokWord && item[0].kind != tokName {
		return fmt.Errorf("%q does not start a column", item[0].text)
	}
	c := column{name: item[0].text}
	i := 1
	var typ []string
	depth := 0
	for ; i < len(item); i++ {
		tk := item[i]
		if depth == 0 && tk.kind == tokWord && columnKeywords[strings.ToUpper(tk.text)] {
			// CHARACTER starts PostgreSQL's "character varying" and MySQL's "CHARACTER SET".
			if !isWord(tk, "CHARACTER") || i+1 < len(item) && isWord(item[i+1], "SET") {
				break
			}
		}
		switch {
		case tk.kind == tokPunct && tk.text == "(":
			depth++
		case tk.kind == tokPunct && tk.text == ")":
			depth--
		}
		typ = append(typ, tk.text)
	}
	c.kind, c.declared = typeOf(strings.Join(typ, " "))
	if err := tb.attributes(&c, item[i:]); err != nil {
		return fmt.Errorf("column %s: %w", c.name, err)
	}
	tb.columns = append(tb.columns, c)
	return nil
}

// attributes reads what follows a column's type: NOT NULL, a literal DEFAULT,
// GENERATED … AS (expr), an inline PRIMARY KEY or REFERENCES.
func (tb *table) attributes(c *column, item []token) error {
	for i := 0; i < len(item); i++ {
		switch {
		case isWord(item[i], "NOT") && i+1 < len(item) && isWord(item[i+1], "NULL"):
			c.notNull = true
			i++
		case isWord(item[i], "DEFAULT") && i+1 < len(item):
			c.def = literalDefault(item[i+1])
		case isWord(item[i], "AS") && i+1 < len(item) && item[i+1].kind == tokPunct && item[i+1].text == "(":
			expr, err := expression(item[i+1:])
			if err != nil {
				return err
			}
			c.generated, c.declaredGenerated = expr, true
		case isWord(item[i], "PRIMARY"):
			tb.primaryKey = []string{c.name}
		case isWord(item[i], "REFERENCES") && i+1 < len(item):
			fk, err := parseForeignKey(append([]token{{kind: tokPunct, text: "("}, {kind: tokName, text: c.name}, {kind: tokPunct, text: ")"}}, item[i:]...))
			if err != nil {
				return err
			}
			tb.foreignKeys = append(tb.foreignKeys, fk)
		}
	}
	return nil
}

// literalDefault keeps a default that is a plain literal; a function's (nextval(…),
// CURRENT_TIMESTAMP) is the database's business and left out.
func literalDefault(tk token) string {
	switch tk.kind {
	case tokString:
		return "'" + strings.ReplaceAll(tk.text, "'", "''") + "'"
	case tokNumber:
		return tk.text
	case tokWord:
		switch strings.ToUpper(tk.text) {
		case "TRUE":
			return "1"
		case "FALSE":
			return "0"
		}
	}
	return ""
}

// expressionPunct is the punctuation a generated column's expression may hold: no ';',
// no quote, nothing that starts a comment on its own (tokens are written apart).
const expressionPunct = "()+-*/%,<>=!|."

var (
	expressionWord   = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	expressionNumber = regexp.MustCompile(`^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$`)
)

// expression is a generated column's expression, from its opening parenthesis, rebuilt
// token by token from a closed grammar (names quoted with their quotes doubled, strings
// with theirs, plain words, numbers and arithmetic), so that nothing of the dump's text
// reaches the scratch database as SQL. Anything else is refused.
func expression(tokens []token) (string, error) {
	var parts []string
	depth := 0
	for _, tk := range tokens {
		switch tk.kind {
		case tokName:
			parts = append(parts, schema.DoubleQuote(tk.text))
		case tokString:
			parts = append(parts, "'"+strings.ReplaceAll(tk.text, "'", "''")+"'")
		case tokNumber:
			if !expressionNumber.MatchString(tk.text) {
				return "", fmt.Errorf("a generated column's expression holds %q, which is not a number", tk.text)
			}
			parts = append(parts, tk.text)
		case tokWord:
			if !expressionWord.MatchString(tk.text) {
				return "", fmt.Errorf("a generated column's expression holds the word %q", tk.text)
			}
			parts = append(parts, tk.text)
		case tokPunct:
			if len(tk.text) != 1 || !strings.Contains(expressionPunct, tk.text) {
				return "", fmt.Errorf("a generated column's expression holds %q, which mlflow-bulk does not read there", tk.text)
			}
			parts = append(parts, tk.text)
		default:
			return "", fmt.Errorf("a generated column's expression holds a binary value")
		}
		if tk.kind == tokPunct && tk.text == "(" {
			depth++
		} else if tk.kind == tokPunct && tk.text == ")" {
			depth--
		}
		if depth == 0 {
			break
		}
	}
	return strings.Join(parts, " "), nil
}

var aroundPunct = regexp.MustCompile(`\s*([(),])\s*`)

var varcharWidth = regexp.MustCompile(`^(?:var)?char(?:acter)?(?: varying)?\s*\(\s*(\d+)\s*\)`)

// typeOf reduces a declared type to how its values are read and stored, and the type
// the scratch database declares (which keeps VARCHAR widths and BOOLEAN, as MLflow's
// own SQLite schema has them).
func typeOf(declared string) (columnKind, string) {
	d := strings.ToLower(strings.Join(strings.Fields(declared), " "))
	d = aroundPunct.ReplaceAllString(d, "$1")
	switch {
	case d == "tinyint(1)" || strings.HasPrefix(d, "bool"):
		return kindBoolean, "BOOLEAN"
	case strings.Contains(d, "int") && !strings.Contains(d, "interval") && !strings.Contains(d, "point"):
		if strings.HasPrefix(d, "big") {
			return kindInteger, "BIGINT"
		}
		return kindInteger, "INTEGER"
	case strings.HasPrefix(d, "double") || strings.HasPrefix(d, "float") || strings.HasPrefix(d, "real") ||
		strings.HasPrefix(d, "numeric") || strings.HasPrefix(d, "decimal"):
		return kindFloat, "FLOAT"
	case strings.Contains(d, "blob") || strings.Contains(d, "binary") || d == "bytea":
		return kindBinary, "BLOB"
	}
	if m := varcharWidth.FindStringSubmatch(d); m != nil {
		return kindText, "VARCHAR(" + m[1] + ")"
	}
	if strings.HasPrefix(d, "json") {
		return kindText, "JSON"
	}
	return kindText, "TEXT"
}

// parseAlterTable reads pg_dump's ALTER TABLE [ONLY] t ADD CONSTRAINT c PRIMARY KEY
// (…) / FOREIGN KEY (…) REFERENCES …, adding the key to the table it names.
func parseAlterTable(text string, t tool, tables map[tableKey]*table) error {
	l := &lexer{src: text, tool: t}
	if err := expectWords(l, "ALTER", "TABLE"); err != nil {
		return nil //nolint:nilerr // not an ALTER TABLE this reader needs
	}
	if l.peekWord("ONLY") {
		_, _ = l.next()
	}
	key, err := qualifiedName(l)
	if err != nil {
		return err
	}
	tb := tables[key]
	var rest []token
	for !l.done() {
		tk, err := l.next()
		if err != nil {
			return err
		}
		rest = append(rest, tk)
	}
	if tb == nil || len(rest) < 4 || !isWord(rest[0], "ADD") || !isWord(rest[1], "CONSTRAINT") {
		return nil
	}
	return tb.addItem(rest[1:], t)
}

// scratchDDL is the CREATE TABLE of the scratch database for a table.
func (tb *table) scratchDDL(quote func(string) string, withGenerated bool) string {
	var parts []string
	for _, c := range tb.columns {
		p := quote(c.name) + " " + c.declared
		if c.generated != "" && withGenerated {
			p += " GENERATED ALWAYS AS " + c.generated + " STORED"
		}
		if c.notNull && (c.generated == "" || !withGenerated) {
			p += " NOT NULL"
		}
		if c.def != "" && c.generated == "" {
			p += " DEFAULT " + c.def
		}
		parts = append(parts, p)
	}
	names := func(list []string) string {
		q := make([]string, len(list))
		for i, n := range list {
			q[i] = quote(n)
		}
		return strings.Join(q, ", ")
	}
	if len(tb.primaryKey) > 0 {
		parts = append(parts, "PRIMARY KEY ("+names(tb.primaryKey)+")")
	}
	for _, fk := range tb.foreignKeys {
		if len(fk.columns) == 0 || fk.refTable == "" {
			continue
		}
		p := "FOREIGN KEY (" + names(fk.columns) + ") REFERENCES " + quote(fk.refTable)
		if len(fk.refCols) > 0 {
			p += " (" + names(fk.refCols) + ")"
		}
		if fk.onDelete != "" {
			p += " ON DELETE " + fk.onDelete
		}
		parts = append(parts, p)
	}
	return "CREATE TABLE " + quote(tb.name) + " (\n\t" + strings.Join(parts, ",\n\t") + "\n)"
}
