// Package archtest checks the layout docs/ARCHITECTURE.md draws: what each database
// owns stays in its driver package, a format's reader links no database, and no file
// grows past what one concern needs.
package archtest

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// root is the module's folder, two levels up from this package.
const root = "../.."

// goFiles lists the module's Go files (not tests unless withTests), as slash paths
// relative to the root.
func goFiles(t *testing.T, withTests bool) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") && path != root || d.Name() == "testdata" || d.Name() == "bin") {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(path, ".go") && (withTests || !strings.HasSuffix(path, "_test.go")) {
			rel, _ := filepath.Rel(root, path)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) < 50 {
		t.Fatalf("found %d Go files: the walk did not start at the module's root", len(out))
	}
	return out
}

func imports(t *testing.T, file string) []string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), filepath.Join(root, file), nil, parser.ImportsOnly)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, imp := range f.Imports {
		p, _ := strconv.Unquote(imp.Path.Value)
		out = append(out, p)
	}
	return out
}

// databaseLibraries are the client libraries of the databases; only their driver
// packages import them (and the tools that make test databases and DDL).
var databaseLibraries = map[string]string{
	"github.com/jackc/pgx":           "drivers/postgres/",
	"github.com/go-sql-driver/mysql": "drivers/mysql/",
	"modernc.org/sqlite":             "drivers/sqlite/",
}

// libraryExceptions may use the libraries directly: test databases and the DDL tool.
var libraryExceptions = []string{"internal/testenv/", "scripts/schemagen/"}

func TestDatabaseLibrariesStayInTheirDrivers(t *testing.T) {
	for _, file := range goFiles(t, false) {
		if hasPrefix(file, libraryExceptions) {
			continue
		}
		for _, imp := range imports(t, file) {
			for lib, home := range databaseLibraries {
				if strings.HasPrefix(imp, lib) && !strings.HasPrefix(file, home) {
					t.Errorf("%s imports %s, which only %s may", file, imp, home)
				}
			}
		}
	}
}

// TestDriversAreListedOnce: the driver packages are imported by drivers/all alone (tests
// aside), so a new database is one package and one line there.
func TestDriversAreListedOnce(t *testing.T) {
	driver := regexp.MustCompile(`^github\.com/mlflow-bulk/mlflow-bulk/drivers/(postgres|mysql|sqlite)$`)
	for _, file := range goFiles(t, false) {
		for _, imp := range imports(t, file) {
			if driver.MatchString(imp) && !strings.HasPrefix(file, "drivers/all/") {
				t.Errorf("%s imports %s; only drivers/all lists the drivers", file, imp)
			}
		}
	}
}

// TestNoDatabaseNamedBelowTheDrivers: outside the drivers (and the dialects' names in
// schema/dialect.go, which MLflow's schema dumps are filed under), no code picks a
// database by name.
func TestNoDatabaseNamedBelowTheDrivers(t *testing.T) {
	named := regexp.MustCompile(`\bschema\.(Postgres|MySQL|SQLite)\b|\bDialect\("`)
	for _, file := range goFiles(t, false) {
		if strings.HasPrefix(file, "drivers/") || file == "schema/dialect.go" || hasPrefix(file, libraryExceptions) || strings.HasPrefix(file, "internal/schemagen/") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(root, file))
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(data), "\n") {
			if named.MatchString(line) && !strings.HasPrefix(strings.TrimSpace(line), "//") {
				t.Errorf("%s:%d names a database: %s", file, i+1, strings.TrimSpace(line))
			}
		}
	}
}

// TestFormatReadersLinkNoDatabase: a file-store, export, CSV or dump reader imports
// nothing that links a database library.
func TestFormatReadersLinkNoDatabase(t *testing.T) {
	for _, file := range goFiles(t, false) {
		if !hasPrefix(file, []string{"sources/filestore/", "sources/exportimport/", "sources/csvfile/", "sources/dump/", "sources/pyvalue/"}) {
			continue
		}
		for _, imp := range imports(t, file) {
			if strings.Contains(imp, "mlflow-bulk/drivers/") || strings.Contains(imp, "mlflow-bulk/sources/database") {
				t.Errorf("%s imports %s", file, imp)
			}
		}
	}
}

// maxLines is "about 600 lines" with the slack of a long function's end.
const maxLines = 650

func TestNoFileIsTooLong(t *testing.T) {
	for _, file := range goFiles(t, true) {
		data, err := os.ReadFile(filepath.Join(root, file))
		if err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(string(data), "\n"); n > maxLines {
			t.Errorf("%s has %d lines; split it by concern (at most about 600)", file, n)
		}
	}
}

func hasPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}
