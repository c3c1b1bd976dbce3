package artifacts

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/mlflow-bulk/mlflow-bulk/internal/procs"
)

// partialDir is the folder, at the root of a local destination, where files are
// written before they are renamed into place: a copy killed midway leaves its partial
// files there, never under a final name, and the next copy into that root removes
// those of processes that are gone.
const partialDir = ".mlflow-bulk-partial"

// localStore is a folder of the local file system. Keys are paths below root with
// slashes; root "/" makes every absolute path a key.
type localStore struct {
	root string
	// writable is set for a destination; a source store never creates anything.
	writable bool
	// swept is set once stale partial files were looked for.
	swept bool
}

func newLocalStore(root string, writable bool) *localStore {
	s := &localStore{root: filepath.Clean(root), writable: writable}
	if writable {
		// What a killed copy left is removed before anything else is written.
		removeStalePartials(filepath.Join(s.root, partialDir))
		s.swept = true
	}
	return s
}

func (s *localStore) path(key string) (string, error) {
	clean := path.Clean("/" + key)
	if clean != "/"+strings.TrimSuffix(key, "/") || strings.Contains(key, "\x00") {
		return "", fmt.Errorf("artifact key %q is not a plain path below %s", key, s.root)
	}
	return filepath.Join(s.root, filepath.FromSlash(clean)), nil
}

func (s *localStore) List(ctx context.Context, prefix string, fn func(Object) error) error {
	dir, err := s.path(prefix)
	if err != nil {
		return err
	}
	info, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s: %w", dir, ErrNoFolder)
	}
	if err != nil {
		return err
	}
	if info.Mode().IsRegular() {
		// One file a source keeps apart from any folder (an export's spans file): it is
		// the folder's one file, under its own name.
		return fn(Object{Key: prefix, Size: info.Size()})
	}
	if !info.IsDir() {
		return fmt.Errorf("artifact location %s is neither a file nor a folder", dir)
	}
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == partialDir && filepath.Dir(p) == s.root {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			// A symbolic link or device is not an artifact MLflow wrote; following it
			// could read outside the location.
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(s.root, p)
		if err != nil {
			return err
		}
		return fn(Object{Key: filepath.ToSlash(rel), Size: fi.Size()})
	})
}

func (s *localStore) Stat(_ context.Context, key string) (Object, bool, error) {
	p, err := s.path(key)
	if err != nil {
		return Object{}, false, err
	}
	fi, err := os.Stat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return Object{}, false, nil
	}
	if err != nil {
		return Object{}, false, err
	}
	if !fi.Mode().IsRegular() {
		return Object{}, false, fmt.Errorf("%s is not a file", p)
	}
	return Object{Key: key, Size: fi.Size()}, true, nil
}

func (s *localStore) Open(_ context.Context, key string) (io.ReadCloser, error) {
	p, err := s.path(key)
	if err != nil {
		return nil, err
	}
	return os.Open(p) //nolint:gosec // the path is a cleaned key below the store's root
}

func (s *localStore) Create(_ context.Context, key string) (Upload, error) {
	if !s.writable {
		return nil, fmt.Errorf("artifact store %s is a source: it is never written", s.root)
	}
	final, err := s.path(key)
	if err != nil {
		return nil, err
	}
	tmpDir := filepath.Join(s.root, partialDir)
	if err := os.MkdirAll(tmpDir, 0o755); err != nil {
		return nil, err
	}
	if !s.swept {
		s.swept = true
		removeStalePartials(tmpDir)
	}
	f, err := os.CreateTemp(tmpDir, strconv.Itoa(os.Getpid())+"-*")
	if err != nil {
		return nil, err
	}
	return &localUpload{f: f, final: final}, nil
}

func (s *localStore) Close() error { return nil }

type localUpload struct {
	f     *os.File
	final string
}

func (u *localUpload) Write(p []byte) (int, error) { return u.f.Write(p) }

// ReadFrom lets the kernel copy from a local file (copy_file_range), as cp does.
func (u *localUpload) ReadFrom(r io.Reader) (int64, error) { return u.f.ReadFrom(r) }

func (u *localUpload) Commit() error {
	if err := u.f.Chmod(0o644); err != nil {
		u.Abort()
		return err
	}
	if err := u.f.Close(); err != nil {
		_ = os.Remove(u.f.Name())
		return err
	}
	if err := os.MkdirAll(filepath.Dir(u.final), 0o755); err != nil {
		_ = os.Remove(u.f.Name())
		return err
	}
	if err := os.Rename(u.f.Name(), u.final); err != nil {
		_ = os.Remove(u.f.Name())
		return err
	}
	return nil
}

func (u *localUpload) Abort() {
	_ = u.f.Close()
	_ = os.Remove(u.f.Name())
}

// removeStalePartials removes partial files whose writing process is gone (a copy
// killed midway). Their names start with that process's id.
func removeStalePartials(dir string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		pidText, _, ok := strings.Cut(e.Name(), "-")
		pid, err := strconv.Atoi(pidText)
		if !ok || err != nil || procs.Runs(pid) {
			continue
		}
		_ = os.Remove(filepath.Join(dir, e.Name()))
	}
}
