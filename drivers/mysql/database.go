package mysql

import (
	"regexp"
	"strings"

	"github.com/mlflow-bulk/mlflow-bulk/schema"
)

// mysqlDatabase describes MySQL and MariaDB, which share one dialect.
var mysqlDatabase = &schema.Database{
	Dialect:        schema.MySQL,
	Name:           "MySQL/MariaDB",
	Schemes:        []string{"mysql", "mariadb"},
	PasswordEnv:    "MYSQL_PWD",
	Quote:          func(name string) string { return "`" + strings.ReplaceAll(name, "`", "``") + "`" },
	EnforcesWidths: true,
	// schema.MySQL commits each CREATE at once: a crash can leave half a schema (ErrPartialSchema).
	TransactionalDDL: false,
	MaxExperimentID:  1<<31 - 1,
	// ASCII: it compares with runs.run_uuid under any collation MLflow's tables have.
	RunIDColumn: "VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin",
	// schema.MySQL keeps no insertion order: the history's own order serves.
	MetricOrder: `"timestamp", step, "key", value`,

	ServerVersion: "SELECT VERSION()",
	ServerDDL:     mariaDBForm,
	Introspection: schema.Introspection{
		Tables:       "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE()",
		Indexes:      "SELECT DISTINCT CONCAT(TABLE_NAME, '.', INDEX_NAME) FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE()",
		Views:        "SELECT table_name FROM information_schema.views WHERE table_schema = DATABASE()",
		Triggers:     "SELECT trigger_name, event_object_table FROM information_schema.triggers WHERE trigger_schema = DATABASE()",
		ColumnWidths: "SELECT COLUMN_NAME, CAST(COALESCE(CHARACTER_MAXIMUM_LENGTH, 0) AS CHAR) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?",
		Insertable:   "SELECT COLUMN_NAME, DATA_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND EXTRA NOT LIKE '%GENERATED%'",
		Collation:    "SELECT COLLATION_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'params' AND COLUMN_NAME = 'key'",
		Columns: `SELECT TABLE_NAME, COLUMN_NAME, LOWER(COLUMN_TYPE), COALESCE(COLUMN_DEFAULT, ''), CASE WHEN EXTRA LIKE '%GENERATED%' THEN '1' ELSE '0' END,
			CASE WHEN IS_NULLABLE = 'NO' AND COLUMN_DEFAULT IS NULL AND EXTRA NOT LIKE '%auto_increment%' AND EXTRA NOT LIKE '%GENERATED%' THEN '1' ELSE '0' END
			FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME, ORDINAL_POSITION`,
		PrimaryKeys: `SELECT TABLE_NAME, COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE
			WHERE TABLE_SCHEMA = DATABASE() AND CONSTRAINT_NAME = 'PRIMARY' ORDER BY TABLE_NAME, ORDINAL_POSITION`,
		ForeignKeys: `SELECT CONSTRAINT_NAME, TABLE_NAME, COLUMN_NAME, REFERENCED_TABLE_NAME, REFERENCED_COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE
			WHERE TABLE_SCHEMA = DATABASE() AND REFERENCED_TABLE_NAME IS NOT NULL ORDER BY TABLE_NAME, CONSTRAINT_NAME, ORDINAL_POSITION`,
	},
	KeyWeight: func(collation string) string {
		return "HEX(WEIGHT_STRING(CONVERT(? USING utf8mb4) COLLATE " + collationName(collation) + "))"
	},
}

// collationName keeps a collation name (read from information_schema) to the letters,
// digits and underscores such names have, since it is written into SQL.
func collationName(name string) string {
	return strings.Map(func(r rune) rune {
		if r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
			return r
		}
		return -1
	}, name)
}

// namedCheck is a CHECK constraint named as MySQL names an unnamed one (<table>_chk_N).
var namedCheck = regexp.MustCompile("CONSTRAINT `?[A-Za-z0-9_]+_chk_[0-9]+`? CHECK")

// mariaDBForm is a statement of the held DDL (dumps of MLflow's schema on MySQL) as
// MLflow's migrations leave it on MariaDB: its CHECK constraints unnamed, so that MariaDB
// names them itself (CONSTRAINT_1, …, where MySQL says runs_chk_1), and string literals
// without MySQL's _utf8mb4 introducer, which MariaDB keeps in the constraint's text.
// On MySQL the text is MLflow's own already.
func mariaDBForm(version, stmt string) string {
	if !strings.Contains(version, "MariaDB") {
		return stmt
	}
	stmt = namedCheck.ReplaceAllString(stmt, "CHECK")
	return strings.ReplaceAll(stmt, "_utf8mb4'", "'")
}
