package sqlite

import (
	"errors"
	"fmt"
	"os"

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
	if liteErr.Code()&0xff == sqlite3.SQLITE_FULL {
		return sinks.DiskFull
	}
	return sinks.OtherError
}

// busy tells SQLite's "database is locked" (SQLITE_BUSY and its extended codes): the
// other writer held the lock for all of busy_timeout.
func busy(err error) bool {
	var liteErr *sqlite.Error
	return errors.As(err, &liteErr) && liteErr.Code()&0xff == sqlite3.SQLITE_BUSY
}

// diskFull says where the space ran out: SQLite's "database or disk is full" may mean
// the target's disk or the temporary folder its sorter writes to (building an index
// after a bulk load sorts there), and the two are often different disks.
func diskFull(err error, path string) error {
	var liteErr *sqlite.Error
	if !errors.As(err, &liteErr) || liteErr.Code()&0xff != sqlite3.SQLITE_FULL {
		return err
	}
	return fmt.Errorf("%w: the disk of %s, or of the folder SQLite sorts in (%s, TMPDIR), is full; free space there, or point TMPDIR at a disk with room, "+
		"and run the same command again: what was committed stays", err, path, os.TempDir())
}
