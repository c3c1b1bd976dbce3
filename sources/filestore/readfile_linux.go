//go:build linux

package filestore

import (
	"io"
	"io/fs"

	"golang.org/x/sys/unix"
)

// A store of many small runs is read in small files, a few system calls each. Go's own
// file reading adds two to every file (registering the descriptor with the poller,
// which a regular file refuses, and a stat for the buffer's size): these readers do
// without them. Every file they are given has been checked (storeFiles) before.

// readWhole reads a whole file, as os.ReadFile does.
func readWhole(path string) ([]byte, error) {
	f, err := openForRead(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

// rawFile is a file read by its descriptor alone.
type rawFile struct {
	fd   int
	path string
}

// openForRead opens a file for reading, with errors that name it as os.Open's do.
func openForRead(path string) (*rawFile, error) {
	for {
		fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, &fs.PathError{Op: "open", Path: path, Err: err}
		}
		return &rawFile{fd: fd, path: path}, nil
	}
}

func (f *rawFile) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for {
		n, err := unix.Read(f.fd, p)
		switch {
		case err == unix.EINTR:
			continue
		case err != nil:
			return 0, &fs.PathError{Op: "read", Path: f.path, Err: err}
		case n == 0:
			return 0, io.EOF
		}
		return n, nil
	}
}

// size is the file's size, or -1 when it cannot be told.
func (f *rawFile) size() int64 {
	var st unix.Stat_t
	if unix.Fstat(f.fd, &st) != nil {
		return -1
	}
	return st.Size
}

func (f *rawFile) Close() error { return unix.Close(f.fd) }
