package importer

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/mlflow-bulk/mlflow-bulk/schema/live"
	"github.com/mlflow-bulk/mlflow-bulk/sinks"
)

// pendingTx is the import's transaction holding back the experiments it created: they
// are inserted together, many rows to a statement, just before whatever the
// transaction does next (a run's rows, a look-up, the commit), so every statement
// still finds them where it would have. A store of many experiments with few runs
// each otherwise waits for one round trip to the database per experiment.
type pendingTx struct {
	sinks.Tx
	rows []pendingRow
}

// pendingRow is one row to insert: its columns (rows of the same columns share a
// statement) and, for an error, what it is.
type pendingRow struct {
	table, what string
	columns     []string
	args        []any
}

// maxRowsPerInsert keeps a statement's placeholders within every database's limit.
const maxRowsPerInsert = 500

func newPendingTx(tx sinks.Tx) *pendingTx { return &pendingTx{Tx: tx} }

// insertLater holds back a row until the transaction's next statement.
func (t *pendingTx) insertLater(table, what string, columns []string, args []any) {
	t.rows = append(t.rows, pendingRow{table: table, what: what, columns: columns, args: args})
}

// flush inserts the rows held back, in the order they were held.
func (t *pendingTx) flush(ctx context.Context) error {
	for len(t.rows) > 0 {
		first := t.rows[0]
		n := 1
		for n < len(t.rows) && n < maxRowsPerInsert && t.rows[n].table == first.table && slices.Equal(t.rows[n].columns, first.columns) {
			n++
		}
		row := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(first.columns)), ", ") + ")"
		values := strings.TrimSuffix(strings.Repeat(row+", ", n), ", ")
		args := make([]any, 0, n*len(first.columns))
		for _, r := range t.rows[:n] {
			args = append(args, r.args...)
		}
		query := fmt.Sprintf("INSERT INTO %s (%s) VALUES %s", first.table, strings.Join(first.columns, ", "), values)
		if _, err := t.Tx.Exec(ctx, query, args...); err != nil {
			what := first.what
			if n > 1 {
				what = fmt.Sprintf("%s or one of the %d written with it", first.what, n-1)
			}
			t.rows = nil
			return fmt.Errorf("create %s: %w", what, err)
		}
		t.rows = t.rows[n:]
	}
	t.rows = nil // let the held arguments go
	return nil
}

func (t *pendingTx) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	if err := t.flush(ctx); err != nil {
		return 0, err
	}
	return t.Tx.Exec(ctx, query, args...)
}

func (t *pendingTx) Query(ctx context.Context, query string, args ...any) (live.Rows, error) {
	if err := t.flush(ctx); err != nil {
		return nil, err
	}
	return t.Tx.Query(ctx, query, args...)
}

func (t *pendingTx) CopyFrom(ctx context.Context, table string, columns []string, rows sinks.RowSource) (int64, error) {
	if err := t.flush(ctx); err != nil {
		return 0, err
	}
	return t.Tx.CopyFrom(ctx, table, columns, rows)
}

func (t *pendingTx) Commit(ctx context.Context) error {
	if err := t.flush(ctx); err != nil {
		return err
	}
	return t.Tx.Commit(ctx)
}

// Rollback drops the rows held back with the rest of the transaction.
func (t *pendingTx) Rollback(ctx context.Context) error {
	t.rows = nil
	return t.Tx.Rollback(ctx)
}
