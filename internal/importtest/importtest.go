// Package importtest is what tests of the import and of verify share: importing sources
// into a target, verifying it, setting a target or a store up, and the three test
// databases. It is for tests only; nothing else imports it.
package importtest

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mlflow-bulk/mlflow-bulk/drivers/all"
	"github.com/mlflow-bulk/mlflow-bulk/importer"
	"github.com/mlflow-bulk/mlflow-bulk/internal/testenv"
	"github.com/mlflow-bulk/mlflow-bulk/schema/live"
	"github.com/mlflow-bulk/mlflow-bulk/sinks"
	"github.com/mlflow-bulk/mlflow-bulk/sources"
	"github.com/mlflow-bulk/mlflow-bulk/sources/database"
	"github.com/mlflow-bulk/mlflow-bulk/sources/formats"
	"github.com/mlflow-bulk/mlflow-bulk/verify"
)

// Target is a database a test imports into, made new for each test.
type Target struct {
	Name string
	URI  func(testing.TB) string
	// Folds: its usual collation compares keys without case (MariaDB's).
	Folds bool
}

// Targets are the databases mlflow-bulk writes, each on its test server.
var Targets = []Target{{"sqlite", testenv.SQLite, false}, {"postgres", testenv.Postgres, false}, {"mariadb", testenv.MySQL, true}}

// Import imports the sources at paths into uri, reading metric histories in small
// chunks so that chunking is exercised.
func Import(t *testing.T, uri string, opts importer.Options, paths ...string) (*importer.Report, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	sink, err := all.Registry().Open(ctx, uri, sinks.Options{})
	if err != nil {
		t.Fatalf("open target: %v", err)
	}
	defer sink.Close()
	srcs := open(t, ctx, sources.Options{MetricChunk: 7}, paths)
	defer closeAll(srcs)
	return importer.Import(ctx, sink, srcs, opts)
}

// Verify verifies uri against the sources at paths, told what the import's options
// accepted.
func Verify(t *testing.T, uri string, opts verify.Options, paths ...string) *verify.Report {
	t.Helper()
	ctx := context.Background()
	sink, err := all.Registry().Open(ctx, uri, sinks.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	srcs := open(t, ctx, sources.Options{}, paths)
	defer closeAll(srcs)
	report, err := verify.Verify(ctx, sink, srcs, opts)
	if err != nil {
		t.Fatal(err)
	}
	return report
}

func open(t *testing.T, ctx context.Context, o sources.Options, paths []string) []sources.Source {
	t.Helper()
	var srcs []sources.Source
	for _, p := range paths {
		src, err := formats.Open(ctx, p, formats.Options{Options: o, Database: database.Options{Drivers: all.Registry()}})
		if err != nil {
			closeAll(srcs)
			t.Fatalf("open source: %v", err)
		}
		srcs = append(srcs, src)
	}
	return srcs
}

func closeAll(srcs []sources.Source) {
	for _, s := range srcs {
		_ = s.Close() // read only: closing loses nothing
	}
}

// SetUp runs statements on uri in one transaction.
func SetUp(t *testing.T, uri string, stmts ...string) {
	t.Helper()
	ctx := context.Background()
	sink, err := all.Registry().Open(ctx, uri, sinks.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	tx, err := sink.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range stmts {
		if _, err := tx.Exec(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
}

// WriteFile writes one more file into a store.
func WriteFile(t *testing.T, root, rel, content string) {
	t.Helper()
	full := filepath.Join(root, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// StoreRun is the one run of StoreWith's stores.
const StoreRun = "0123456789abcdef0123456789abcdef"

// StoreWith is a file store of one experiment ("traps") and one run, with files of the
// run (params/…, tags/…, metrics/…) added.
func StoreWith(t *testing.T, files map[string]string) string {
	t.Helper()
	root := filepath.Join(t.TempDir(), "mlruns")
	store := map[string]string{
		"1/meta.yaml":                  "artifact_location: /a/1\nexperiment_id: '1'\nlifecycle_stage: active\nname: traps\n",
		"1/" + StoreRun + "/meta.yaml": "artifact_uri: /a\nexperiment_id: '1'\nlifecycle_stage: active\nrun_id: " + StoreRun + "\nrun_name: r\nstart_time: 1\nstatus: 3\nuser_id: u\n",
	}
	for p, c := range files {
		store["1/"+StoreRun+"/"+p] = c
	}
	for p, c := range store {
		WriteFile(t, root, p, c)
	}
	return root
}

// HostileStore is a file store whose values are the ones dump formats escape: tabs,
// newlines, backslashes, both quotes, emoji, and NaN and ±inf metrics.
func HostileStore(t *testing.T) string {
	t.Helper()
	return StoreWith(t, map[string]string{
		"params/tabbed":   "a\tb\nc\\d'e\"f 😀",
		"params/sql":      "'); DROP TABLE runs; --",
		"params/percent":  `50% \_ \% \N \. \\N`,
		"tags/multi":      "line 1\r\nline 2\n\\.\n",
		"metrics/loss":    "1 0.5 0\n2 nan 1\n3 inf 2\n4 -inf 3\n5 1e-300 4\n",
		"metrics/a b/c d": "7 -0.0 0\n",
	})
}

// EachRow runs a query on the database at uri in a read-only transaction, closed
// before it returns (a SQLite reader left open would hold off the test's next import),
// and hands fn each row.
func EachRow(t *testing.T, uri, query string, fn func(scan func(...any) error) error) {
	t.Helper()
	ctx := context.Background()
	sink, err := all.Registry().Open(ctx, uri, sinks.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	tx, err := sink.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if err := live.EachRow(ctx, tx, query, nil, fn); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}
