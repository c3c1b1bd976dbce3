package sqldump

import (
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The statements mlflow-bulk reads of a dump (CREATE TABLE, ALTER TABLE … ADD
// CONSTRAINT, INSERT) are taken apart by one small lexer that knows each tool's
// literals: MySQL's backslash escapes, _binary and 0x…; PostgreSQL's E'…' strings and
// ::casts; SQLite's X'…' and the replace(…, char(10)) its .dump writes for newlines.

type tokenKind int

const (
	tokWord   tokenKind = iota // a bare word: a keyword, a name, NULL, TRUE
	tokName                    // a quoted name: "t" or `t`
	tokString                  // a string literal, decoded
	tokBytes                   // a binary literal (X'…', 0x…, _binary '…'), decoded
	tokNumber                  // a number, as written
	tokPunct                   // one character: ( ) , . ; = and the like
)

type token struct {
	kind tokenKind
	text string // the word, the name, the decoded string, the number, the punctuation
	raw  []byte // tokBytes
}

// lexer walks one statement's text.
type lexer struct {
	src  string
	pos  int
	tool tool
}

func (l *lexer) skipSpace() {
	for l.pos < len(l.src) {
		switch l.src[l.pos] {
		case ' ', '\t', '\n', '\r':
			l.pos++
		default:
			return
		}
	}
}

func (l *lexer) done() bool {
	l.skipSpace()
	return l.pos >= len(l.src)
}

func (l *lexer) peekPunct(c byte) bool {
	l.skipSpace()
	return l.pos < len(l.src) && l.src[l.pos] == c
}

// next returns the next token; at the end, a tokPunct with empty text.
func (l *lexer) next() (token, error) {
	l.skipSpace()
	if l.pos >= len(l.src) {
		return token{kind: tokPunct}, nil
	}
	c := l.src[l.pos]
	switch {
	case c == '\'':
		s, err := l.stringLiteral(false)
		return token{kind: tokString, text: s}, err
	case c == '"' || c == '`':
		return l.quotedName(c)
	case c >= '0' && c <= '9' || (c == '-' || c == '+' || c == '.') && l.pos+1 < len(l.src) && (isDigit(l.src[l.pos+1]) || l.src[l.pos+1] == '.'):
		if c == '0' && l.pos+1 < len(l.src) && l.src[l.pos+1]|0x20 == 'x' && l.tool == toolMySQL {
			return l.hexNumber()
		}
		return l.number(), nil
	case isWordStart(c):
		return l.wordToken()
	}
	l.pos++
	return token{kind: tokPunct, text: string(c)}, nil
}

// wordToken reads a bare word, or the literal a word prefixes: X'…' bytes, E'…'
// strings, MySQL's _binary '…' and other character set introducers.
func (l *lexer) wordToken() (token, error) {
	word := l.word()
	upper := strings.ToUpper(word)
	if l.pos < len(l.src) && l.src[l.pos] == '\'' {
		switch {
		case upper == "X":
			s, err := l.stringLiteral(false)
			if err != nil {
				return token{}, err
			}
			b, err := hex.DecodeString(s)
			if err != nil {
				return token{}, fmt.Errorf("x'%s' is not hexadecimal", s)
			}
			return token{kind: tokBytes, raw: b}, nil
		case upper == "E" && l.tool == toolPostgres:
			s, err := l.stringLiteral(true)
			return token{kind: tokString, text: s}, err
		}
	}
	if strings.HasPrefix(word, "_") && l.tool == toolMySQL {
		l.skipSpace()
		if l.pos < len(l.src) && (l.src[l.pos] == '\'' || l.src[l.pos] == '0') {
			t, err := l.next()
			if err != nil || upper != "_BINARY" || t.kind != tokString {
				return t, err
			}
			return token{kind: tokBytes, raw: []byte(t.text)}, nil
		}
	}
	return token{kind: tokWord, text: word}, nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isWordStart(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}
func isWordByte(c byte) bool { return isWordStart(c) || isDigit(c) || c == '$' }

func (l *lexer) word() string {
	start := l.pos
	for l.pos < len(l.src) && isWordByte(l.src[l.pos]) {
		l.pos++
	}
	return l.src[start:l.pos]
}

func (l *lexer) number() token {
	start := l.pos
	if c := l.src[l.pos]; c == '-' || c == '+' {
		l.pos++
	}
	for l.pos < len(l.src) {
		c := l.src[l.pos]
		switch {
		case isDigit(c) || c == '.':
		case c == 'e' || c == 'E':
			if l.pos+1 < len(l.src) && (l.src[l.pos+1] == '-' || l.src[l.pos+1] == '+') {
				l.pos++
			}
		default:
			return token{kind: tokNumber, text: l.src[start:l.pos]}
		}
		l.pos++
	}
	return token{kind: tokNumber, text: l.src[start:l.pos]}
}

func (l *lexer) hexNumber() (token, error) {
	l.pos += 2
	start := l.pos
	for l.pos < len(l.src) && strings.IndexByte("0123456789abcdefABCDEF", l.src[l.pos]) >= 0 {
		l.pos++
	}
	b, err := hex.DecodeString(l.src[start:l.pos])
	if err != nil {
		return token{}, fmt.Errorf("0x%s is not hexadecimal", l.src[start:l.pos])
	}
	return token{kind: tokBytes, raw: b}, nil
}

func (l *lexer) quotedName(q byte) (token, error) {
	l.pos++
	var b strings.Builder
	for l.pos < len(l.src) {
		c := l.src[l.pos]
		l.pos++
		if c == q {
			if l.pos < len(l.src) && l.src[l.pos] == q {
				b.WriteByte(q)
				l.pos++
				continue
			}
			return token{kind: tokName, text: b.String()}, nil
		}
		b.WriteByte(c)
	}
	return token{}, fmt.Errorf("a quoted name %w", errNoEnd)
}

// stringLiteral decodes a '…' literal at l.pos; escapes says backslashes escape (E'…').
func (l *lexer) stringLiteral(escapes bool) (string, error) {
	l.pos++ // the quote
	backslash := escapes || l.tool == toolMySQL
	var b strings.Builder
	for l.pos < len(l.src) {
		c := l.src[l.pos]
		l.pos++
		switch {
		case c == '\'':
			if l.pos < len(l.src) && l.src[l.pos] == '\'' {
				b.WriteByte('\'')
				l.pos++
				continue
			}
			return b.String(), nil
		case c == '\\' && backslash && l.pos < len(l.src):
			if l.tool == toolMySQL && !escapes {
				l.mysqlEscape(&b)
			} else if err := l.postgresEscape(&b); err != nil {
				return "", err
			}
		default:
			b.WriteByte(c)
		}
	}
	return "", fmt.Errorf("a string %w", errNoEnd)
}

// mysqlEscape decodes the character after a backslash as MySQL reads string literals.
func (l *lexer) mysqlEscape(b *strings.Builder) {
	c := l.src[l.pos]
	l.pos++
	switch c {
	case '0':
		b.WriteByte(0)
	case 'b':
		b.WriteByte('\b')
	case 'n':
		b.WriteByte('\n')
	case 'r':
		b.WriteByte('\r')
	case 't':
		b.WriteByte('\t')
	case 'Z':
		b.WriteByte(0x1a)
	case '%', '_':
		// Kept with their backslash: they escape LIKE's wildcards only.
		b.WriteByte('\\')
		b.WriteByte(c)
	default:
		b.WriteByte(c)
	}
}

// postgresEscape decodes the escape after a backslash of an E'…' string or a COPY field.
func (l *lexer) postgresEscape(b *strings.Builder) error {
	r, n, err := decodePostgresEscape(l.src[l.pos:])
	if err != nil {
		return err
	}
	l.pos += n
	b.WriteString(r)
	return nil
}

// decodePostgresEscape decodes the text after a backslash (\n, \ooo, \xhh, \uXXXX):
// what it stands for and how many bytes it took.
func decodePostgresEscape(s string) (string, int, error) {
	c := s[0]
	switch c {
	case 'b':
		return "\b", 1, nil
	case 'f':
		return "\f", 1, nil
	case 'n':
		return "\n", 1, nil
	case 'r':
		return "\r", 1, nil
	case 't':
		return "\t", 1, nil
	case 'v':
		return "\v", 1, nil
	case 'x':
		n := 1
		for n < 3 && n < len(s) && strings.IndexByte("0123456789abcdefABCDEF", s[n]) >= 0 {
			n++
		}
		if n == 1 {
			return "x", 1, nil
		}
		v, _ := strconv.ParseUint(s[1:n], 16, 8)
		return string([]byte{byte(v)}), n, nil
	case 'u', 'U':
		width := 4
		if c == 'U' {
			width = 8
		}
		if len(s) < 1+width {
			return "", 0, fmt.Errorf("\\%c escape cut short", c)
		}
		v, err := strconv.ParseUint(s[1:1+width], 16, 32)
		if err != nil || !utf8.ValidRune(rune(v)) {
			return "", 0, fmt.Errorf("\\%s is not a Unicode escape", s[:1+width])
		}
		return string(rune(v)), 1 + width, nil
	}
	if c >= '0' && c <= '7' {
		n := 1
		for n < 3 && n < len(s) && s[n] >= '0' && s[n] <= '7' {
			n++
		}
		v, _ := strconv.ParseUint(s[:n], 8, 16)
		return string([]byte{byte(v)}), n, nil
	}
	return string(c), 1, nil
}
