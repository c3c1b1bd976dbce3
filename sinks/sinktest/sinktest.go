// Package sinktest is the conformance suite every sink passes.
package sinktest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/mlflow-bulk/mlflow-bulk/schema/live"
	"github.com/mlflow-bulk/mlflow-bulk/sinks"
)

type rows struct {
	data [][]any
	pos  int
	fail error // returned after failAt rows
	at   int
	// cancel, when set, is called once cancelAt rows have been handed over.
	cancel   func()
	cancelAt int
}

func (r *rows) Next() bool {
	if r.fail != nil && r.pos == r.at {
		return false
	}
	if r.cancel != nil && r.pos == r.cancelAt {
		r.cancel()
	}
	r.pos++
	return r.pos <= len(r.data)
}
func (r *rows) Values() ([]any, error) { return r.data[r.pos-1], nil }
func (r *rows) Err() error {
	if r.fail != nil && r.pos == r.at {
		return r.fail
	}
	return nil
}

func manyRows(n int) [][]any {
	out := make([][]any, n)
	for i := range out {
		out[i] = []any{int64(i), "k?'x", float64(i) / 3, i%2 == 0, nil}
	}
	return out
}

// createTable is the table the suite writes.
const createTable = "CREATE TABLE t (id BIGINT NOT NULL PRIMARY KEY, s VARCHAR(10), v DOUBLE PRECISION, b BOOLEAN, n BIGINT)"

// suite is the sink under test and what its checks share.
type suite struct {
	ctx  context.Context
	s    sinks.Sink
	open func(t *testing.T) sinks.Sink
}

// columns are the columns of the suite's table.
var columns = []string{"id", "s", "v", "b", "n"}

func (x *suite) exec(t *testing.T, tx sinks.Tx, q string, args ...any) {
	t.Helper()
	if _, err := tx.Exec(x.ctx, q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// count is how many rows of the table hold the text every row has.
func (x *suite) count(t *testing.T) int {
	t.Helper()
	tx, err := x.s.Begin(x.ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(x.ctx) }()
	r, err := tx.Query(x.ctx, "SELECT COUNT(*) FROM t WHERE s = ?", "k?'x")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var n int64
	if !r.Next() {
		t.Fatal("no row")
	}
	if err := r.Scan(&n); err != nil {
		t.Fatal(err)
	}
	return int(n)
}

// Run checks a sink against an empty database opened by open.
func Run(t *testing.T, open func(t *testing.T) sinks.Sink) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s := open(t)
	defer s.Close()
	if s.Describe() == "" {
		t.Error("Describe is empty")
	}
	x := &suite{ctx: ctx, s: s, open: open}
	tx, err := s.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	x.exec(t, tx, createTable)
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	t.Run("copy and commit", x.copyAndCommit)
	t.Run("rollback leaves nothing", x.rollbackLeavesNothing)
	t.Run("failing row source aborts and the connection stays usable", x.failingSource)
	t.Run("a cancelled context aborts the copy", x.cancelledCopy)
	t.Run("close with an open transaction", x.closeWhileOpen)
	t.Run("savepoints", x.savepoints)
}

// copyAndCommit checks that a copy commits its rows and reads back as written.
func (x *suite) copyAndCommit(t *testing.T) {
	tx, _ := x.s.Begin(x.ctx)
	defer func() { _ = tx.Rollback(x.ctx) }()
	n, err := tx.CopyFrom(x.ctx, "t", columns, &rows{data: manyRows(1234)})
	if err != nil || n != 1234 {
		t.Fatalf("CopyFrom = %d, %v", n, err)
	}
	if err := tx.Commit(x.ctx); err != nil {
		t.Fatal(err)
	}
	if got := x.count(t); got != 1234 {
		t.Fatalf("%d rows visible, want 1234", got)
	}
	tx, _ = x.s.Begin(x.ctx)
	defer func() { _ = tx.Rollback(x.ctx) }()
	r, err := tx.Query(x.ctx, "SELECT v, b, n FROM t WHERE id = ?", int64(3))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var v float64
	var b bool
	var nn *int64
	if !r.Next() || r.Scan(&v, &b, &nn) != nil || v != 1.0 || b || nn != nil {
		t.Fatalf("row 3 read back as %v %v %v", v, b, nn)
	}
}

// rollbackLeavesNothing checks that a rollback leaves nothing of a copy.
func (x *suite) rollbackLeavesNothing(t *testing.T) {
	before := x.count(t)
	tx, _ := x.s.Begin(x.ctx)
	defer func() { _ = tx.Rollback(x.ctx) }()
	data := manyRows(2000)[1500:]
	if _, err := tx.CopyFrom(x.ctx, "t", columns, &rows{data: data}); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(x.ctx); err != nil {
		t.Fatal(err)
	}
	if got := x.count(t); got != before {
		t.Fatalf("%d rows after rollback, want %d", got, before)
	}
}

// failingSource checks that a failing row source aborts the copy and the connection stays usable.
func (x *suite) failingSource(t *testing.T) {
	before := x.count(t)
	tx, _ := x.s.Begin(x.ctx)
	defer func() { _ = tx.Rollback(x.ctx) }()
	boom := errors.New("source failed")
	_, err := tx.CopyFrom(x.ctx, "t", columns, &rows{data: manyRows(3000)[2000:], fail: boom, at: 700})
	if !errors.Is(err, boom) {
		t.Fatalf("CopyFrom error %v, want the source's", err)
	}
	if err := tx.Rollback(x.ctx); err != nil {
		t.Fatalf("rollback after a failed copy: %v", err)
	}
	if got := x.count(t); got != before {
		t.Fatalf("%d rows after a failed copy, want %d", got, before)
	}
}

// cancelledCopy checks that a cancelled context aborts the copy and never commits half of it.
func (x *suite) cancelledCopy(t *testing.T) {
	// On a sink of its own: a cancel may take the connection down with it (pgx
	// closes it), which ends that import but must never commit half a copy.
	s3 := x.open(t)
	setup, err := s3.Begin(x.ctx)
	if err != nil {
		t.Fatal(err)
	}
	x.exec(t, setup, createTable)
	if err := setup.Commit(x.ctx); err != nil {
		t.Fatal(err)
	}
	copyCtx, cancelCopy := context.WithCancel(x.ctx)
	defer cancelCopy()
	tx, err := s3.Begin(copyCtx)
	if err != nil {
		t.Fatal(err)
	}
	_, err = tx.CopyFrom(copyCtx, "t", columns, &rows{data: manyRows(3000)[2000:], cancel: cancelCopy, cancelAt: 400})
	if err == nil {
		err = tx.Commit(copyCtx)
	}
	if err == nil {
		t.Fatal("a copy whose context was cancelled half-way committed")
	}
	_ = tx.Rollback(x.ctx) // the connection may be gone: nothing to undo then
	if check, err := s3.Begin(x.ctx); err == nil {
		var n int64
		if err := live.EachRow(x.ctx, check, "SELECT COUNT(*) FROM t", nil, func(scan func(...any) error) error { return scan(&n) }); err == nil && n != 0 {
			t.Errorf("%d rows visible after a cancelled copy", n)
		}
		_ = check.Rollback(x.ctx)
	}
	done := make(chan struct{})
	go func() { _ = s3.Close(); close(done) }() // its error is the connection the cancel closed
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Close hangs after a cancelled copy")
	}
}

// closeWhileOpen checks that Close returns while a transaction is open.
func (x *suite) closeWhileOpen(t *testing.T) {
	s2 := x.open(t)
	tx, err := s2.Begin(x.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(x.ctx, "SELECT 1"); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s2.Close() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Close with an open transaction: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close hangs while a transaction is open")
	}
}

// savepoints checks that a rollback to a savepoint undoes what followed it.
func (x *suite) savepoints(t *testing.T) {
	before := x.count(t)
	tx, _ := x.s.Begin(x.ctx)
	defer func() { _ = tx.Rollback(x.ctx) }()
	x.exec(t, tx, "INSERT INTO t (id, s) VALUES (?, ?)", int64(90001), "k?'x")
	x.exec(t, tx, "SAVEPOINT p")
	x.exec(t, tx, "INSERT INTO t (id, s) VALUES (?, ?)", int64(90002), "k?'x")
	x.exec(t, tx, "ROLLBACK TO SAVEPOINT p")
	x.exec(t, tx, "RELEASE SAVEPOINT p")
	if err := tx.Commit(x.ctx); err != nil {
		t.Fatal(err)
	}
	if got := x.count(t); got != before+1 {
		t.Fatalf("%d rows, want %d", got, before+1)
	}
}

// RunLock checks the import lock on one database: a writing sink holds it from Open
// to Close; another writer's Open waits and gives up after its LockTimeout with
// ErrLocked, or gets the lock once the first closes; a read-only sink never waits.
// open opens the database under test with the options given.
func RunLock(t *testing.T, open func(opts sinks.Options) (sinks.Sink, error)) {
	ctx := context.Background()
	a, err := open(sinks.Options{LockTimeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if b, err := open(sinks.Options{LockTimeout: 300 * time.Millisecond}); !errors.Is(err, sinks.ErrLocked) {
		if b != nil {
			b.Close()
		}
		t.Fatalf("second writer: %v, want ErrLocked", err)
	}
	if waited := time.Since(start); waited < 250*time.Millisecond || waited > 20*time.Second {
		t.Errorf("second writer gave up after %s, its timeout is 300ms", waited)
	}
	tx, err := a.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "CREATE TABLE lock_probe (x INTEGER)"); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	reader, err := open(sinks.Options{ReadOnly: true, LockTimeout: time.Millisecond})
	if err != nil {
		t.Fatalf("a read-only open waits for the import lock: %v", err)
	}
	reader.Close()
	got := make(chan sinks.Sink, 1)
	go func() {
		b, err := open(sinks.Options{LockTimeout: time.Minute})
		if err != nil {
			t.Error(err)
		}
		got <- b
	}()
	time.Sleep(300 * time.Millisecond)
	select {
	case <-got:
		t.Fatal("a second writer got the lock while the first held it")
	default:
	}
	a.Close()
	select {
	case b := <-got:
		if b != nil {
			b.Close()
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the second writer did not get the lock after the first closed")
	}
}
