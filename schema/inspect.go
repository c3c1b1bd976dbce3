package schema

import (
	"encoding/json"
	"sort"
	"strings"
)

// The schema as a live database describes it: what the importer copies for tables it
// has no rules for (every table MLflow adds in a release), and what it compares between
// a source and a target before writing. Unlike the revision data in tables.go, nothing
// here is known in advance: it is read at run time.

// TableInfo is one table of a database.
// Its JSON (a dump's tables.jsonl carries it) is in snake case; a dump written before,
// in Go's field names, reads the same (see UnmarshalJSON).
type TableInfo struct {
	Name    string       `json:"name"`
	Columns []ColumnInfo `json:"columns"` // in table order
	// PrimaryKey names the primary key's columns in key order; empty without one.
	PrimaryKey  []string     `json:"primary_key"`
	ForeignKeys []ForeignKey `json:"foreign_keys"`
}

// ColumnInfo is one column of a table.
type ColumnInfo struct {
	Name string `json:"name"`
	// Type is the declared type as the database reports it, lower case.
	Type string `json:"type"`
	// Default is the column's default as the database reports it ("'default'", "0",
	// "'default'::character varying"), empty without one.
	Default   string `json:"default"`
	Generated bool   `json:"generated"` // computed by the database; never written
	// Required is NOT NULL without a default (nor an identity or auto-increment): every
	// row written must give it a value.
	Required bool `json:"required"`
	Boolean  bool `json:"boolean"`
	Binary   bool `json:"binary"` // bytes, not text (BYTEA, BLOB)
}

// ForeignKey is a reference from columns of a table to columns of another.
type ForeignKey struct {
	Columns    []string `json:"columns"`
	RefTable   string   `json:"ref_table"`
	RefColumns []string `json:"ref_columns"`
}

// Column returns the named column, or nil.
func (t *TableInfo) Column(name string) *ColumnInfo {
	for i := range t.Columns {
		if t.Columns[i].Name == name {
			return &t.Columns[i]
		}
	}
	return nil
}

// References returns the table and column that a single column refers to through a
// foreign key of its own, or "" and "".
func (t *TableInfo) References(column string) (table, refColumn string) {
	for _, fk := range t.ForeignKeys {
		for i, c := range fk.Columns {
			if c == column {
				return fk.RefTable, fk.RefColumns[i]
			}
		}
	}
	return "", ""
}

// LiteralDefault is the column's default as a plain value ("default" for
// "'default'::character varying", "0" for "'0'" or 0) and whether it is one at all
// (not an expression such as nextval(...)).
func (c *ColumnInfo) LiteralDefault() (string, bool) {
	d := strings.TrimSpace(c.Default)
	if i := strings.Index(d, "::"); i > 0 {
		d = d[:i]
	}
	switch {
	case d == "" || strings.EqualFold(d, "null"):
		return "", false
	case len(d) >= 2 && d[0] == '\'' && d[len(d)-1] == '\'':
		return strings.ReplaceAll(d[1:len(d)-1], "''", "'"), true
	case d == "false":
		return "0", true
	case d == "true":
		return "1", true
	}
	for _, r := range d {
		if (r < '0' || r > '9') && r != '.' && r != '-' {
			return "", false
		}
	}
	return d, true
}

// Introspection holds a dialect's queries for the live schema. Each returns rows of
// (table, ...) for every table of the current database or schema.
type Introspection struct {
	// Tables: the names of the tables; Indexes: of the indexes as "table.index" (and,
	// where the database has them apart, the names of sequences); Views: of the views.
	Tables, Indexes, Views string
	// Triggers: (name, table) of the triggers, and of the rules that rewrite writes
	// where the database has such, on the tables of the database.
	Triggers string
	// ColumnWidths: (column, width as text) of one table, the argument.
	ColumnWidths string
	// Insertable: (column, type) of one table's columns that take values.
	Insertable string
	// Collation reads the collation of params.key; empty where comparisons are binary.
	Collation string
	// Columns: table, column, type, default, generated ("1"/"0"), required ("1"/"0":
	// NOT NULL with no default, not generated), in column order.
	Columns string
	// PrimaryKeys: table, column, in key order.
	PrimaryKeys string
	// ForeignKeys: constraint, table, column, referenced table, referenced column, in
	// key order.
	ForeignKeys string
}

// ParentsFirst orders the named tables so that a table comes after the tables its
// foreign keys refer to (among those named); references in a cycle keep name order.
func ParentsFirst(tables map[string]*TableInfo, names []string) []string {
	sorted := append([]string{}, names...)
	sort.Strings(sorted)
	wanted := map[string]bool{}
	for _, n := range sorted {
		wanted[n] = true
	}
	done := map[string]bool{}
	visiting := map[string]bool{}
	var out []string
	var visit func(string)
	visit = func(n string) {
		if done[n] || visiting[n] {
			return
		}
		visiting[n] = true
		if t := tables[n]; t != nil {
			for _, fk := range t.ForeignKeys {
				if wanted[fk.RefTable] && fk.RefTable != n {
					visit(fk.RefTable)
				}
			}
		}
		visiting[n] = false
		done[n] = true
		out = append(out, n)
	}
	for _, n := range sorted {
		visit(n)
	}
	return out
}

// UnmarshalJSON reads a table's description in either spelling: snake case, or the Go
// field names dumps of earlier versions carry (PrimaryKey, ForeignKeys), which JSON's
// case-insensitive matching alone would not take for primary_key and foreign_keys.
func (t *TableInfo) UnmarshalJSON(b []byte) error {
	type plain TableInfo
	var both struct {
		plain
		OldPrimaryKey  []string     `json:"PrimaryKey"`
		OldForeignKeys []ForeignKey `json:"ForeignKeys"`
	}
	if err := json.Unmarshal(b, &both); err != nil {
		return err
	}
	*t = TableInfo(both.plain)
	if t.PrimaryKey == nil {
		t.PrimaryKey = both.OldPrimaryKey
	}
	if t.ForeignKeys == nil {
		t.ForeignKeys = both.OldForeignKeys
	}
	return nil
}

// UnmarshalJSON reads a reference in either spelling (see TableInfo's).
func (f *ForeignKey) UnmarshalJSON(b []byte) error {
	type plain ForeignKey
	var both struct {
		plain
		OldRefTable   string   `json:"RefTable"`
		OldRefColumns []string `json:"RefColumns"`
	}
	if err := json.Unmarshal(b, &both); err != nil {
		return err
	}
	*f = ForeignKey(both.plain)
	if f.RefTable == "" {
		f.RefTable = both.OldRefTable
	}
	if f.RefColumns == nil {
		f.RefColumns = both.OldRefColumns
	}
	return nil
}
