package schema

import "testing"

// TestDDLColumnsReadEveryDialect: the columns read from MLflow's DDL include those named
// like SQL keywords (key, value) and leave constraints and indexes out, on every dialect.
func TestDDLColumnsReadEveryDialect(t *testing.T) {
	for _, d := range []Dialect{SQLite, Postgres, MySQL} {
		m := ddlColumns(Newest(), d)
		for table, want := range map[string][]string{
			"trace_tags": {"key", "value", "request_id"},
			"params":     {"key", "value", "run_uuid"},
			"metrics":    {"key", "value", "timestamp", "run_uuid", "step", "is_nan"},
		} {
			for _, c := range want {
				if !m[table][c] {
					t.Errorf("%s: %s.%s not read from the DDL (%v)", d, table, c, m[table])
				}
			}
			for _, keyword := range []string{"constraint", "primary", "key idx", "foreign"} {
				if m[table][keyword] {
					t.Errorf("%s: %s has a column %q", d, table, keyword)
				}
			}
			if len(m[table]) != len(want) && table != "trace_tags" && table != "params" {
				t.Errorf("%s: %s has columns %v, want %v", d, table, m[table], want)
			}
		}
	}
}
