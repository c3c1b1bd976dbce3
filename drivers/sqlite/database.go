package sqlite

import (
	"strings"

	"github.com/mlflow-bulk/mlflow-bulk/schema"
)

// SQLite: MLflow's default database, and the embedded target of mlflow-bulk.
var sqliteDatabase = &schema.Database{
	Dialect:          schema.SQLite,
	Name:             "SQLite",
	Schemes:          []string{"sqlite"},
	FileURI:          func(path string) string { return "sqlite:///" + path },
	FileMagic:        []byte("SQLite format 3\x00"),
	Quote:            schema.DoubleQuote,
	TransactionalDDL: true,
	// INTEGER is 64-bit: MLflow 2's 18-digit file-store experiment ids fit.
	MaxExperimentID: 1<<63 - 1,
	MetricOrder:     "rowid",

	Introspection: schema.Introspection{
		Tables:       "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
		Indexes:      "SELECT tbl_name || '.' || name FROM sqlite_master WHERE type = 'index'",
		Triggers:     "SELECT name, tbl_name FROM sqlite_master WHERE type = 'trigger'",
		Views:        "SELECT name FROM sqlite_master WHERE type = 'view'",
		ColumnWidths: "SELECT name, '0' FROM pragma_table_info(?)", // widths are not enforced
		// hidden 2 and 3 are generated columns.
		Insertable: "SELECT name, CASE WHEN UPPER(type) = 'BOOLEAN' THEN 'boolean' ELSE '' END FROM pragma_table_xinfo(?) WHERE hidden NOT IN (2, 3)",
		Columns: `SELECT m.name, p.name, LOWER(p.type), COALESCE(p.dflt_value, ''), CASE WHEN p.hidden IN (2, 3) THEN '1' ELSE '0' END,
			CASE WHEN p."notnull" = 1 AND p.dflt_value IS NULL AND p.hidden NOT IN (2, 3) AND NOT (p.pk = 1 AND LOWER(p.type) = 'integer') THEN '1' ELSE '0' END
			FROM sqlite_master m, pragma_table_xinfo(m.name) p WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' ORDER BY m.name, p.cid`,
		PrimaryKeys: `SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p
			WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND p.pk > 0 ORDER BY m.name, p.pk`,
		ForeignKeys: `SELECT m.name || '#' || f.id, m.name, f."from", f."table", COALESCE(f."to", '') FROM sqlite_master m, pragma_foreign_key_list(m.name) f
			WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' ORDER BY m.name, f.id, f.seq`,
	},
}

func init() {
	sqliteDatabase.DeferredKeys = &schema.DeferredKeys{
		Statements: sqliteDeferredKeys,
		Resume:     []string{"CREATE INDEX IF NOT EXISTS index_metrics_run_uuid ON metrics (run_uuid)"},
		// MLflow's metrics always has its primary key: a table without one is only ever
		// left by the statements sqliteDeferredKeys gives.
		Pending: "SELECT COUNT(*) FROM pragma_index_list('metrics') WHERE origin = 'pk'",
		Dedupe:  `DELETE FROM metrics WHERE rowid NOT IN (SELECT MIN(rowid) FROM metrics GROUP BY "key", "timestamp", step, run_uuid, value, is_nan)`,
		// The table held no foreign key while it was loaded: no row may name a run that
		// is not there (the importer always writes the run first).
		Orphans: "SELECT COUNT(*) FROM (SELECT DISTINCT run_uuid FROM metrics) AS m WHERE NOT EXISTS (SELECT 1 FROM runs r WHERE r.run_uuid = m.run_uuid)",
	}
}

// sqliteLoadIndex is the name the primary key's index is built under, by sorting,
// before it becomes the key's own.
const sqliteLoadIndex = "mlflow_bulk_metric_pk"

// sqliteDeferredKeys takes metrics' primary key, foreign key and index off a new
// database, and puts them back with MLflow's exact schema. schema.SQLite cannot drop a primary
// key, so metrics is created again without it; it keeps its rowids, in the order the
// points were written, which is the order MLflow's readers get them in. Afterwards the
// key's index is built once by sorting rather than row by row, and made the key's own
// by writing MLflow's CREATE TABLE text back into sqlite_master with the index named as
// schema.SQLite names a primary key's (sqlite_autoindex_metrics_1): the database is then the
// one MLflow creates, byte for byte in its schema, which PRAGMA integrity_check confirms.
func sqliteDeferredKeys(r *schema.Revision) (drop, add []string) {
	stmts, err := schema.Statements(r.DescribedBase(), schema.SQLite)
	if err != nil {
		return nil, nil
	}
	var table string
	var indexes []string
	for _, stmt := range stmts {
		if strings.HasPrefix(stmt, "CREATE TABLE metrics (") {
			table = stmt
		}
		if name, ok := strings.CutPrefix(stmt, "CREATE INDEX "); ok && strings.Contains(stmt, " ON metrics (") {
			name, _, _ = strings.Cut(name, " ")
			drop = append(drop, "DROP INDEX "+name)
			indexes = append(indexes, "CREATE INDEX IF NOT EXISTS "+strings.TrimPrefix(stmt, "CREATE INDEX "))
		}
	}
	bare, keyColumns, ok := withoutKeys(table)
	if !ok {
		return nil, nil
	}
	drop = append(drop, "DROP TABLE metrics", bare)
	add = []string{
		// The sorter keeps this much in memory before it spills to merge passes: a
		// fifth off the build for 30 MB, given back at the end (schema.SQLite's default).
		"PRAGMA cache_size = -8192",
		"CREATE UNIQUE INDEX " + sqliteLoadIndex + " ON metrics (" + keyColumns + ")",
		"PRAGMA writable_schema = ON",
		"UPDATE sqlite_master SET sql = '" + strings.ReplaceAll(table, "'", "''") + "' WHERE type = 'table' AND name = 'metrics'",
		"UPDATE sqlite_master SET name = 'sqlite_autoindex_metrics_1', sql = NULL WHERE type = 'index' AND name = '" + sqliteLoadIndex + "'",
		// RESET reads the schema again from the file, as a new connection will.
		"PRAGMA writable_schema = RESET",
	}
	return drop, append(append(add, indexes...), "PRAGMA cache_size = -2000")
}

// withoutKeys is a CREATE TABLE statement without its PRIMARY KEY and FOREIGN KEY
// clauses, and the primary key's columns; false when it has no table-level primary key.
func withoutKeys(create string) (bare, keyColumns string, ok bool) {
	open, end := strings.Index(create, "("), strings.LastIndex(create, ")")
	if open < 0 || end < open {
		return "", "", false
	}
	var kept []string
	for _, item := range splitTopLevel(create[open+1 : end]) {
		clause := strings.TrimSpace(item)
		upper := strings.ToUpper(clause)
		if strings.HasPrefix(upper, "CONSTRAINT ") {
			if _, rest, found := strings.Cut(clause, " "); found {
				if _, rest, found = strings.Cut(strings.TrimSpace(rest), " "); found {
					upper = strings.ToUpper(strings.TrimSpace(rest))
				}
			}
		}
		switch {
		case strings.HasPrefix(upper, "PRIMARY KEY"):
			if i, j := strings.Index(clause, "("), strings.LastIndex(clause, ")"); i >= 0 && j > i {
				keyColumns = clause[i+1 : j]
			}
		case strings.HasPrefix(upper, "FOREIGN KEY"):
		default:
			kept = append(kept, item)
		}
	}
	if keyColumns == "" {
		return "", "", false
	}
	return create[:open+1] + strings.Join(kept, ",") + create[end:], keyColumns, true
}

// splitTopLevel splits a column list at the commas outside parentheses and quotes.
func splitTopLevel(s string) []string {
	var parts []string
	depth, start := 0, 0
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"' || c == '`':
			quote = c
		case c == '(':
			depth++
		case c == ')':
			depth--
		case c == ',' && depth == 0:
			parts = append(parts, s[start:i])
			start = i + 1
		}
	}
	return append(parts, s[start:])
}
