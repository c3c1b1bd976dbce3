package sqldump

import (
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// insert is one INSERT statement: its table, the columns it names (none: all, in the
// table's order) and its rows of literals, not yet converted to the columns' types.
type insert struct {
	table   tableKey
	columns []string
	rows    [][]literal
	// rowLines: for each row, the lines before it within the statement.
	rowLines []int
}

// literal is one value as the dump writes it.
type literal struct {
	null  bool
	text  string // a string's decoded text, or a number as written
	bytes []byte // a binary literal
	num   bool   // written as a number
	isBin bool
}

// parseInsert takes an INSERT statement apart.
func parseInsert(text string, t tool) (*insert, error) {
	l := &lexer{src: text, tool: t}
	name, err := insertTarget(l)
	if err != nil {
		return nil, err
	}
	return parseInsertRest(l, text, &insert{table: name})
}

// insertTarget reads an INSERT statement up to its table: INSERT INTO, and the forms
// dump options write: REPLACE INTO (mysqldump --replace), INSERT IGNORE INTO
// (--insert-ignore), INSERT OR REPLACE/IGNORE INTO (SQLite).
func insertTarget(l *lexer) (tableKey, error) {
	first, err := l.next()
	if err != nil {
		return tableKey{}, err
	}
	if !isWord(first, "INSERT") && !isWord(first, "REPLACE") {
		return tableKey{}, fmt.Errorf("expected INSERT, found %q", first.text)
	}
	switch {
	case l.peekWord("IGNORE"):
		_, _ = l.next()
	case l.peekWord("OR"):
		_, _ = l.next()
		_, _ = l.next()
	}
	if err := expectWords(l, "INTO"); err != nil {
		return tableKey{}, err
	}
	return qualifiedName(l)
}

// parseInsertRest reads what follows an INSERT's table.
func parseInsertRest(l *lexer, text string, ins *insert) (*insert, error) {
	var err error
	if l.peekPunct('(') {
		if ins.columns, err = nameList(l); err != nil {
			return nil, err
		}
	}
	if err := expectWords(l, "VALUES"); err != nil {
		return nil, err
	}
	counted, lines := 0, 0
	for {
		l.skipSpace()
		lines += strings.Count(text[counted:l.pos], "\n")
		counted = l.pos
		ins.rowLines = append(ins.rowLines, lines)
		if _, err := expectPunct(l, "("); err != nil {
			return nil, err
		}
		var row []literal
		for {
			v, err := value(l)
			if err != nil {
				return nil, fmt.Errorf("value %d of a row of %s: %w", len(row)+1, ins.table, err)
			}
			row = append(row, v)
			p, err := expectPunct(l, ",", ")")
			if err != nil {
				return nil, err
			}
			if p == ")" {
				break
			}
		}
		ins.rows = append(ins.rows, row)
		if l.done() || l.peekWord("ON") {
			return ins, nil // ON CONFLICT / ON DUPLICATE KEY: the rows are what count
		}
		if _, err := expectPunct(l, ","); err != nil {
			return nil, err
		}
	}
}

func (l *lexer) peekWord(w string) bool {
	save := l.pos
	t, err := l.next()
	l.pos = save
	return err == nil && t.kind == tokWord && strings.EqualFold(t.text, w)
}

func expectWords(l *lexer, words ...string) error {
	for _, w := range words {
		t, err := l.next()
		if err != nil {
			return err
		}
		if t.kind != tokWord || !strings.EqualFold(t.text, w) {
			return fmt.Errorf("expected %s, found %q", w, t.text)
		}
	}
	return nil
}

func expectPunct(l *lexer, options ...string) (string, error) {
	t, err := l.next()
	if err != nil {
		return "", err
	}
	for _, o := range options {
		if t.kind == tokPunct && t.text == o {
			return o, nil
		}
	}
	if t.text == "" {
		return "", fmt.Errorf("expected %s, found the statement's end", strings.Join(options, " or "))
	}
	return "", fmt.Errorf("expected %s, found %q", strings.Join(options, " or "), t.text)
}

// tableKey is a table's name with the schema the dump puts it in ("" where it names
// none): pg_dump writes every table of every schema it dumps, and only those of the
// schema MLflow's tables are in are MLflow's.
type tableKey struct{ schema, name string }

func (k tableKey) String() string {
	if k.schema == "" {
		return k.name
	}
	return k.schema + "." + k.name
}

// qualifiedName reads a table name and the schema before it, if any (public.t).
func qualifiedName(l *lexer) (tableKey, error) {
	t, err := l.next()
	if err != nil {
		return tableKey{}, err
	}
	if t.kind != tokWord && t.kind != tokName {
		return tableKey{}, fmt.Errorf("expected a table name, found %q", t.text)
	}
	key := tableKey{name: t.text}
	for l.peekPunct('.') {
		l.pos++
		t, err := l.next()
		if err != nil {
			return tableKey{}, err
		}
		if t.kind != tokWord && t.kind != tokName {
			return tableKey{}, fmt.Errorf("expected a table name after %s., found %q", key.name, t.text)
		}
		key = tableKey{schema: key.name, name: t.text}
	}
	return key, nil
}

// nameList reads ( name, name … ).
func nameList(l *lexer) ([]string, error) {
	if _, err := expectPunct(l, "("); err != nil {
		return nil, err
	}
	var names []string
	for {
		t, err := l.next()
		if err != nil {
			return nil, err
		}
		if t.kind != tokWord && t.kind != tokName {
			return nil, fmt.Errorf("expected a column name, found %q", t.text)
		}
		names = append(names, t.text)
		p, err := expectPunct(l, ",", ")")
		if err != nil {
			return nil, err
		}
		if p == ")" {
			return names, nil
		}
	}
}

// value reads one value expression of a VALUES list: a literal, a signed number, NULL,
// a boolean, PostgreSQL's 'x'::type, or the string functions sqlite3's .dump writes.
func value(l *lexer) (literal, error) {
	t, err := l.next()
	if err != nil {
		return literal{}, err
	}
	var v literal
	switch t.kind {
	case tokString:
		v = literal{text: t.text}
	case tokBytes:
		v = literal{bytes: t.raw, isBin: true}
	case tokNumber:
		v = literal{text: t.text, num: true}
	case tokWord:
		switch strings.ToUpper(t.text) {
		case "NULL":
			v = literal{null: true}
		case "TRUE":
			v = literal{text: "1", num: true}
		case "FALSE":
			v = literal{text: "0", num: true}
		case "REPLACE", "CHAR", "UNISTR":
			s, err := sqliteFunction(l, strings.ToUpper(t.text))
			if err != nil {
				return literal{}, err
			}
			v = literal{text: s}
		default:
			return literal{}, fmt.Errorf("%s is not a value this reader takes", t.text)
		}
	default:
		return literal{}, fmt.Errorf("%q is not a value", t.text)
	}
	// PostgreSQL's casts ('NaN'::double precision, '{}'::jsonb) say the type; the
	// column says it too.
	for l.peekPunct(':') && l.pos+1 < len(l.src) && l.src[l.pos+1] == ':' {
		l.pos += 2
		for !l.done() && !l.peekPunct(',') && !l.peekPunct(')') {
			if _, err := l.next(); err != nil {
				return literal{}, err
			}
		}
	}
	return v, nil
}

// sqliteFunction evaluates replace(s, from, to), char(n, …) and unistr(s), with which
// sqlite3's .dump writes text holding newlines and other control characters.
func sqliteFunction(l *lexer, name string) (string, error) {
	if _, err := expectPunct(l, "("); err != nil {
		return "", err
	}
	var args []literal
	for {
		v, err := value(l)
		if err != nil {
			return "", err
		}
		args = append(args, v)
		p, err := expectPunct(l, ",", ")")
		if err != nil {
			return "", err
		}
		if p == ")" {
			break
		}
	}
	switch {
	case name == "REPLACE" && len(args) == 3:
		if args[1].text == "" {
			return args[0].text, nil
		}
		return strings.ReplaceAll(args[0].text, args[1].text, args[2].text), nil
	case name == "CHAR":
		var b strings.Builder
		for _, a := range args {
			n, err := strconv.ParseInt(a.text, 10, 32)
			if err != nil || !utf8.ValidRune(rune(n)) {
				return "", fmt.Errorf("char(%s) is not a character", a.text)
			}
			b.WriteRune(rune(n))
		}
		return b.String(), nil
	case name == "UNISTR" && len(args) == 1:
		return unistr(args[0].text)
	}
	return "", fmt.Errorf("%s with %d arguments is not a value this reader takes", strings.ToLower(name), len(args))
}

// unistr decodes SQLite's unistr(): \XXXX, \uXXXX, \+XXXXXX, \UXXXXXXXX and \\.
func unistr(s string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			b.WriteByte(s[i])
			continue
		}
		rest := s[i+1:]
		width, skip := 4, 0
		switch {
		case strings.HasPrefix(rest, "\\"):
			b.WriteByte('\\')
			i++
			continue
		case strings.HasPrefix(rest, "u"):
			skip = 1
		case strings.HasPrefix(rest, "+"):
			width, skip = 6, 1
		case strings.HasPrefix(rest, "U"):
			width, skip = 8, 1
		}
		if len(rest) < skip+width {
			return "", errors.New("unistr escape cut short")
		}
		n, err := strconv.ParseUint(rest[skip:skip+width], 16, 32)
		if err != nil || !utf8.ValidRune(rune(n)) {
			return "", fmt.Errorf("unistr escape \\%s is not a character", rest[:skip+width])
		}
		b.WriteRune(rune(n))
		i += skip + width
	}
	return b.String(), nil
}

// columnKind is how a column's values are stored in the scratch database.
type columnKind int

const (
	kindText columnKind = iota
	kindInteger
	kindFloat
	kindBoolean
	kindBinary
)

// convert turns a literal into the value of a column of kind k: int64, float64 (NaN and
// ±inf as PostgreSQL and SQLite write them), 0 or 1 for booleans, []byte, or text,
// which must be UTF-8.
func convert(v literal, k columnKind, t tool) (any, error) {
	if v.null {
		return nil, nil
	}
	if v.isBin {
		if k == kindBinary {
			return v.bytes, nil
		}
		v = literal{text: string(v.bytes)}
	}
	switch k {
	case kindInteger:
		if n, err := strconv.ParseInt(v.text, 10, 64); err == nil {
			return n, nil
		}
		if f, err := strconv.ParseFloat(v.text, 64); err == nil && f == math.Trunc(f) && math.Abs(f) < 1<<63 {
			return int64(f), nil
		}
		return nil, fmt.Errorf("%q is not an integer", v.text)
	case kindFloat:
		f, err := strconv.ParseFloat(v.text, 64)
		var numErr *strconv.NumError
		outOfRange := errors.As(err, &numErr) && errors.Is(numErr.Err, strconv.ErrRange)
		if err != nil && !outOfRange {
			return nil, fmt.Errorf("%q is not a number", v.text)
		}
		return f, nil // 1e999, as sqlite3 writes infinity, reads as +Inf
	case kindBoolean:
		switch strings.ToLower(v.text) {
		case "1", "t", "true", "y", "yes", "on":
			return int64(1), nil
		case "0", "f", "false", "n", "no", "off":
			return int64(0), nil
		}
		return nil, fmt.Errorf("%q is not a boolean", v.text)
	case kindBinary:
		if t == toolPostgres && strings.HasPrefix(v.text, `\x`) {
			b, err := hex.DecodeString(v.text[2:])
			if err != nil {
				return nil, fmt.Errorf("%q is not bytea's hex form", v.text)
			}
			return b, nil
		}
		return []byte(v.text), nil
	}
	if !utf8.ValidString(v.text) {
		return nil, errors.New("text that is not UTF-8, which MLflow does not write (a dump made with another character set?)")
	}
	return v.text, nil
}

// copyFields splits a COPY data line into its fields, decoding COPY's escapes; \N is
// NULL.
func copyFields(line string) ([]literal, error) {
	var out []literal
	for _, raw := range strings.Split(line, "\t") {
		if raw == `\N` {
			out = append(out, literal{null: true})
			continue
		}
		if !strings.Contains(raw, `\`) {
			out = append(out, literal{text: raw})
			continue
		}
		var b strings.Builder
		for i := 0; i < len(raw); i++ {
			if raw[i] != '\\' || i+1 == len(raw) {
				b.WriteByte(raw[i])
				continue
			}
			s, n, err := decodePostgresEscape(raw[i+1:])
			if err != nil {
				return nil, err
			}
			b.WriteString(s)
			i += n
		}
		out = append(out, literal{text: b.String()})
	}
	return out, nil
}
