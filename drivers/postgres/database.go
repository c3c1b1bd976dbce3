package postgres

import (
	"fmt"
	"strings"

	"github.com/mlflow-bulk/mlflow-bulk/schema"
)

// PostgreSQL.
var postgresDatabase = &schema.Database{
	Dialect:          schema.Postgres,
	Name:             "PostgreSQL",
	Schemes:          []string{"postgresql", "postgres"},
	KeywordValue:     true, // libpq's host=… dbname=… strings
	Placeholders:     DollarPlaceholders,
	Quote:            schema.DoubleQuote,
	EnforcesWidths:   true,
	RejectsNUL:       true,
	NativeBooleans:   true,
	TransactionalDDL: true,
	MaxExperimentID:  1<<31 - 1,
	MetricOrder:      "ctid", // rows are never updated, so ctid follows insertion
	JSONText:         func(quoted string) string { return "CAST(" + quoted + " AS TEXT)" },

	Introspection: schema.Introspection{
		Tables:  "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()",
		Indexes: "SELECT tablename::text || '.' || indexname::text FROM pg_indexes WHERE schemaname = current_schema() UNION SELECT sequencename::text FROM pg_sequences WHERE schemaname = current_schema()",
		Views:   "SELECT table_name::text FROM information_schema.views WHERE table_schema = current_schema()",
		Triggers: "SELECT t.tgname::text, c.relname::text FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace " +
			"WHERE NOT t.tgisinternal AND n.nspname = current_schema() " +
			"UNION ALL SELECT rulename::text, tablename::text FROM pg_rules WHERE schemaname = current_schema()",
		ColumnWidths: "SELECT column_name::text, COALESCE(character_maximum_length, 0)::text FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ?",
		Insertable:   "SELECT column_name::text, data_type::text FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ? AND is_generated = 'NEVER'",
		Columns: `SELECT table_name::text, column_name::text, LOWER(data_type::text), COALESCE(column_default::text, ''), CASE WHEN is_generated = 'NEVER' THEN '0' ELSE '1' END,
			CASE WHEN is_nullable = 'NO' AND column_default IS NULL AND is_identity = 'NO' AND is_generated = 'NEVER' THEN '1' ELSE '0' END
			FROM information_schema.columns WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position`,
		PrimaryKeys: `SELECT rel.relname::text, a.attname::text FROM pg_constraint c
			JOIN pg_class rel ON rel.oid = c.conrelid
			CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY AS k(attnum, ord)
			JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum
			WHERE c.contype = 'p' AND c.connamespace = current_schema()::regnamespace ORDER BY rel.relname, k.ord`,
		ForeignKeys: `SELECT c.conname::text, rel.relname::text, a.attname::text, ref.relname::text, ra.attname::text FROM pg_constraint c
			JOIN pg_class rel ON rel.oid = c.conrelid
			JOIN pg_class ref ON ref.oid = c.confrelid
			CROSS JOIN LATERAL unnest(c.conkey, c.confkey) WITH ORDINALITY AS k(attnum, refnum, ord)
			JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum
			JOIN pg_attribute ra ON ra.attrelid = c.confrelid AND ra.attnum = k.refnum
			WHERE c.contype = 'f' AND c.connamespace = current_schema()::regnamespace ORDER BY rel.relname, c.conname, k.ord`,
	},
	SequenceReset: "SELECT setval(pg_get_serial_sequence('experiments', 'experiment_id'), m) " +
		"FROM (SELECT MAX(experiment_id) AS m FROM experiments) AS x WHERE m >= 1",
	// Indexes built after a load are about twice as fast here; elsewhere the keys stay.
	DeferredKeys: &schema.DeferredKeys{
		Statements: func(r *schema.Revision) (drop, add []string) {
			drop = []string{
				"ALTER TABLE metrics DROP CONSTRAINT metric_pk, DROP CONSTRAINT metrics_run_uuid_fkey",
				"DROP INDEX index_metrics_run_uuid",
				"DROP INDEX IF EXISTS index_metrics_run_uuid_key_step",
			}
			add = []string{
				`ALTER TABLE metrics ADD CONSTRAINT metric_pk PRIMARY KEY ("key", "timestamp", step, run_uuid, value, is_nan), ` +
					"ADD CONSTRAINT metrics_run_uuid_fkey FOREIGN KEY (run_uuid) REFERENCES runs (run_uuid)",
				// Built ahead when an interrupted load is resumed (see resume).
				"CREATE INDEX IF NOT EXISTS index_metrics_run_uuid ON metrics (run_uuid)",
			}
			if r.AtLeast("a5b4c3d2e1f0") {
				add = append(add, `CREATE INDEX index_metrics_run_uuid_key_step ON metrics (run_uuid, "key", step)`)
			}
			return drop, add
		},
		Resume: []string{"CREATE INDEX IF NOT EXISTS index_metrics_run_uuid ON metrics (run_uuid)"},
		// A metrics table without any primary key is only ever left by the drop above.
		Pending: "SELECT COUNT(*) FROM pg_constraint WHERE contype = 'p' AND conrelid = 'metrics'::regclass",
		Dedupe: `DELETE FROM metrics a USING metrics b WHERE a.ctid > b.ctid AND a."key" = b."key" AND a."timestamp" = b."timestamp" ` +
			"AND a.step = b.step AND a.run_uuid = b.run_uuid AND a.value = b.value AND a.is_nan = b.is_nan",
		// The foreign key needs runs in SHARE ROW EXCLUSIVE mode (which still lets a
		// writer's own foreign-key checks through), the primary key metrics exclusively;
		// taken runs first, as MLflow's writers reach runs before they wait on metrics.
		// Each lock waits at most 2 s, so the build never holds one while waiting on a
		// writer that waits on it; the importer retries a timeout (sinks.LockTimeout).
		Lock: []string{"SET LOCAL lock_timeout = '2s'", "LOCK TABLE runs IN SHARE ROW EXCLUSIVE MODE", "LOCK TABLE metrics IN ACCESS EXCLUSIVE MODE", "SET LOCAL lock_timeout = 0"},
	},
}

// DollarPlaceholders turns '?' placeholders into PostgreSQL's $1, $2, … outside quoted
// strings, so the same query text serves every dialect.
func DollarPlaceholders(query string) string {
	if !strings.Contains(query, "?") {
		return query
	}
	var b strings.Builder
	n, quoted := 0, false
	for _, r := range query {
		switch {
		case r == '\'':
			quoted = !quoted
		case r == '?' && !quoted:
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
