package sqlite

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"time"
)

// Reading an SQLite source without creating or changing a file beside it. A database in
// rollback-journal mode opens read-only and writes nothing. A database in WAL mode makes
// even a read-only reader create or update the -wal and -shm files beside it; when its
// -wal holds nothing it is opened as immutable, which needs neither. A database whose
// -wal holds transactions not yet copied back into it, or that has a hot journal (its
// writer stopped in the middle of a transaction), is read from a private copy of the
// database and that file, where SQLite can apply or roll them back as MLflow would see
// them.

// sqliteSource is how an SQLite source is read: the DSN, the private copy to remove
// afterwards, and what the report says about it.
type sqliteSource struct {
	dsn, copyDir, notice string
}

func (s sqliteSource) cleanup() {
	if s.copyDir != "" {
		_ = os.RemoveAll(s.copyDir) // our own temporary folder
	}
}

const sqliteReadOnly = "&_pragma=query_only(1)&_pragma=busy_timeout(30000)"

func sqliteDSN(path, mode string) string {
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + mode + sqliteReadOnly
}

// openSQLiteSource decides how to read the SQLite file at path.
func openSQLiteSource(path string) (sqliteSource, error) {
	if _, err := os.Stat(path); err != nil {
		return sqliteSource{}, fmt.Errorf("open MLflow database: %w", err)
	}
	wal, journal := path+"-wal", path+"-journal"
	switch {
	case nonEmpty(journal):
		s, err := sqliteCopy(path, journal)
		if err != nil {
			return s, err
		}
		s.notice = fmt.Sprintf("%s has a hot journal (%s): the program writing it stopped in the middle of a transaction. "+
			"It was read from a private copy where that transaction was rolled back, as MLflow would see the database; the source was not changed. "+
			"Opening it once with MLflow or sqlite3 rolls the journal back for good", path, filepath.Base(journal))
		return s, nil
	case nonEmpty(wal):
		s, err := sqliteCopy(path, wal)
		if err != nil {
			return s, err
		}
		s.notice = fmt.Sprintf("%s is in WAL mode with transactions in %s not yet written back into it: it was read from a private copy of both, "+
			"so that nothing is created or changed beside the source", path, filepath.Base(wal))
		return s, nil
	case walMode(path):
		return sqliteSource{dsn: sqliteDSN(path, "mode=ro&immutable=1")}, nil
	}
	return sqliteSource{dsn: sqliteDSN(path, "mode=ro")}, nil
}

func nonEmpty(path string) bool {
	info, err := os.Stat(path)
	return err == nil && info.Size() > 0
}

// walMode reads the database header: bytes 18 and 19 are 2 in WAL mode.
func walMode(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	header := make([]byte, 20)
	if _, err := io.ReadFull(f, header); err != nil {
		return false
	}
	return header[18] == 2 && header[19] == 2
}

// sqliteCopy copies a database and its -wal or -journal into a private folder, again
// if either changed while being copied (a live writer), and opens the copy so that
// SQLite may recover it there.
func sqliteCopy(path, side string) (sqliteSource, error) {
	dir, err := os.MkdirTemp("", "mlflow-bulk-source-")
	if err != nil {
		return sqliteSource{}, fmt.Errorf("copy %s to read it: %w", path, err)
	}
	s := sqliteSource{copyDir: dir}
	copyPath := filepath.Join(dir, filepath.Base(path))
	suffix := side[len(path):]
	for attempt := 0; attempt < 5; attempt++ {
		before, err := stamps(path, side)
		if err != nil {
			s.cleanup()
			return sqliteSource{}, fmt.Errorf("copy %s to read it: %w", path, err)
		}
		if err := copyFile(path, copyPath); err != nil {
			s.cleanup()
			return sqliteSource{}, fmt.Errorf("copy %s to read it: %w", path, err)
		}
		if err := copyFile(side, copyPath+suffix); err != nil && !errors.Is(err, fs.ErrNotExist) {
			s.cleanup()
			return sqliteSource{}, fmt.Errorf("copy %s to read it: %w", side, err)
		}
		after, err := stamps(path, side)
		if err == nil && after == before {
			s.dsn = "file:" + (&url.URL{Path: copyPath}).EscapedPath() + "?" + sqliteReadOnly[1:]
			return s, nil
		}
		time.Sleep(time.Duration(attempt+1) * 100 * time.Millisecond)
	}
	s.cleanup()
	return sqliteSource{}, fmt.Errorf("%s kept changing while it was copied to be read: stop the programs writing it (an MLflow server), or copy it with sqlite3's .backup and import the copy", path)
}

// stamps are the size and modification time of a database and its side file.
func stamps(path, side string) (string, error) {
	out := ""
	for _, p := range []string{path, side} {
		info, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) && p == side {
			out += "-|"
			continue
		}
		if err != nil {
			return "", err
		}
		out += fmt.Sprintf("%d %d|", info.Size(), info.ModTime().UnixNano())
	}
	return out, nil
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
