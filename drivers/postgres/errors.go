package postgres

import (
	"errors"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/mlflow-bulk/mlflow-bulk/sinks"
)

// Classify reads PostgreSQL's SQLSTATE: 23505 unique_violation, 55P03
// lock_not_available (lock_timeout ran out), 40P01 deadlock_detected.
func (s *pgSink) Classify(err error) sinks.ErrorKind { return classify(err) }

func classify(err error) sinks.ErrorKind {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return sinks.OtherError
	}
	switch pgErr.Code {
	case "23505":
		return sinks.UniqueViolation
	case "55P03":
		return sinks.LockTimeout
	case "40P01":
		return sinks.Deadlock
	}
	return sinks.OtherError
}
