package sqlite

import (
	"errors"

	"github.com/mlflow-bulk/mlflow-bulk/sinks"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Classify reads SQLite's extended result codes: a primary key or unique constraint
// refused a row. A busy database is not a lock timeout to retry: busy_timeout already
// waited the whole --lock-timeout.
func (s *sqliteSink) Classify(err error) sinks.ErrorKind { return classify(err) }

func classify(err error) sinks.ErrorKind {
	var liteErr *sqlite.Error
	if !errors.As(err, &liteErr) {
		return sinks.OtherError
	}
	switch liteErr.Code() {
	case sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY, sqlite3.SQLITE_CONSTRAINT_UNIQUE:
		return sinks.UniqueViolation
	}
	return sinks.OtherError
}
