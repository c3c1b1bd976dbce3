package schema

import (
	"strings"
)

// RunStampsTable is mlflow-bulk's own table beside MLflow's: the stamp of each run it
// imported (see the importer), so that a nightly re-import skips unchanged runs unread.
// MLflow neither reads nor minds a table it does not know; mlflow-bulk leaves it out
// wherever it lists a database's tables.
const RunStampsTable = "mlflow_bulk_run_stamps"

// RunStampsDDL creates RunStampsTable. It has no foreign key: MLflow's own deletion of
// runs (mlflow gc) must not trip over it. Its run id column is the database's
// (RunIDColumn), which compares with runs.run_uuid whatever collation MLflow's tables
// were given.
func RunStampsDDL(d Dialect) string {
	runUUID := d.Database().RunIDColumn
	if runUUID == "" {
		runUUID = "VARCHAR(32)"
	}
	return "CREATE TABLE IF NOT EXISTS " + RunStampsTable + " (run_uuid " + runUUID + " NOT NULL, stamp BIGINT NOT NULL, " + RunStampsRows + " BIGINT, PRIMARY KEY (run_uuid))"
}

// RunStampsRows is the column of RunStampsTable that holds how many params, tags and
// metric rows the target held of the run when it was stamped (NULL where the import
// could not tell: a run it merged into one the target held). Tables of earlier versions
// lack it; AddRunStampsRows adds it.
const RunStampsRows = "rows_held"

// AddRunStampsRows is the statement that adds RunStampsRows to a table without it.
func AddRunStampsRows() string {
	return "ALTER TABLE " + RunStampsTable + " ADD COLUMN " + RunStampsRows + " BIGINT"
}

// OwnTable reports whether a table is mlflow-bulk's rather than MLflow's.
func OwnTable(name string) bool { return strings.HasPrefix(strings.ToLower(name), "mlflow_bulk_") }
