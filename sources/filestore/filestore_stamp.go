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
	root, err := openStampFolder(dir)
	if err != nil {
		return 0, nil
	}
	defer root.close()
	return stampOf(ctx, root, expID)
}

// stampOf is runStamp over a folder however it is listed.
func stampOf(ctx context.Context, root stampFolder, expID string) (uint64, error) {
	h := fnv.New64a()
	h.Write([]byte(expID + "\x00"))
	recent := time.Now().Add(-stampRacyWindow).UnixNano()
	var buf [8]byte
	word := func(v uint64) {
		binary.LittleEndian.PutUint64(buf[:], v)
		h.Write(buf[:])
	}
	ok := true
	var walk func(folder stampFolder, rel string) error
	walk = func(folder stampFolder, rel string) error {
		entries, err := folder.list()
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
			kind := e.Type()
			h.Write([]byte(rel + name))
			h.Write([]byte{0, byte(kind >> 24)})
			if kind.IsDir() {
				sub, err := folder.sub(name)
				if err != nil {
					ok = false
					return nil
				}
				err = walk(sub, rel+name+"/")
				sub.close()
				if err != nil || !ok {
					return err
				}
				continue
			}
			// A link to a file is read through; one to a folder is not walked.
			facts, err := folder.facts(name, kind&fs.ModeSymlink != 0)
			if kind&fs.ModeSymlink != 0 && (err != nil || facts.dir) {
				continue
			}
			if err != nil {
				ok = false
				return nil
			}
			if facts.mtime > recent {
				ok = false
				return nil
			}
			word(uint64(facts.size))
			word(uint64(facts.mtime))
			word(facts.inode)
			word(uint64(facts.ctime))
		}
		return nil
	}
	if err := walk(root, ""); err != nil || !ok {
		return 0, err
	}
	if sum := h.Sum64(); sum != 0 {
		return sum, nil
	}
	return 1, nil // 0 means no stamp
}

// stampFolder is a folder of a run as its stamp reads it: a listing sorted by name
// (each entry's type as the listing gives it), a sub-folder, and the facts of a file.
type stampFolder interface {
	list() ([]fs.DirEntry, error)
	sub(name string) (stampFolder, error)
	// facts are those of the file name, or of what it links to when follow is set.
	facts(name string, follow bool) (fileFacts, error)
	close()
}

// fileFacts are what a stamp takes of a file: size, modification time, and what a user
// cannot set back (inode and change time, 0 where the system has none).
type fileFacts struct {
	dir         bool
	size, mtime int64
	inode       uint64
	ctime       int64
}

// pathFolder reads a folder by paths: where there is no folder descriptor to look up
// names in, and as the reference the tests hold the faster one to.
type pathFolder string

func (p pathFolder) list() ([]fs.DirEntry, error) { return os.ReadDir(string(p)) }

func (p pathFolder) sub(name string) (stampFolder, error) {
	return pathFolder(filepath.Join(string(p), name)), nil
}

func (p pathFolder) facts(name string, follow bool) (fileFacts, error) {
	path := filepath.Join(string(p), name)
	look := os.Lstat
	if follow {
		look = os.Stat
	}
	info, err := look(path)
	if err != nil {
		return fileFacts{}, err
	}
	inode, ctime := fileIdentity(info)
	return fileFacts{dir: info.IsDir(), size: info.Size(), mtime: info.ModTime().UnixNano(), inode: inode, ctime: ctime}, nil
}

func (p pathFolder) close() {}
