package schema

// SQLite: MLflow's default database, and the embedded target of mlflow-bulk.
var sqliteDatabase = &Database{
	Dialect:          SQLite,
	Name:             "SQLite",
	Schemes:          []string{"sqlite"},
	Quote:            doubleQuote,
	TransactionalDDL: true,
	// INTEGER is 64-bit: MLflow 2's 18-digit file-store experiment ids fit.
	MaxExperimentID: 1<<63 - 1,
	MetricOrder:     "rowid",

	listTables:   "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
	listIndexes:  "SELECT name FROM sqlite_master WHERE type = 'index'",
	columnWidths: "SELECT name, '0' FROM pragma_table_info(?)", // widths are not enforced
	// hidden 2 and 3 are generated columns.
	insertable: "SELECT name, CASE WHEN UPPER(type) = 'BOOLEAN' THEN 'boolean' ELSE '' END FROM pragma_table_xinfo(?) WHERE hidden NOT IN (2, 3)",
	introspection: introspection{
		columns: `SELECT m.name, p.name, LOWER(p.type), COALESCE(p.dflt_value, ''), CASE WHEN p.hidden IN (2, 3) THEN '1' ELSE '0' END
			FROM sqlite_master m, pragma_table_xinfo(m.name) p WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' ORDER BY m.name, p.cid`,
		primaryKeys: `SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p
			WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND p.pk > 0 ORDER BY m.name, p.pk`,
		foreignKeys: `SELECT m.name || '#' || f.id, m.name, f."from", f."table", COALESCE(f."to", '') FROM sqlite_master m, pragma_foreign_key_list(m.name) f
			WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' ORDER BY m.name, f.id, f.seq`,
	},
}
