package testenv

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/mlflow-bulk/mlflow-bulk/schema"
)

// MLflowDump returns the statements that build a database from MLflow's own schema dump
// of a revision (../shared/mlflow-reference/schemas/<rev>/<dialect>.sql, or
// schemas-after-3.14/ for the revisions after MLflow 3.14), made
// executable: split at blank lines, in foreign-key order, the sequence PostgreSQL's dump
// refers to created, the reserved words MySQL's dump leaves bare quoted.
func MLflowDump(t testing.TB, revision, dialect string) []string {
	t.Helper()
	path := filepath.Join(filepath.Dir(Samples(t)), "mlflow-reference", "schemas", revision, dialect+".sql")
	if _, err := os.Stat(path); err != nil {
		path = filepath.Join(filepath.Dir(Samples(t)), "mlflow-reference", "schemas-after-3.14", revision, dialect+".sql")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("MLflow's dump: %v", err)
	}
	dump := string(data)
	var out []string
	switch dialect {
	case "postgresql":
		out = append(out, "CREATE SEQUENCE experiments_experiment_id_seq AS integer")
		// MLflow creates its CHECKs as x IN (…); the dumps print them as PostgreSQL
		// reads them back, which, created from that text, PostgreSQL stores otherwise.
		dump = schema.CheckAsIn(strings.ReplaceAll(dump, "DOUBLE_PRECISION", "DOUBLE PRECISION"))
	case "mysql":
		// The dumps print reflected types, which lose the display width of the
		// tinyint(1) that MLflow's booleans are created as.
		dump = regexp.MustCompile(`\bTINYINT\b`).ReplaceAllString(dump, "TINYINT(1)")
		dump = regexp.MustCompile(`(?m)^\t(key|schema) `).ReplaceAllString(dump, "\t`$1` ")
		dump = regexp.MustCompile(`([(,] ?)key([,)])`).ReplaceAllString(dump, "$1`key`$2")
	}
	var stmts []string
	for _, s := range regexp.MustCompile(`\n\s*\n`).Split(dump, -1) {
		if s = strings.TrimSpace(s); s != "" {
			stmts = append(stmts, s)
		}
	}
	name := regexp.MustCompile(`CREATE TABLE (\w+)`)
	ref := regexp.MustCompile(`REFERENCES (\w+)`)
	done := map[string]bool{}
	for len(out) < len(stmts)+boolToInt(dialect == "postgresql") {
		progress := false
		for _, s := range stmts {
			n := name.FindStringSubmatch(s)[1]
			if done[n] {
				continue
			}
			ready := true
			for _, m := range ref.FindAllStringSubmatch(s, -1) {
				if m[1] != n && !done[m[1]] {
					ready = false
				}
			}
			if ready {
				done[n], progress = true, true
				out = append(out, s)
			}
		}
		if !progress {
			t.Fatalf("%s: circular foreign keys", path)
		}
	}
	return out
}

func boolToInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
