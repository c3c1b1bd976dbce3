package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlflow-bulk/mlflow-bulk/sinks"
)

// TestDiskFullSaysWhere: SQLite's "database or disk is full" names the target's disk and
// the folder the sorter writes to, and what to do. A page limit stands in for a full disk.
func TestDiskFullSaysWhere(t *testing.T) {
	path := filepath.Join(t.TempDir(), "full.db")
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=max_page_count(8)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, "CREATE TABLE t (v TEXT)"); err != nil {
		t.Fatal(err)
	}
	_, err = db.ExecContext(ctx, "INSERT INTO t SELECT hex(randomblob(4000)) FROM (WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < 100) SELECT i FROM n)")
	if err == nil {
		t.Fatal("the insert fit in 8 pages")
	}
	if classify(err) != sinks.DiskFull || classify(diskFull(err, path)) != sinks.DiskFull {
		t.Errorf("a full database is classified %v", classify(err))
	}
	msg := diskFull(err, path).Error()
	if !strings.Contains(msg, "TMPDIR") || !strings.Contains(msg, path) || !strings.Contains(msg, "same command") {
		t.Errorf("a full database: %s", msg)
	}
	if other := diskFull(context.Canceled, path); other.Error() != context.Canceled.Error() {
		t.Errorf("another error changed: %v", other)
	}
}
