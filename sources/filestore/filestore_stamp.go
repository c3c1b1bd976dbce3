package filestore

import (
	"context"
	"encoding/binary"
	"hash/fnv"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// A nightly import of a store that mostly holds the runs imported the night before
// would spend its time reading files only to find them as they were. A run's stamp
// sums up every file MLflow reads of its folder by path, type, size, times and inode,
// from one listing per folder and one lstat per file, against the
// four system calls and the parsing of reading it: the importer keeps the stamp of
// each run it wrote, and a run whose stamp has not moved is not read again.

// stampRacyWindow: a file modified this recently may still change within the same
// tick of the file system's clock without its time moving, so its run has no stamp
// (it is read in full, now and next time).
const stampRacyWindow = 2 * time.Second

// runStampFolders are the folders of a run that MLflow's file store reads, and so the
// only ones a stamp looks at: artifacts and anything else a user left beside them
// (a link to "." or to /usr included) are never walked.
var runStampFolders = map[string]bool{"params": true, "tags": true, "metrics": true, "inputs": true, "outputs": true}

// SkipUnchanged implements RunStamper.
func (s *fileStore) SkipUnchanged(unchanged func(runID string, stamp uint64) bool) {
	s.unchanged = unchanged
}

// runStamp is the stamp of the run folder dir of experiment expID (a run moved to
// another experiment folder keeps its files' times); 0 when a file is too recent or
// the folder cannot be listed (the read then says why). It covers meta.yaml and the
// folders MLflow reads, each file by path, type, size, modification time, and what a
// user cannot set back (inode and change time, where the system has them), so a file
// rewritten to its old size with its old time put back moves the stamp. Linked folders
// are not followed: the reader does not follow them either.
func runStamp(ctx context.Context, dir, expID string) (uint64, error) {
	h := fnv.New64a()
	h.Write([]byte(expID + "\x00"))
	recent := time.Now().Add(-stampRacyWindow).UnixNano()
	var buf [8]byte
	word := func(v uint64) {
		binary.LittleEndian.PutUint64(buf[:], v)
		h.Write(buf[:])
	}
	ok := true
	var walk func(folder, rel string) error
	walk = func(folder, rel string) error {
		entries, err := os.ReadDir(folder)
		if err != nil {
			ok = false
			return nil
		}
		for _, e := range entries {
			if err := ctx.Err(); err != nil {
				return err
			}
			name := e.Name()
			if rel == "" && name != metaFile && !runStampFolders[name] {
				continue
			}
			path := filepath.Join(folder, name)
			info, err := e.Info()
			if err != nil {
				ok = false
				return nil
			}
			h.Write([]byte(rel + name))
			h.Write([]byte{0, byte(info.Mode().Type() >> 24)})
			if info.Mode()&fs.ModeSymlink != 0 {
				// A link to a file is read through; one to a folder is not walked.
				target, err := os.Stat(path)
				if err != nil || target.IsDir() {
					continue
				}
				info = target
			}
			if info.IsDir() {
				if err := walk(path, rel+name+"/"); err != nil || !ok {
					return err
				}
				continue
			}
			mtime := info.ModTime().UnixNano()
			if mtime > recent {
				ok = false
				return nil
			}
			word(uint64(info.Size()))
			word(uint64(mtime))
			inode, ctime := fileIdentity(info)
			word(inode)
			word(uint64(ctime))
		}
		return nil
	}
	if err := walk(dir, ""); err != nil || !ok {
		return 0, err
	}
	if sum := h.Sum64(); sum != 0 {
		return sum, nil
	}
	return 1, nil // 0 means no stamp
}
