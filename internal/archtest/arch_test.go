// Package archtest checks the layout docs/ARCHITECTURE.md draws: what each database
// owns stays in its driver package, a format's reader links no database, and no file
// grows past what one concern needs.
package archtest

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/mlflow-bulk/mlflow-bulk/drivers/all"
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

// libraryExceptions may use the database libraries directly: test databases and the DDL
// tool.
var libraryExceptions = []string{"internal/testenv", "scripts/schemagen", "internal/schemagen"}

// driverLibraries are the libraries of other modules each driver package imports (its
// database's client), found by pattern: whatever a package under drivers/<name> brings
// in that no package outside the drivers imports too.
func driverLibraries(pkgs map[string]pkg) map[string]string {
	shared := map[string]bool{}
	for path, p := range pkgs {
		if !isDriver(path) && !hasPrefix(path, libraryExceptions) {
			for _, imp := range p.imports {
				shared[imp] = true
			}
		}
	}
	libs := map[string]string{}
	for path, p := range pkgs {
		if !isDriver(path) {
			continue
		}
		for _, imp := range p.imports {
			if thirdParty(imp) && !shared[imp] {
				libs[imp] = path
			}
		}
	}
	return libs
}

// TestDatabaseLibrariesStayInTheirDrivers: a database's client library is imported by its
// driver package alone (the test servers and the DDL tool aside), and nothing but the
// drivers and what lists them (drivers/all, the command) links one.
func TestDatabaseLibrariesStayInTheirDrivers(t *testing.T) {
	pkgs := listPackages(t)
	libs := driverLibraries(pkgs)
	if len(libs) < 3 {
		t.Fatalf("found the libraries %v of the drivers: fewer than the databases", libs)
	}
	for path, p := range pkgs {
		if isDriver(path) || hasPrefix(path, libraryExceptions) {
			continue
		}
		for _, imp := range p.imports {
			for lib, home := range libs {
				if strings.HasPrefix(imp, lib) {
					t.Errorf("%s imports %s, which only %s may", path, imp, home)
				}
			}
		}
		if path != "drivers/all" && linksDriver(p) && !linksAllDrivers(p) {
			t.Errorf("%s links a driver package without drivers/all", path)
		}
	}
}

func linksDriver(p pkg) bool {
	for _, d := range p.deps {
		if isDriver(rel(d)) {
			return true
		}
	}
	return false
}

func linksAllDrivers(p pkg) bool {
	for _, d := range p.deps {
		if rel(d) == "drivers/all" {
			return true
		}
	}
	return false
}

// TestDriversAreListedOnce: a driver package (any package drivers/<name>) is imported by
// drivers/all alone (tests aside), so a new database is one package and one line there.
func TestDriversAreListedOnce(t *testing.T) {
	pkgs := listPackages(t)
	drivers := 0
	for path, p := range pkgs {
		if isDriver(path) {
			drivers++
		}
		for _, imp := range p.imports {
			if isDriver(rel(imp)) && path != "drivers/all" {
				t.Errorf("%s imports %s; only drivers/all lists the drivers", path, rel(imp))
			}
		}
	}
	if drivers < 3 {
		t.Errorf("found %d driver packages", drivers)
	}
}

// databaseReaders are the source packages that read MLflow databases, and so link the
// database reader: every other package under sources/ links none.
var databaseReaders = map[string]string{
	"sources/database": "reads MLflow databases through the drivers",
	"sources/sqldump":  "loads a dump into a scratch database and reads that",
	"sources/formats":  "the table of every format",
}

// TestFormatReadersLinkNoDatabase: a reader under sources/ (a file store, an export, a
// CSV, a dump, and any format added later) links no driver, no database library and not
// the database reader.
func TestFormatReadersLinkNoDatabase(t *testing.T) {
	pkgs := listPackages(t)
	libs := driverLibraries(pkgs)
	guarded := 0
	for path, p := range pkgs {
		if !strings.HasPrefix(path, "sources/") || databaseReaders[path] != "" {
			continue
		}
		guarded++
		for _, d := range p.deps {
			_, isLib := libs[d]
			if r := rel(d); strings.HasPrefix(r, "drivers") || r == "sources/database" || isLib {
				t.Errorf("%s links %s", path, d)
			}
		}
	}
	if guarded < 6 {
		t.Errorf("guarded %d readers", guarded)
	}
}

// namingExceptions may name a database: where the names are defined and MLflow's facts
// filed per dialect (schema), the tests' servers and targets (testenv, importtest), and
// URI parsing, which still knows SQLite's path form and libpq's key=value form itself.
var namingExceptions = []string{"drivers/", "schema/", "internal/testenv/", "internal/importtest/", "scripts/schemagen/", "internal/schemagen/", "internal/dburi/"}

// TestNoDatabaseNamedBelowTheDrivers: outside the drivers (and the namingExceptions), no
// code picks a database by name: not through schema's dialect constants, not by
// converting a name to a dialect, not by a string that is a database's dialect or URI
// scheme.
func TestNoDatabaseNamedBelowTheDrivers(t *testing.T) {
	names := map[string]bool{}
	for _, db := range all.Registry().Databases() {
		names[strings.ToLower(string(db.Dialect))] = true
		for _, s := range db.Schemes {
			names[strings.ToLower(s)] = true
		}
	}
	for _, file := range goFiles(t, false) {
		if hasPrefix(file, namingExceptions) {
			continue
		}
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, filepath.Join(root, file), nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch x := n.(type) {
			case *ast.SelectorExpr:
				if id, ok := x.X.(*ast.Ident); ok && id.Name == "schema" && (x.Sel.Name == "Postgres" || x.Sel.Name == "MySQL" || x.Sel.Name == "SQLite") {
					t.Errorf("%s names a database: schema.%s", fset.Position(x.Pos()), x.Sel.Name)
				}
			case *ast.CallExpr:
				if sel, ok := x.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "Dialect" && len(x.Args) == 1 {
					if _, lit := x.Args[0].(*ast.BasicLit); lit {
						t.Errorf("%s names a database: a dialect made of a literal", fset.Position(x.Pos()))
					}
				}
			case *ast.BasicLit:
				if v, err := strconv.Unquote(x.Value); err == nil && x.Kind == token.STRING && names[strings.ToLower(v)] {
					t.Errorf("%s names a database: %s", fset.Position(x.Pos()), x.Value)
				}
			}
			return true
		})
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
