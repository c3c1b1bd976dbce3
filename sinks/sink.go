// Package sinks writes rows into MLflow databases. Sinks are dumb: they open a
// connection, run statements, bulk-load rows and commit. What to write, in which order
// and with which ids is the importer's business.
//
// How to implement a sink:
//  1. Open takes everything from the URI and Options; never read the environment.
//  2. Begin starts the one transaction the importer writes through; a sink serialises
//     writers the way its database needs (SQLite takes the write lock at Begin).
//  3. Exec and Query take '?' placeholders; translate them for the dialect.
//  4. CopyFrom loads rows with the fastest path the database has (COPY, LOAD DATA,
//     multi-row INSERT) inside the transaction. An error from the row source, or a
//     cancelled context, aborts it: nothing of it may become visible.
//  5. Never print or return the password of the URI.
//  6. Pass the conformance suite in sinktest.
package sinks

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mlflow-bulk/mlflow-bulk/remedy"
	"github.com/mlflow-bulk/mlflow-bulk/schema"
	"github.com/mlflow-bulk/mlflow-bulk/schema/live"
)

// Sink is an open connection to a target database.
type Sink interface {
	Dialect() schema.Dialect
	// Classify says what kind of failure err, returned by this sink, is.
	Classify(err error) ErrorKind
	// Begin starts a transaction. Only one is open at a time.
	Begin(ctx context.Context) (Tx, error)
	// Describe names the target for messages, with any password redacted.
	Describe() string
	Close() error
}

// Tx is a transaction on the target. Queries use '?' placeholders.
type Tx interface {
	live.DB
	// CopyFrom appends rows to table. The rows must not conflict with existing ones.
	// It returns the number of rows the database stored, as it counts them (a trigger
	// that drops a row makes it fewer than were given).
	CopyFrom(ctx context.Context, table string, columns []string, rows RowSource) (int64, error)
	Commit(ctx context.Context) error
	// Rollback aborts the transaction; after Commit it does nothing.
	Rollback(ctx context.Context) error
	// Waited reports whether another writer (an MLflow server, say) has written to the
	// target since this sink's previous transaction, where the database can tell:
	// what was read before may be out of date.
	Waited() bool
}

// RowSource streams rows for CopyFrom; it has the shape of pgx's CopyFromSource so the
// PostgreSQL sink hands it to COPY as it is.
type RowSource interface {
	Next() bool
	// Values returns the current row. The slice may be reused after the next Next.
	Values() ([]any, error)
	Err() error
}

// Noticer is implemented by sinks with something to tell about how they write (a slower
// path chosen, a server setting). The importer puts it in the report once.
type Noticer interface {
	Notices() []string
}

// ErrorKind is what the importer must tell apart among a database's failures.
type ErrorKind int

const (
	// OtherError is any failure the importer does not act on.
	OtherError ErrorKind = iota
	// UniqueViolation is a row refused by a primary key or unique constraint.
	UniqueViolation
	// LockTimeout is a lock not granted within the session's lock timeout.
	LockTimeout
	// Deadlock is a transaction the database chose to abort to break a deadlock.
	Deadlock
	// DiskFull is a write refused because the disk the database writes to is full.
	DiskFull
)

// Scratcher is implemented by sinks of databases that cannot roll back DDL: a dry run
// into an empty database of theirs creates MLflow's schema in a scratch database on the
// same server instead. Scratch creates it (dropping those that killed dry runs left),
// opens it with opts, and returns its name and how to drop it.
type Scratcher interface {
	Scratch(ctx context.Context, opts Options) (scratch Sink, name string, drop func() error, err error)
}

// Options configure sinks.
type Options struct {
	// Password overrides the URI's password (from a password file or prompt).
	Password string
	// LockTimeout bounds the wait for another import's lock (default 10 minutes). A
	// sink that writes holds the target's import lock from Open to Close, so concurrent
	// mlflow-bulk imports into one database run one after the other, each whole.
	LockTimeout time.Duration
	// ReadOnly opens the target for reading only (verify): no lock, no writes.
	ReadOnly bool
	// LockPerTransaction takes the import lock for each transaction instead of the
	// whole session, so imports of disjoint runs (shards) interleave: each transaction
	// still sees and creates experiments alone.
	LockPerTransaction bool
	// OnLockWait, when set, is called once when another import holds the lock and Open
	// starts to wait for it, with what the database says of the holder ("" when it
	// cannot tell).
	OnLockWait func(holder string)
	// Unchecked opens a scratch database that a reader fills table by table in the
	// order a dump holds them: foreign keys are not checked as rows arrive.
	Unchecked bool
}

// NotifyLockWait tells the caller that Open waits for the lock.
func (o Options) NotifyLockWait(holder string) {
	if o.OnLockWait != nil {
		o.OnLockWait(holder)
	}
}

// LockWaitLimit is LockTimeout, or its default where it is not set.
func (o Options) LockWaitLimit() time.Duration {
	if o.LockTimeout <= 0 {
		return 10 * time.Minute
	}
	return o.LockTimeout
}

// ErrLocked means another import held the target's lock for longer than LockTimeout.
var ErrLocked = errors.New("another mlflow-bulk import is writing to the target")

// OptionLockTimeout is Options.LockTimeout, as the lock's error names it as a remedy.
const OptionLockTimeout remedy.Option = "sinks.Options.LockTimeout"

// Locked is ErrLocked after a wait of d, naming the option that waits longer.
func Locked(d time.Duration) error {
	waited := "did not wait: the lock timeout is 0"
	if d > time.Millisecond {
		waited = fmt.Sprintf("waited %s", d)
	}
	return remedy.With(fmt.Errorf("%w (%s)", ErrLocked, waited), remedy.Remedy{Option: OptionLockTimeout, Value: "DURATION", Does: "to wait longer"})
}

// ImportLockKey is the PostgreSQL advisory lock key of mlflow-bulk imports ("mlflow"
// in ASCII), and the base of MySQL's named lock.
const ImportLockKey = 0x6d6c666c6f77
