package sqldump

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
)

// A dump is read one statement at a time, never whole: the scanner follows the quoting
// rules of the tool that wrote it far enough to know where a statement ends, and hands
// the data lines of a pg_dump COPY block over one by one.

// maxStatement bounds one statement: mysqldump splits its multi-row INSERTs at its
// buffer length (1 MiB by default, 16 MiB at most); anything far longer is not a dump
// this reader takes, most likely a value that never ends.
const maxStatement = 256 << 20

// tool is the program that wrote a dump; each quotes differently.
type tool int

const (
	toolMySQL    tool = iota // mysqldump, mariadb-dump
	toolPostgres             // pg_dump, plain format
	toolSQLite               // the sqlite3 shell's .dump
)

func (t tool) String() string {
	return [...]string{"mysqldump", "pg_dump", "sqlite3 .dump"}[t]
}

// statement is one SQL statement of the dump, without its ';'.
type statement struct {
	text string
	line int // where it starts
}

// scanner splits a dump into statements.
type scanner struct {
	r    *bufio.Reader
	tool tool
	line int
	// inCopy: the last statement was a COPY … FROM stdin; its data lines come next.
	inCopy bool
	// trailer: the tool's closing comment came after the last statement; lastStatement
	// is the last statement. A complete dump ends with its tool's closing line.
	trailer       bool
	lastStatement string
	// headed: the dump began with its tool's header comment. mysqldump's --compact
	// output has neither that nor the closing line, so it cannot show it is complete.
	headed bool
}

func newScanner(r io.Reader, t tool) *scanner {
	return &scanner{r: bufio.NewReaderSize(r, 1<<20), tool: t, line: 1}
}

// lineError is an error at a line of the dump, which the InputError made of it names
// once.
type lineError struct {
	line int
	err  error
}

func (e *lineError) Error() string { return fmt.Sprintf("line %d: %v", e.line, e.err) }
func (e *lineError) Unwrap() error { return e.err }

func atLine(line int, format string, args ...any) error {
	return &lineError{line: line, err: fmt.Errorf(format, args...)}
}

// errNoEnd is a statement or a quoted value that the end of the file cut off.
var errNoEnd = errors.New("never ends")

// next returns the next statement, or io.EOF after the last one. Comments, psql
// meta-commands (\restrict) and blank space between statements are skipped.
func (s *scanner) next() (statement, error) {
	var b bytes.Buffer
	start := 0
	for {
		c, err := s.r.ReadByte()
		if err == io.EOF {
			if strings.TrimSpace(b.String()) == "" {
				return statement{}, io.EOF
			}
			return statement{}, atLine(start, "the statement that starts there %w", errNoEnd)
		}
		if err != nil {
			return statement{}, err
		}
		if b.Len() == 0 {
			skip, err := s.between(c)
			if err != nil {
				return statement{}, err
			}
			if skip {
				continue
			}
			start = s.line
		}
		if c == ';' {
			text := strings.TrimSpace(b.String())
			if text == "" {
				b.Reset()
				continue
			}
			return s.ended(text, start)
		}
		if err := s.take(c, &b); err != nil {
			return statement{}, err
		}
		if b.Len() > maxStatement {
			return statement{}, atLine(start, "the statement that starts there is over %d MiB, more than any dump tool writes: a value that never ends?", maxStatement>>20)
		}
	}
}

// between handles a byte read between statements: blank space, a comment line (the
// tool's closing line among them) and a psql meta-command (\restrict) are skipped.
func (s *scanner) between(c byte) (bool, error) {
	switch {
	case c == '\n':
		s.line++
		return true, nil
	case c == ' ' || c == '\t' || c == '\r':
		return true, nil
	case c == '\\' && s.tool == toolPostgres:
		return true, s.skipLine() // one line, not SQL
	case c == '-' && s.peekIs('-'):
		comment, err := s.r.ReadString('\n')
		if err != nil && err != io.EOF {
			return true, err
		}
		if err == nil {
			s.line++
		}
		comment = strings.TrimSpace(strings.TrimLeft(comment, "-"))
		if strings.HasPrefix(comment, "Dump completed") || strings.HasPrefix(comment, "PostgreSQL database dump complete") {
			s.trailer = true
		}
		if s.lastStatement == "" && (strings.HasPrefix(comment, "MySQL dump") || strings.HasPrefix(comment, "MariaDB dump")) {
			s.headed = true
		}
		return true, nil
	}
	return false, nil
}

// ended returns a statement read up to its ';'.
func (s *scanner) ended(text string, start int) (statement, error) {
	s.lastStatement, s.trailer = text, false
	if s.tool == toolPostgres && isCopyFromStdin(text) {
		s.inCopy = true
		if err := s.skipLine(); err != nil { // the rest of the COPY line
			return statement{}, err
		}
	}
	return statement{text: text, line: start}, nil
}

// take adds a byte of a statement, and the whole of a quoted value or comment it starts.
func (s *scanner) take(c byte, b *bytes.Buffer) error {
	switch {
	case c == '\n':
		s.line++
		b.WriteByte(c)
	case c == '-' && s.peekIs('-') && isSpaceEnded(b.Bytes()):
		if err := s.skipLine(); err != nil {
			return err
		}
		b.WriteByte('\n')
	case c == '/' && s.peekIs('*'):
		return s.block(b)
	case c == '\'' || c == '"' || c == '`':
		b.WriteByte(c)
		return s.quoted(b, c)
	case c == '$' && s.tool == toolPostgres:
		b.WriteByte(c)
		return s.dollarQuoted(b)
	default:
		b.WriteByte(c)
	}
	return nil
}

// inside reads the next byte of a comment or quoted value that started on line start,
// counting lines; the end of the file there is what never ends.
func (s *scanner) inside(start int, what string) (byte, error) {
	c, err := s.r.ReadByte()
	if err == io.EOF {
		return 0, atLine(start, "the %s that starts there %w", what, errNoEnd)
	}
	if err == nil && c == '\n' {
		s.line++
	}
	return c, err
}

func isSpaceEnded(b []byte) bool {
	last := b[len(b)-1]
	return last == ' ' || last == '\n' || last == '\t' || last == ',' || last == '(' || last == ')'
}

func (s *scanner) peekIs(c byte) bool {
	next, err := s.r.Peek(1)
	return err == nil && next[0] == c
}

// skipLine reads up to and including the end of the line.
func (s *scanner) skipLine() error {
	_, err := s.r.ReadSlice('\n')
	for errors.Is(err, bufio.ErrBufferFull) {
		_, err = s.r.ReadSlice('\n')
	}
	if err == nil {
		s.line++
	}
	if err == io.EOF {
		return nil
	}
	return err
}

// block copies or skips a /* … */ comment. MySQL's /*!NNNNN … */ executes on MySQL; the
// statements mlflow-bulk needs never hide in one, so they are dropped too.
func (s *scanner) block(b *bytes.Buffer) error {
	start := s.line
	if _, err := s.r.ReadByte(); err != nil { // the '*'
		return err
	}
	prev := byte(0)
	for {
		c, err := s.inside(start, "comment")
		if err != nil {
			return err
		}
		if prev == '*' && c == '/' {
			b.WriteByte(' ')
			return nil
		}
		prev = c
	}
}

// quoted copies a quoted string or name up to its closing quote. A doubled quote is
// one quote in every dialect; MySQL also escapes with a backslash (in strings, not in
// `names`), and so do PostgreSQL's E'…' strings.
func (s *scanner) quoted(b *bytes.Buffer, q byte) error {
	start := s.line
	backslashes := q != '`' && (s.tool == toolMySQL || q == '\'' && s.tool == toolPostgres && endsWithE(b.Bytes()[:b.Len()-1]))
	for {
		c, err := s.inside(start, "value")
		if err != nil {
			return err
		}
		b.WriteByte(c)
		switch {
		case c == '\\' && backslashes:
			next, err := s.inside(start, "value")
			if err != nil {
				return err
			}
			b.WriteByte(next)
		case c == q:
			if s.peekIs(q) {
				next, _ := s.r.ReadByte()
				b.WriteByte(next)
				continue
			}
			return nil
		}
		if b.Len() > maxStatement {
			return atLine(start, "the value that starts there is over %d MiB: it never ends?", maxStatement>>20)
		}
	}
}

// endsWithE reports whether the text before a quote is an E prefix (E'…').
func endsWithE(b []byte) bool {
	if len(b) == 0 || b[len(b)-1]|0x20 != 'e' {
		return false
	}
	if len(b) == 1 {
		return true
	}
	p := b[len(b)-2]
	return (p < 'a' || p > 'z') && (p < 'A' || p > 'Z') && (p < '0' || p > '9') && p != '_'
}

// dollarQuoted copies a PostgreSQL $tag$ … $tag$ string, when the '$' starts one.
func (s *scanner) dollarQuoted(b *bytes.Buffer) error {
	start := s.line
	var tag []byte
	for {
		next, err := s.r.Peek(1)
		if err != nil {
			return nil
		}
		c := next[0]
		if c == '$' {
			_, _ = s.r.ReadByte()
			b.WriteByte(c)
			break
		}
		if (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && c != '_' && (len(tag) == 0 || c < '0' || c > '9') {
			return nil // a positional parameter or part of a name, not a quote
		}
		_, _ = s.r.ReadByte()
		b.WriteByte(c)
		tag = append(tag, c)
	}
	closing := "$" + string(tag) + "$"
	for {
		c, err := s.inside(start, "value")
		if err != nil {
			return err
		}
		b.WriteByte(c)
		if c == '$' && bytes.HasSuffix(b.Bytes(), []byte(closing)) && b.Len() > len(closing) {
			return nil
		}
	}
}

// complete reports whether the dump ended as its tool ends one: mysqldump with
// "-- Dump completed", pg_dump with "-- PostgreSQL database dump complete" (before its
// \unrestrict line), sqlite3's .dump with COMMIT.
func (s *scanner) complete() bool {
	if s.tool == toolMySQL && !s.headed {
		return true // --compact: no closing line to wait for (Open says so in the report)
	}
	if s.tool != toolSQLite {
		return s.trailer
	}
	return strings.EqualFold(s.lastStatement, "COMMIT") || strings.EqualFold(s.lastStatement, "END TRANSACTION")
}

// isCopyFromStdin reports whether a pg_dump statement is a COPY whose rows follow it.
func isCopyFromStdin(text string) bool {
	upper := strings.ToUpper(text)
	return strings.HasPrefix(upper, "COPY ") && strings.HasSuffix(upper, "FROM STDIN")
}

// copyLine returns the next data line of a COPY block, without its newline, and false
// at the block's end (\.).
func (s *scanner) copyLine() (string, bool, error) {
	var b []byte
	for {
		chunk, err := s.r.ReadSlice('\n')
		b = append(b, chunk...)
		if errors.Is(err, bufio.ErrBufferFull) {
			if len(b) > maxStatement {
				return "", false, atLine(s.line, "a COPY row of over %d MiB: it never ends?", maxStatement>>20)
			}
			continue
		}
		if err == io.EOF {
			return "", false, atLine(s.line, "the COPY block %w (no \\. line)", errNoEnd)
		}
		if err != nil {
			return "", false, err
		}
		break
	}
	s.line++
	text := strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
	if text == `\.` {
		s.inCopy = false
		return "", false, nil
	}
	return text, true, nil
}
