//go:build linux

package filestore

import (
	"io/fs"
	"os"
	"slices"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// fileIdentity is what of a file a user cannot put back: its inode and its change
// time. A file rewritten in place keeps its inode but gets a new change time, even
// when its modification time is set back (touch -r, a copy that keeps times).
func fileIdentity(info fs.FileInfo) (inode uint64, ctime int64) {
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, 0
	}
	return uint64(st.Ino), int64(st.Ctim.Sec)*1e9 + int64(st.Ctim.Nsec) //nolint:unconvert // int32 on 32-bit systems
}

// fdFolder reads a folder through a descriptor of it: its files are looked up by name
// in it rather than by a path walked from the root each time, and its folders are
// known from the listing without a look of their own. A nightly import stamps every
// run of the store, so this is most of what an import that finds nothing new does.
type fdFolder struct {
	fd int
	f  *os.File // the same descriptor, for its listing
}

// openStampFolder opens the run folder dir for its stamp.
func openStampFolder(dir string) (stampFolder, error) {
	return openFolderAt(unix.AT_FDCWD, dir, 0)
}

func openFolderAt(at int, name string, flags int) (stampFolder, error) {
	fd, err := unix.Openat(at, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC|flags, 0)
	if err != nil {
		return nil, err
	}
	return fdFolder{fd: fd, f: os.NewFile(uintptr(fd), name)}, nil
}

func (d fdFolder) list() ([]fs.DirEntry, error) {
	entries, err := d.f.ReadDir(-1)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(entries, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	return entries, nil
}

// sub opens a folder the listing says is one (not a link: links to folders are not walked).
func (d fdFolder) sub(name string) (stampFolder, error) {
	return openFolderAt(d.fd, name, unix.O_NOFOLLOW)
}

func (d fdFolder) facts(name string, follow bool) (fileFacts, error) {
	flags := unix.AT_SYMLINK_NOFOLLOW
	if follow {
		flags = 0
	}
	var st unix.Stat_t
	if err := unix.Fstatat(d.fd, name, &st, flags); err != nil {
		return fileFacts{}, err
	}
	return fileFacts{
		dir:   st.Mode&unix.S_IFMT == unix.S_IFDIR,
		size:  st.Size,
		mtime: int64(st.Mtim.Sec)*1e9 + int64(st.Mtim.Nsec), //nolint:unconvert // int32 on 32-bit systems
		inode: uint64(st.Ino),                               //nolint:unconvert // uint32 on some systems
		ctime: int64(st.Ctim.Sec)*1e9 + int64(st.Ctim.Nsec), //nolint:unconvert // int32 on 32-bit systems
	}, nil
}

func (d fdFolder) close() { _ = d.f.Close() }
