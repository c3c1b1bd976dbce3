//go:build !linux

package filestore

import "io/fs"

// fileIdentity: where mlflow-bulk does not read no inode or change time, the stamp rests on
// size and modification time alone.
func fileIdentity(fs.FileInfo) (uint64, int64) { return 0, 0 }

// openStampFolder opens the run folder dir for its stamp, by paths.
func openStampFolder(dir string) (stampFolder, error) { return pathFolder(dir), nil }
