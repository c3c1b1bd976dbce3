// Package sqldump reads a plain-text SQL dump of an MLflow database (mysqldump or
// mariadb-dump output, pg_dump's plain format, the sqlite3 shell's .dump), also gzipped,
// without a server: the dump is streamed into a scratch database in the temporary
// folder, one statement at a time, and then read as any MLflow database is (every table,
// the same feature detection, the same checks). The scratch database is removed at
// Close; the dump is only read.
package sqldump

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/mlflow-bulk/mlflow-bulk/internal/procs"
	"github.com/mlflow-bulk/mlflow-bulk/sources"
	"github.com/mlflow-bulk/mlflow-bulk/sources/database"
)

// Detect reports whether location is an SQL dump file: a file named *.sql or *.sql.gz
// (the content decides the rest), or a pg_dump archive whatever its name (custom or tar
// format, which Open names as such).
func Detect(location string) bool {
	info, err := os.Stat(location)
	if err != nil || !info.Mode().IsRegular() {
		return false
	}
	lower := strings.ToLower(location)
	if strings.HasSuffix(lower, ".sql") || strings.HasSuffix(lower, ".sql.gz") {
		return true
	}
	f, err := os.Open(location)
	if err != nil {
		return false
	}
	defer f.Close()
	head := make([]byte, 512)
	n, _ := io.ReadFull(f, head)
	return pgArchive(head[:n])
}

// pgArchive reports whether a file's first bytes are a pg_dump archive's: custom format
// (-Fc) or tar (-Ft) holding pg_dump's table of contents.
func pgArchive(head []byte) bool {
	return bytes.HasPrefix(head, pgCustomMagic) || len(head) > 262 && string(head[257:262]) == "ustar" && bytes.HasPrefix(head, []byte("toc.dat"))
}

// pgCustomMagic starts pg_dump's custom-format archives (-Fc).
var pgCustomMagic = []byte("PGDMP")

// openText opens the dump's text, decompressing it where it is gzipped.
func openText(path string) (io.Reader, func() error, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	br := bufio.NewReaderSize(f, 1<<20)
	head, _ := br.Peek(2)
	if bytes.Equal(head, []byte{0x1f, 0x8b}) {
		gz, err := gzip.NewReader(br)
		if err != nil {
			f.Close()
			return nil, nil, &sources.InputError{File: path, Err: fmt.Errorf("not a readable gzip file: %w", err)}
		}
		return bufio.NewReaderSize(gz, 1<<20), func() error { gz.Close(); return f.Close() }, nil
	}
	return br, f.Close, nil
}

// sniff tells which tool wrote the dump from its first bytes.
func sniff(path string, head []byte) (tool, error) {
	text := string(head)
	switch {
	case bytes.HasPrefix(head, pgCustomMagic):
		return 0, &sources.InputError{File: path, Line: 1, Err: errors.New("a pg_dump archive in custom format (-Fc), which mlflow-bulk does not read: " +
			"make a plain SQL file of it with `pg_restore -f dump.sql FILE` (or dump again with `pg_dump -Fp`) and import that")}
	case len(head) > 262 && string(head[257:262]) == "ustar":
		return 0, &sources.InputError{File: path, Line: 1, Err: errors.New("a tar archive (pg_dump -Ft?), not plain SQL: make a plain SQL file of it with `pg_restore -f dump.sql FILE` and import that")}
	case strings.Contains(text, "-- MySQL dump") || strings.Contains(text, "-- MariaDB dump") || strings.Contains(text, "/*!40101 SET") ||
		strings.Contains(text, "LOCK TABLES `") || strings.Contains(text, "CREATE TABLE `"):
		return toolMySQL, nil
	case strings.Contains(text, "-- PostgreSQL database dump") || strings.Contains(text, "SET standard_conforming_strings") ||
		strings.Contains(text, "\nCOPY public.") || strings.Contains(text, "CREATE TABLE public."):
		return toolPostgres, nil
	case strings.Contains(text, "PRAGMA foreign_keys=OFF;") || strings.Contains(text, "BEGIN TRANSACTION;"):
		return toolSQLite, nil
	}
	return 0, &sources.InputError{File: path, Line: 1, Err: errors.New("not an SQL dump mlflow-bulk reads: it takes mysqldump/mariadb-dump output, pg_dump's plain format and the sqlite3 shell's .dump of an MLflow database")}
}

// Open loads the dump into a scratch database and opens that as an MLflow database
// source that names the dump.
func Open(ctx context.Context, path string, opts database.Options) (sources.Source, error) {
	if opts.Drivers == nil {
		return nil, fmt.Errorf("%s: reading an SQL dump needs the database drivers (database.Options.Drivers)", path)
	}
	r, closeText, err := openText(path)
	if err != nil {
		return nil, err
	}
	head, _ := r.(*bufio.Reader).Peek(64 << 10)
	t, err := sniff(path, head)
	_ = closeText() // read only: closing cannot lose anything
	if err != nil {
		return nil, err
	}
	removeStaleScratches()
	dir, err := os.MkdirTemp("", fmt.Sprintf("%s%d-", scratchPrefix, os.Getpid()))
	if err != nil {
		return nil, fmt.Errorf("%s: a scratch folder to read it: %w", path, err)
	}
	scratch := filepath.Join(dir, "dump.db")
	uri, ok := opts.Drivers.FileURI(scratch)
	if !ok {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("%s: reading an SQL dump needs a database driver that writes files", path)
	}
	others, err := load(ctx, path, t, uri, opts)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	dbOpts := opts
	dbOpts.Name = fmt.Sprintf("SQL dump %s (%s)", path, t)
	src, err := database.Open(ctx, uri, dbOpts)
	if err != nil {
		os.RemoveAll(dir)
		if errors.Is(err, sources.ErrNotRecognised) {
			return nil, &sources.InputError{File: path, Err: fmt.Errorf("a %s dump without MLflow's tables (no alembic_version row): not a dump of an MLflow database", t)}
		}
		return nil, err
	}
	d := newDumpSource(src, dir)
	if compact(t, head) {
		d.prelude(&sources.Notice{Path: path, Message: "a mysqldump without its header and closing comments (--compact): it cannot show that it is complete, " +
			"so a dump cut between two statements would read as whole; verify the import against the database it came from"})
	}
	if len(others) > 0 {
		d.prelude(&sources.Skipped{Path: path, Reason: othersLeftOut(others)})
	}
	return d, nil
}

// compact reports whether a MySQL dump was written with --compact: no header comment.
func compact(t tool, head []byte) bool {
	return t == toolMySQL && !bytes.Contains(head, []byte("-- MySQL dump")) && !bytes.Contains(head, []byte("-- MariaDB dump"))
}

// othersLeftOut says which tables of the dump, in schemas other than MLflow's, were
// left out.
func othersLeftOut(others []tableKey) string {
	names := make([]string, 0, min(len(others), 10))
	for _, k := range others[:min(len(others), 10)] {
		names = append(names, k.String())
	}
	more := ""
	if len(others) > len(names) {
		more = fmt.Sprintf(" and %d more", len(others)-len(names))
	}
	return fmt.Sprintf("%d tables in schemas other than MLflow's left out (%s%s): they are not MLflow's, even where their names are", len(others), strings.Join(names, ", "), more)
}

// scratchPrefix starts the name of a scratch folder in TMPDIR, followed by the id of the
// process that made it, so that a later run can tell the folders of dead processes.
const scratchPrefix = "mlflow-bulk-sqldump-"

// removeStaleScratches removes the scratch folders that processes no longer running left
// in TMPDIR (killed before they could remove them): a scratch copy may hold a dump's
// secrets table. A folder whose process still runs, or that it cannot tell, stays.
func removeStaleScratches() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), scratchPrefix+"*"))
	for _, dir := range dirs {
		pidText, _, ok := strings.Cut(strings.TrimPrefix(filepath.Base(dir), scratchPrefix), "-")
		pid, err := strconv.Atoi(pidText)
		if !ok || err != nil || pid <= 0 || pid == os.Getpid() || procs.Runs(pid) {
			continue
		}
		_ = os.RemoveAll(dir) // best effort: another run may be removing it too
	}
}

// dumpSource is the scratch database's source, which removes the scratch at Close; it
// gives first what reading the dump itself found (tables it left out).
type dumpSource struct {
	sources.Source
	dir   string
	first []sources.Record
	// inFirst: the record given is the next of first.
	inFirst bool
}

// preluder is a dump source that can give records of its own before the database's.
type preluder interface {
	sources.Source
	prelude(r sources.Record)
}

func (d *dumpSource) prelude(r sources.Record) { d.first = append(d.first, r) }

// Next gives the dump's own records first, then the database's.
func (d *dumpSource) Next() bool {
	if d.inFirst {
		d.first = d.first[1:]
	}
	d.inFirst = len(d.first) > 0
	return d.inFirst || d.Source.Next()
}

// Record is the record Next moved to.
func (d *dumpSource) Record() sources.Record {
	if d.inFirst {
		return d.first[0]
	}
	return d.Source.Record()
}

// tableDumpSource is a dumpSource whose tables are checked against the target before
// writing, as a database's are.
type tableDumpSource struct {
	*dumpSource
	sources.TableSource
}

func newDumpSource(src sources.Source, dir string) preluder {
	d := &dumpSource{Source: src, dir: dir}
	if ts, ok := src.(sources.TableSource); ok {
		return &tableDumpSource{dumpSource: d, TableSource: ts}
	}
	return d
}

func (d *dumpSource) Close() error {
	err := d.Source.Close()
	if rmErr := os.RemoveAll(d.dir); rmErr != nil && err == nil {
		err = fmt.Errorf("remove the scratch copy of the dump: %w", rmErr)
	}
	return err
}

// SchemaRevision is the revision of the database the dump was taken of.
func (d *dumpSource) SchemaRevision() string {
	if r, ok := d.Source.(sources.Revisioned); ok {
		return r.SchemaRevision()
	}
	return ""
}

// CountRuns passes the scratch database's count on, for progress.
func (d *dumpSource) CountRuns(ctx context.Context) (int64, error) {
	if s, ok := d.Source.(sources.Sizer); ok {
		return s.CountRuns(ctx)
	}
	return 0, nil
}
