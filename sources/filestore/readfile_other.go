//go:build !linux

package filestore

import "os"

// readWhole reads a whole file.
func readWhole(path string) ([]byte, error) { return os.ReadFile(path) }

// rawFile is a file opened for reading.
type rawFile struct{ *os.File }

func openForRead(path string) (*rawFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	return &rawFile{f}, nil
}

// size is the file's size, or -1 when it cannot be told.
func (f *rawFile) size() int64 {
	info, err := f.Stat()
	if err != nil {
		return -1
	}
	return info.Size()
}
