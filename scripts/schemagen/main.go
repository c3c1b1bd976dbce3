// Command schemagen writes schema/ddl/<revision>/*.sql from MLflow's schema dumps and an
// SQLite database MLflow created at that revision (for its indexes):
//
//	go run ./scripts/schemagen --revision b7e4c1a90f23 --dumps DIR [--indexes-from mlflow.db]
//
// DIR holds postgresql.sql, mysql.sql and sqlite.sql from tests/db/schemas/ of MLflow's
// repository at the release. Dumps older than mid-2026 list no indexes: then
// --indexes-from names an SQLite database MLflow created at the revision. docs/schema-data.md has the whole procedure.
package main

import (
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"
	"path/filepath"

	"github.com/mlflow-bulk/mlflow-bulk/internal/schemagen"
	_ "modernc.org/sqlite"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "schemagen:", err)
		os.Exit(1)
	}
}

func run() error {
	revision := flag.String("revision", "", "alembic revision the dumps are of (required)")
	dumps := flag.String("dumps", "", "folder with MLflow's postgresql.sql, mysql.sql and sqlite.sql (required)")
	indexesFrom := flag.String("indexes-from", "", "an SQLite mlflow.db MLflow created at the revision, for its indexes (needed where the dumps list none)")
	out := flag.String("out", filepath.Join("schema", "ddl"), "folder the revision's folder is written into")
	flag.Parse()
	if *revision == "" || *dumps == "" {
		flag.Usage()
		return errors.New("--revision and --dumps are required")
	}
	in := schemagen.Input{Revision: *revision, Dumps: map[string]string{}}
	for _, d := range schemagen.Dialects {
		b, err := os.ReadFile(filepath.Join(*dumps, d+".sql"))
		if err != nil {
			return err
		}
		in.Dumps[d] = string(b)
	}
	if *indexesFrom != "" {
		var err error
		if in.Indexes, err = readIndexes(*indexesFrom); err != nil {
			return err
		}
	}
	files, err := schemagen.Generate(in)
	if err != nil {
		return err
	}
	dir := filepath.Join(*out, *revision)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for d, text := range files {
		if err := os.WriteFile(filepath.Join(dir, d+".sql"), []byte(text), 0o644); err != nil {
			return err
		}
	}
	fmt.Printf("wrote %s/{postgresql,mysql,sqlite}.sql; now add the revision to schema/revisions.go and run make test\n", dir)
	return nil
}

// readIndexes reads the named indexes of an SQLite database, opened read-only.
func readIndexes(path string) ([]string, error) {
	db, err := sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath()+"?mode=ro")
	if err != nil {
		return nil, err
	}
	defer db.Close()
	rows, err := db.Query("SELECT sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY rowid")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var stmt string
		if err := rows.Scan(&stmt); err != nil {
			return nil, err
		}
		out = append(out, stmt)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s holds no indexes: is it a database MLflow created?", path)
	}
	return out, nil
}
