package artifacts

import (
	"context"
	"errors"
	"io"

	"gocloud.dev/blob"
	"gocloud.dev/gcerrors"
)

// bucketStore is one bucket or container of an object store, through gocloud.dev/blob,
// which reads each cloud's credentials from its standard chain (environment, shared
// configuration, instance identity). An object store shows a file only once its
// upload completes, so an upload killed midway leaves nothing under its key.
type bucketStore struct {
	bucket *blob.Bucket
}

func (s *bucketStore) List(ctx context.Context, prefix string, fn func(Object) error) error {
	if prefix != "" {
		prefix += "/"
	}
	it := s.bucket.List(&blob.ListOptions{Prefix: prefix})
	for {
		obj, err := it.Next(ctx)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if obj.IsDir {
			continue
		}
		if err := fn(Object{Key: obj.Key, Size: obj.Size, MD5: obj.MD5}); err != nil {
			return err
		}
	}
}

func (s *bucketStore) Stat(ctx context.Context, key string) (Object, bool, error) {
	attrs, err := s.bucket.Attributes(ctx, key)
	if gcerrors.Code(err) == gcerrors.NotFound {
		return Object{}, false, nil
	}
	if err != nil {
		return Object{}, false, err
	}
	return Object{Key: key, Size: attrs.Size, MD5: attrs.MD5}, true, nil
}

func (s *bucketStore) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	return s.bucket.NewReader(ctx, key, nil)
}

func (s *bucketStore) Create(ctx context.Context, key string) (Upload, error) {
	// The upload is cancelled, not completed, when Abort cancels its context.
	ctx, cancel := context.WithCancel(ctx)
	w, err := s.bucket.NewWriter(ctx, key, &blob.WriterOptions{DisableContentTypeDetection: true, ContentType: "application/octet-stream"})
	if err != nil {
		cancel()
		return nil, err
	}
	return &bucketUpload{w: w, cancel: cancel}, nil
}

func (s *bucketStore) Close() error { return s.bucket.Close() }

type bucketUpload struct {
	w      *blob.Writer
	cancel context.CancelFunc
}

func (u *bucketUpload) Write(p []byte) (int, error) { return u.w.Write(p) }

func (u *bucketUpload) Commit() error {
	defer u.cancel()
	return u.w.Close()
}

func (u *bucketUpload) Abort() {
	u.cancel()
	_ = u.w.Close()
}
