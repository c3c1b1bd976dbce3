// Package testenv gives tests what they need from outside the repository: the real
// MLflow samples beside it and throw-away databases on the servers scripts/test-servers
// starts. Under CI (CI=true) anything missing fails the test; elsewhere it skips with
// the reason.
package testenv

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
)

// PostgresEnv names the variable holding a PostgreSQL URI with rights to create databases.
const PostgresEnv = "MLFLOW_BULK_TEST_POSTGRES"

func unavailable(t testing.TB, why string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s (CI must have it: run the tests with 'make test')", why)
	}
	t.Skipf("%s (CI=true makes this a failure)", why)
}

// ModuleRoot is the repository's root folder.
func ModuleRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test's folder")
		}
		dir = parent
	}
}

// Samples is the folder of real MLflow data beside the repository, read in place.
func Samples(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(filepath.Dir(ModuleRoot(t)), "shared", "real-mlflow-samples")
	if _, err := os.Stat(dir); err != nil {
		unavailable(t, "real MLflow samples not found at ../shared/real-mlflow-samples: put the shared samples folder beside this checkout (the tests read it in place)")
	}
	return dir
}

// Sample is one sample folder, failing when it is missing.
func Sample(t testing.TB, rel string) string {
	t.Helper()
	p := filepath.Join(Samples(t), rel)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("sample %s missing: %v", rel, err)
	}
	return p
}

// Postgres creates an empty database for the test on the test server and returns its
// URI; the database is dropped when the test ends.
func Postgres(t testing.TB) string {
	t.Helper()
	admin := os.Getenv(PostgresEnv)
	if admin == "" {
		unavailable(t, PostgresEnv+" is not set, so there is no PostgreSQL server to test against; 'make test' (scripts/test-servers run) starts one")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatalf("connect to the test PostgreSQL server: %v", err)
	}
	defer conn.Close(ctx)
	name := "mb_" + randomHex(6)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, admin)
		if err != nil {
			t.Errorf("drop test database: %v", err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop test database: %v", err)
		}
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

// SQLite returns the URI of a new database file in the test's temporary folder.
func SQLite(t testing.TB) string {
	t.Helper()
	return "sqlite:///" + filepath.ToSlash(filepath.Join(t.TempDir(), "mlflow.db"))
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// MySQLEnv names the variable holding a MySQL/MariaDB URI with rights to create databases.
const MySQLEnv = "MLFLOW_BULK_TEST_MYSQL"

// MySQL creates an empty utf8mb4 database for the test on the test MariaDB server and
// returns its URI; the database is dropped when the test ends.
func MySQL(t testing.TB) string {
	t.Helper()
	admin := os.Getenv(MySQLEnv)
	if admin == "" {
		unavailable(t, MySQLEnv+" is not set, so there is no MariaDB server to test against; 'make test' (scripts/test-servers run) starts one")
	}
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatal(err)
	}
	pw, _ := u.User.Password()
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd, cfg.Net, cfg.Addr = u.User.Username(), pw, "tcp", u.Host
	db, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	name := "mb_" + randomHex(6)
	if _, err := db.Exec("CREATE DATABASE " + name + " CHARACTER SET utf8mb4"); err != nil {
		t.Fatalf("create test database on MariaDB: %v", err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("mysql", cfg.FormatDSN())
		if err != nil {
			t.Errorf("drop test database: %v", err)
			return
		}
		defer db.Close()
		if _, err := db.Exec("DROP DATABASE IF EXISTS " + name); err != nil {
			t.Errorf("drop test database: %v", err)
		}
	})
	u.Path = "/" + name
	return u.String()
}

// Tool returns the path of a program a test runs (pg_dump, mariadb-dump, sqlite3),
// which scripts/test-servers installs with the servers; the test fails when it is
// missing, as one that needs a server does.
func Tool(t testing.TB, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		unavailable(t, name+" is not installed; 'make test' (scripts/test-servers run) installs it with the test servers")
	}
	return path
}
