package schema

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// TestDerivationReachesHeldDDL: taking back the recorded steps from each held revision
// down to the next held one gives that one's DDL, on every dialect. This is what vouches
// for the release heads derived in between.
func TestDerivationReachesHeldDDL(t *testing.T) {
	t.Parallel()
	for _, d := range []Dialect{SQLite, Postgres, MySQL} {
		var heldRevs []*Revision
		for i := range chain {
			if held(&chain[i], d) {
				heldRevs = append(heldRevs, &chain[i])
			}
		}
		if len(heldRevs) < 5 {
			t.Fatalf("%s: %d held revisions", d, len(heldRevs))
		}
		for k := 0; k+1 < len(heldRevs); k++ {
			lower, upper := heldRevs[k], heldRevs[k+1]
			got, err := derive(lower, upper, d)
			if err != nil {
				t.Errorf("%s from %s: %v", lower.ID, upper.ID, err)
				continue
			}
			want, err := heldStatements(lower, d)
			if err != nil {
				t.Fatal(err)
			}
			if ok, diffs := sameDDL(got, want); !ok {
				t.Errorf("%s: %s derived from %s differs from the held DDL:\n%s", d, lower.ID, upper.ID, diffs)
			}
		}
	}
}

// TestEveryReleaseCreatable: every release head of the chain up to the newest held
// revision can be created on every dialect.
func TestEveryReleaseCreatable(t *testing.T) {
	t.Parallel()
	for _, d := range []Dialect{SQLite, Postgres, MySQL} {
		for i := range chain {
			r := &chain[i]
			if r.Releases == "" || !r.Described() {
				continue
			}
			stmts, err := Statements(r, d)
			if err != nil {
				t.Errorf("%s %s: %v", d, r, err)
				continue
			}
			if len(stmts) < 6 {
				t.Errorf("%s %s: %d statements", d, r, len(stmts))
			}
		}
	}
}

// checkParens: PostgreSQL prints a CHECK's expression with more or fewer parentheses
// across versions, without changing it.
var checkParens = regexp.MustCompile(`[()]`)

// sameDDL tells whether two statement lists create the same schema: the same tables with
// the same columns in order, the same constraints and indexes in any order.
func sameDDL(a, b []string) (bool, string) {
	da, db := parseDDL(a), parseDDL(b)
	norm := func(doc *ddlDoc) map[string]string {
		m := map[string]string{}
		for _, st := range doc.stmts {
			switch {
			case st.table != "":
				var cols, cons []string
				for _, l := range st.lines {
					if strings.HasPrefix(l, "CONSTRAINT ") || strings.HasPrefix(l, "PRIMARY KEY") || strings.HasPrefix(l, "UNIQUE") ||
						strings.HasPrefix(l, "FOREIGN KEY") || strings.HasPrefix(l, "CHECK") {
						if strings.Contains(l, " CHECK ") {
							l = checkParens.ReplaceAllString(l, "")
						}
						cons = append(cons, l)
					} else {
						cols = append(cols, l)
					}
				}
				sort.Strings(cons)
				m["table "+st.table] = strings.Join(cols, "\n") + "\n--\n" + strings.Join(cons, "\n")
			case st.index != "":
				m["index "+st.index] = st.text
			default:
				m[st.text] = st.text
			}
		}
		return m
	}
	ma, mb := norm(da), norm(db)
	var diffs []string
	for k, v := range ma {
		if mb[k] != v {
			diffs = append(diffs, fmt.Sprintf("%s:\n%s\n  vs\n%s", k, v, mb[k]))
		}
	}
	for k := range mb {
		if _, ok := ma[k]; !ok {
			diffs = append(diffs, k+": missing")
		}
	}
	sort.Strings(diffs)
	return len(diffs) == 0, strings.Join(diffs, "\n\n")
}

// TestNewDialectLacksTexts: a dialect no change was written for is named by
// MissingTexts, and deriving its DDL or its triggers fails instead of leaving out what
// the changes made.
func TestNewDialectLacksTexts(t *testing.T) {
	t.Parallel()
	fourth := Dialect("fourth")
	if missing := MissingTexts(fourth); len(missing) == 0 {
		t.Error("a dialect no change was written for lacks no text")
	}
	for _, d := range []Dialect{SQLite, Postgres, MySQL} {
		if missing := MissingTexts(d); len(missing) > 0 {
			t.Errorf("%s lacks texts: %v", d, missing)
		}
	}
	if _, err := triggerStatements(Newest(), fourth); err == nil {
		t.Error("the secrets trigger of a dialect without its text: no error")
	}
	if err := (changedColumn{table: "t", name: "c", before: texts{SQLite: "INTEGER"}}).undo(parseDDL([]string{"CREATE TABLE t (\n\tc BIGINT\n)"}), fourth); err == nil {
		t.Error("a change without a text for the dialect: taken back without an error")
	}
}

// TestCheckAsIn: pg_dump's form of a CHECK is written as MLflow writes it, and the held
// DDL holds none of it.
func TestCheckAsIn(t *testing.T) {
	in := "CONSTRAINT runs_lifecycle_stage CHECK (lifecycle_stage::text = ANY (ARRAY['active'::character varying, 'deleted'::character varying]::text[])),"
	want := "CONSTRAINT runs_lifecycle_stage CHECK (lifecycle_stage IN ('active', 'deleted')),"
	if got := CheckAsIn(in); got != want {
		t.Errorf("got %s", got)
	}
	parenthesized := "CONSTRAINT runs_lifecycle_stage CHECK ((lifecycle_stage)::text = ANY ((ARRAY['active'::character varying, 'deleted'::character varying])::text[])),"
	if got := CheckAsIn(parenthesized); got != want {
		t.Errorf("the parenthesized form: got %s", got)
	}
	stmts, err := Statements(Newest(), Postgres)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range stmts {
		if strings.Contains(s, "= ANY (ARRAY") {
			t.Errorf("a CHECK left in pg_dump's form: %s", s)
		}
	}
}
