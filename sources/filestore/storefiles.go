package filestore

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/mlflow-bulk/mlflow-bulk/remedy"
)

// storeFiles decides which files of a file store are read: regular files only (a FIFO
// or a device would block or never end), and symbolic links only where they stay inside
// the store, unless told otherwise.
type storeFiles struct {
	root        string // the store's folder, its links resolved
	followLinks bool
}

func newStoreFiles(root string, followLinks bool) storeFiles {
	resolved, err := filepath.EvalSymlinks(root)
	if err != nil {
		resolved = root
	}
	if abs, err := filepath.Abs(resolved); err == nil {
		resolved = abs
	}
	return storeFiles{root: resolved, followLinks: followLinks}
}

// checkEntry is check for a file found by listing its folder: a listing that says the
// entry is a regular file needs no second look, which for a store of many small runs
// is a system call per param, tag and metric saved.
func (f storeFiles) checkEntry(path string, d fs.DirEntry) error {
	if d != nil && d.Type().IsRegular() {
		return nil
	}
	return f.check(path)
}

// check says why a file is not to be read, or nil.
func (f storeFiles) check(path string) error {
	info, err := os.Lstat(path)
	if err != nil {
		return err
	}
	if info.Mode()&fs.ModeSymlink != 0 {
		target, err := filepath.EvalSymlinks(path)
		if err != nil {
			return fmt.Errorf("a symbolic link that leads nowhere: %w", err)
		}
		if abs, err := filepath.Abs(target); err == nil {
			target = abs
		}
		if rel, err := filepath.Rel(f.root, target); !f.followLinks && (err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator))) {
			return remedy.With(fmt.Errorf("a symbolic link to %s, outside the store: a store must not pull this machine's files into the database", target),
				remedy.Remedy{Option: OptionFollowSymlinks, Does: "to read it anyway"})
		}
		if info, err = os.Stat(path); err != nil {
			return err
		}
	}
	if !info.Mode().IsRegular() {
		return fmt.Errorf("not a regular file (%s): only files are read", info.Mode().Type())
	}
	return nil
}
