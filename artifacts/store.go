// Package artifacts copies, counts and compares the artifact files of runs, logged
// models and traces between a local folder and the object stores MLflow writes to
// (S3 and S3-compatible servers, Google Cloud Storage, Azure Blob Storage).
//
// A location is what MLflow keeps in its tables (a path, file://, s3://, gs://,
// wasbs://…); Open turns it into a Store and a key prefix. The Copier streams each file
// from one store to another, skipping a file the destination already holds with the
// same size and MD5, and never leaves a half-written file under its final name.
package artifacts

import (
	"context"
	"errors"
	"io"
)

// Object is one file of a store: its key (a slash-separated path from the store's root),
// size and, when the store keeps one, its MD5.
type Object struct {
	Key  string
	Size int64
	MD5  []byte
}

// Store is one place files live: a local folder or one bucket or container.
type Store interface {
	// List calls fn for every file under prefix (a folder: files whose key starts with
	// prefix + "/"), in no promised order. A prefix with no file lists nothing; a local
	// folder that does not exist is ErrNoFolder.
	List(ctx context.Context, prefix string, fn func(Object) error) error
	// Stat is the file at key; ok is false when there is none.
	Stat(ctx context.Context, key string) (obj Object, ok bool, err error)
	// Open reads the file at key.
	Open(ctx context.Context, key string) (io.ReadCloser, error)
	// Create writes the file at key: nothing is visible under key until Commit returns,
	// and Abort leaves nothing behind.
	Create(ctx context.Context, key string) (Upload, error)
	// Close releases the store's connections.
	Close() error
}

// Upload is a file being written.
type Upload interface {
	io.Writer
	// Commit makes the written bytes the file at the upload's key.
	Commit() error
	// Abort drops what was written.
	Abort()
}

// ErrNoFolder is a local folder that does not exist: nothing to list, as MLflow reads
// it, but worth a word (the files may be on another machine).
var ErrNoFolder = errors.New("no such folder")

// ErrUnsupported is a location of a kind mlflow-bulk cannot read or write (an HDFS,
// FTP or Databricks path, a server's mlflow-artifacts: location with no artifacts root
// given).
var ErrUnsupported = errors.New("unsupported artifact location")
