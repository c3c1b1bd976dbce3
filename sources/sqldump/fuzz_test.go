package sqldump

import (
	"errors"
	"io"
	"strings"
	"testing"
)

// FuzzScanner: any text ends in statements or an error, each statement starting on a
// line no earlier than the one before, and the scanner stops.
func FuzzScanner(f *testing.F) {
	for _, seed := range []string{
		"INSERT INTO `t` VALUES ('a;b\\';c','x'),\n('--not a comment','/*no*/');\n",
		"COPY public.t (a, b) FROM stdin;\nx;y\t\\N\n\\.\nINSERT INTO public.t VALUES ($q$a;b$q$);\n",
		"BEGIN TRANSACTION;\nINSERT INTO t VALUES(replace('a\\nb;','\\n',char(10)));\nCOMMIT;\n",
		"/* open\n", "'never", "$$ x",
	} {
		for tl := range hostileHeads {
			f.Add(uint8(tl), seed)
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, text string) {
		s := newScanner(strings.NewReader(text), tool(int(which)%3))
		last := 0
		for steps := 0; ; steps++ {
			if steps > len(text)+2 {
				t.Fatalf("%d statements from %d bytes: the scanner does not stop", steps, len(text))
			}
			st, err := s.next()
			if errors.Is(err, io.EOF) || err != nil {
				return
			}
			if st.line < last {
				t.Fatalf("statement at line %d after one at line %d", st.line, last)
			}
			last = st.line
			for s.inCopy {
				if _, more, err := s.copyLine(); err != nil || !more {
					break
				}
			}
		}
	})
}

// FuzzLexer: any statement's tokens end (the lexer moves forward each time), and a
// quoted name or string gives back what was quoted.
func FuzzLexer(f *testing.F) {
	for _, seed := range []string{"INSERT INTO `t` VALUES (_binary 'x',0x0aff,X'00',E'\\n',1.5e-3,-2)", `"a""b" 'it''s'`, "`a``b`"} {
		for tl := range hostileHeads {
			f.Add(uint8(tl), seed)
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, text string) {
		l := &lexer{src: text, tool: tool(int(which) % 3)}
		for !l.done() {
			before := l.pos
			if _, err := l.next(); err != nil {
				return
			}
			if l.pos <= before {
				t.Fatalf("the lexer did not move at byte %d of %q", before, text)
			}
		}
	})
}
