package sources

import (
	"encoding/binary"
	"hash/fnv"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// A nightly import of a store that mostly holds the runs imported the night before
// would spend its time reading files only to find them as they were. A run's stamp
// sums up every file of its folder (artifacts aside) by path, type, size and
// modification time, from one listing per folder and one lstat per file, against the
// four system calls and the parsing of reading it: the importer keeps the stamp of
// each run it wrote, and a run whose stamp has not moved is not read again.

// stampRacyWindow: a file modified this recently may still change within the same
// tick of the file system's clock without its time moving, so its run has no stamp
// (it is read in full, now and next time).
const stampRacyWindow = 2 * time.Second

// artifactsFolder holds a run's artifacts, which the importer does not read.
const artifactsFolder = "artifacts"

// SkipUnchanged implements RunStamper.
func (s *fileStore) SkipUnchanged(unchanged func(runID string, stamp uint64) bool) {
	s.unchanged = unchanged
}

// runStamp is the stamp of the run folder dir of experiment expID (a run moved to
// another experiment folder keeps its files' times); 0 when a file is too recent or
// the folder cannot be listed (the read then says why).
func runStamp(dir, expID string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(expID + "\x00"))
	recent := time.Now().Add(-stampRacyWindow).UnixNano()
	var buf [8]byte
	ok := true
	var walk func(folder, rel string)
	walk = func(folder, rel string) {
		entries, err := os.ReadDir(folder)
		if err != nil {
			ok = false
			return
		}
		for _, e := range entries {
			name := e.Name()
			if rel == "" && name == artifactsFolder {
				continue
			}
			path := filepath.Join(folder, name)
			info, err := e.Info()
			if err != nil {
				ok = false
				return
			}
			if info.Mode()&fs.ModeSymlink != 0 {
				// What a followed link leads to is what is read.
				if target, err := os.Stat(path); err == nil {
					info = target
				}
			}
			h.Write([]byte(rel + name))
			h.Write([]byte{0, byte(info.Mode().Type() >> 24)})
			if info.IsDir() {
				walk(path, rel+name+"/")
				if !ok {
					return
				}
				continue
			}
			mtime := info.ModTime().UnixNano()
			if mtime > recent {
				ok = false
				return
			}
			binary.LittleEndian.PutUint64(buf[:], uint64(info.Size()))
			h.Write(buf[:])
			binary.LittleEndian.PutUint64(buf[:], uint64(mtime))
			h.Write(buf[:])
		}
	}
	walk(dir, "")
	if !ok {
		return 0
	}
	if sum := h.Sum64(); sum != 0 {
		return sum
	}
	return 1 // 0 means no stamp
}
