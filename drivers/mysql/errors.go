package mysql

import (
	"database/sql/driver"
	"errors"
	"fmt"

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

// connectionLost says in words what the driver calls "invalid connection" or a bad
// connection: the server closed the session (it restarted, or a timeout such as
// wait_timeout ran out). What was committed stays; the same command finishes the job.
func (s *mysqlSink) connectionLost(err error) error {
	if !errors.Is(err, mysql.ErrInvalidConn) && !errors.Is(err, driver.ErrBadConn) {
		return err
	}
	return fmt.Errorf("lost the connection to the server of %s (it restarted, or a timeout such as wait_timeout closed the session): %w; "+
		"what was committed stays, and running the same command again finishes the job", s.Describe(), err)
}
