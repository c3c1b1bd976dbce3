package archtest

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// module is the module path every package of the project starts with.
const module = "github.com/mlflow-bulk/mlflow-bulk"

// pkg is one package of the module as `go list` describes it (tests aside).
type pkg struct {
	path    string // relative to the module, "" for its root
	imports []string
	deps    []string
}

// listPackages runs `go list` over the module once: every package, what it imports and
// everything it links.
func listPackages(t *testing.T) map[string]pkg {
	t.Helper()
	cmd := exec.Command("go", "list", "-f", `{{.ImportPath}}|{{join .Imports " "}}|{{join .Deps " "}}`, "./...")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	pkgs := map[string]pkg{}
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		parts := strings.SplitN(sc.Text(), "|", 3)
		if len(parts) != 3 {
			t.Fatalf("go list printed %q", sc.Text())
		}
		p := pkg{path: rel(parts[0]), imports: strings.Fields(parts[1]), deps: strings.Fields(parts[2])}
		pkgs[p.path] = p
	}
	if len(pkgs) < 20 {
		t.Fatalf("go list found %d packages", len(pkgs))
	}
	return pkgs
}

// rel is an import path relative to the module ("drivers/mysql"), or the path as it is
// for packages of other modules.
func rel(importPath string) string {
	if importPath == module {
		return ""
	}
	return strings.TrimPrefix(importPath, module+"/")
}

// isDriver tells a driver package by where it is: drivers/<name>, but for drivers/all,
// which lists them.
func isDriver(path string) bool {
	name, ok := strings.CutPrefix(path, "drivers/")
	return ok && name != "all" && !strings.Contains(name, "/")
}

// thirdParty tells an import of another module from the standard library's and ours.
func thirdParty(importPath string) bool {
	first, _, _ := strings.Cut(importPath, "/")
	return strings.Contains(first, ".") && !strings.HasPrefix(importPath, module)
}

// TestLibrariesFoundByPattern: the drivers' libraries are found without a list, each
// database's client among them.
func TestLibrariesFoundByPattern(t *testing.T) {
	libs := driverLibraries(listPackages(t))
	for _, want := range []string{"github.com/jackc/pgx/v5", "github.com/go-sql-driver/mysql", "modernc.org/sqlite"} {
		if _, ok := libs[want]; !ok {
			t.Errorf("%s is not among the drivers' libraries %v", want, libs)
		}
	}
}

// TestVerifyUsesNoImporterInternals: verify checks an import by the rules the import
// writes by (importer/rules, tablerows), never through the pipeline itself.
func TestVerifyUsesNoImporterInternals(t *testing.T) {
	for path, p := range listPackages(t) {
		if path != "verify" && !strings.HasPrefix(path, "verify/") {
			continue
		}
		for _, d := range p.deps {
			if r := rel(d); r == "importer" || strings.HasPrefix(r, "importer/") && r != "importer/rules" {
				t.Errorf("%s links %s", path, r)
			}
		}
	}
}

// TestNoDriverRegistersItself: only the registry the command builds hands the databases'
// descriptors to schema (drivers.NewRegistry); no package registers one as it loads.
func TestNoDriverRegistersItself(t *testing.T) {
	for _, file := range goFiles(t, false) {
		if file == "drivers/driver.go" || file == "schema/database.go" {
			continue
		}
		data, err := os.ReadFile(filepath.Join(root, file))
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(data), "schema.Register(") {
			t.Errorf("%s registers a database with schema; the registry (drivers.NewRegistry) does", file)
		}
	}
}
