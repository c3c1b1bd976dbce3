package mysql

import (
	"errors"

	"github.com/go-sql-driver/mysql"
	"github.com/mlflow-bulk/mlflow-bulk/sinks"
)

// Classify reads the server's error number: 1062 ER_DUP_ENTRY, 1205
// ER_LOCK_WAIT_TIMEOUT, 1213 ER_LOCK_DEADLOCK.
func (s *mysqlSink) Classify(err error) sinks.ErrorKind { return classify(err) }

func classify(err error) sinks.ErrorKind {
	var myErr *mysql.MySQLError
	if !errors.As(err, &myErr) {
		return sinks.OtherError
	}
	switch myErr.Number {
	case 1062:
		return sinks.UniqueViolation
	case 1205:
		return sinks.LockTimeout
	case 1213:
		return sinks.Deadlock
	}
	return sinks.OtherError
}
