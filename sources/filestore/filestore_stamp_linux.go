//go:build linux

package filestore

import (
	"io/fs"
	"syscall"
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
