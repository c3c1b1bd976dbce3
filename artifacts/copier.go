package artifacts

import (
	"bytes"
	"context"
	"crypto/md5" //nolint:gosec // MD5 is the checksum object stores keep, compared, not trusted for security
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/sync/errgroup"
)

// Job copies the files of one folder (a run's, a logged model's or a trace's
// artifacts) to another.
type Job struct {
	From, To Place
	// Owner names what the files belong to ("run 1f0e…"), for messages.
	Owner string
}

// Stats counts what a copy did, or (dry run) would do.
type Stats struct {
	// Files and Bytes were copied (or would be).
	Files, Bytes int64
	// SameFiles and SameBytes were at the destination already, with the same size and
	// MD5, and were not copied again.
	SameFiles, SameBytes int64
	// NoFolder counts the local folders that did not exist (nothing to copy);
	// FirstNoFolder names one.
	NoFolder      int64
	FirstNoFolder string
}

// Copier copies jobs' files with a bounded number of transfers side by side. Submit
// starts a job; Wait waits for all started so far. Memory is a buffer per transfer,
// whatever the files' sizes.
type Copier struct {
	stores  *Stores
	workers int
	dryRun  bool

	files, bytes, sameFiles, sameBytes, noFolder atomic.Int64
	firstNoFolder                                atomic.Value

	mu      sync.Mutex
	listing *errgroup.Group
	copying *errgroup.Group
	ctx     context.Context
}

// NewCopier copies between the stores of stores, workers files at a time; a dry run
// only counts what it would copy. Stats tells the totals at any time, for progress.
func NewCopier(stores *Stores, workers int, dryRun bool) *Copier {
	if workers < 1 {
		workers = 1
	}
	return &Copier{stores: stores, workers: workers, dryRun: dryRun}
}

// Stats are the totals so far.
func (c *Copier) Stats() Stats {
	first, _ := c.firstNoFolder.Load().(string)
	return Stats{Files: c.files.Load(), Bytes: c.bytes.Load(), SameFiles: c.sameFiles.Load(), SameBytes: c.sameBytes.Load(), NoFolder: c.noFolder.Load(), FirstNoFolder: first}
}

// Submit starts copying job's files. It blocks while as many folders as there are
// workers are being listed; the first error stops the others and is Wait's.
func (c *Copier) Submit(ctx context.Context, job Job) {
	c.mu.Lock()
	if c.listing == nil {
		var gctx context.Context
		c.listing, gctx = errgroup.WithContext(ctx)
		c.copying = &errgroup.Group{}
		c.listing.SetLimit(c.workers)
		c.copying.SetLimit(c.workers)
		c.ctx = gctx
	}
	listing, copying, gctx := c.listing, c.copying, c.ctx
	c.mu.Unlock()
	listing.Go(func() error {
		return c.copyFolder(gctx, copying, job)
	})
}

// Wait waits for every job submitted since the last Wait and returns the first error.
func (c *Copier) Wait() error {
	c.mu.Lock()
	listing, copying := c.listing, c.copying
	c.listing, c.copying, c.ctx = nil, nil, nil
	c.mu.Unlock()
	if listing == nil {
		return nil
	}
	listErr := listing.Wait()
	copyErr := copying.Wait()
	if listErr != nil {
		return listErr
	}
	return copyErr
}

// copyFolder lists job's source and hands each file to the copying group (whose slots
// never wait on listing, so the two cannot block each other).
func (c *Copier) copyFolder(ctx context.Context, copying *errgroup.Group, job Job) error {
	src, srcPrefix, err := c.stores.Of(ctx, job.From)
	if err != nil {
		return fmt.Errorf("the artifacts of %s at %s: %w", job.Owner, job.From, err)
	}
	dst, dstPrefix, err := c.stores.Of(ctx, job.To)
	if err != nil {
		return fmt.Errorf("the artifacts of %s, into %s: %w", job.Owner, job.To, err)
	}
	var fileErr error
	var errOnce sync.Once
	var pending sync.WaitGroup
	err = src.List(ctx, srcPrefix, func(obj Object) error {
		rel := relKey(srcPrefix, obj.Key)
		pending.Add(1)
		copying.Go(func() error {
			defer pending.Done()
			if err := c.copyFile(ctx, src, obj, dst, joinKey(dstPrefix, rel)); err != nil {
				err = fmt.Errorf("copying %s of %s from %s to %s: %w", rel, job.Owner, job.From, job.To, err)
				errOnce.Do(func() { fileErr = err })
				return err
			}
			return nil
		})
		return ctx.Err()
	})
	pending.Wait()
	if errors.Is(err, ErrNoFolder) {
		c.noFolder.Add(1)
		c.firstNoFolder.CompareAndSwap(nil, job.From.String())
		return fileErr
	}
	if err != nil {
		return fmt.Errorf("listing the artifacts of %s at %s: %w", job.Owner, job.From, err)
	}
	return fileErr
}

func (c *Copier) copyFile(ctx context.Context, src Store, obj Object, dst Store, dstKey string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	same, err := sameFile(ctx, src, obj, dst, dstKey)
	if err != nil {
		return err
	}
	if same {
		c.sameFiles.Add(1)
		c.sameBytes.Add(obj.Size)
		return nil
	}
	if c.dryRun {
		c.files.Add(1)
		c.bytes.Add(obj.Size)
		return nil
	}
	r, err := src.Open(ctx, obj.Key)
	if err != nil {
		return err
	}
	defer func() { _ = r.Close() }()
	up, err := dst.Create(ctx, dstKey)
	if err != nil {
		return err
	}
	var from io.Reader = &ctxReader{ctx: ctx, r: r}
	if f, ok := r.(*os.File); ok {
		// A local file is copied by the kernel where the destination is local too; one
		// file's copy is then not cut short by a cancel, the next one is.
		from = f
	}
	n, err := io.Copy(up, from)
	if err != nil {
		up.Abort()
		return err
	}
	if err := up.Commit(); err != nil {
		return err
	}
	c.files.Add(1)
	c.bytes.Add(n)
	return nil
}

// sameFile tells whether dst holds obj already: the same size and the same MD5 (read
// from the store where it keeps one, computed from the bytes where not).
func sameFile(ctx context.Context, src Store, obj Object, dst Store, dstKey string) (bool, error) {
	there, ok, err := dst.Stat(ctx, dstKey)
	if err != nil || !ok || there.Size != obj.Size {
		return false, err
	}
	a, err := checksum(ctx, src, obj)
	if err != nil {
		return false, err
	}
	b, err := checksum(ctx, dst, there)
	if err != nil {
		return false, err
	}
	return bytes.Equal(a, b), nil
}

// checksum is obj's MD5, as the store keeps it or read from its bytes.
func checksum(ctx context.Context, st Store, obj Object) ([]byte, error) {
	if len(obj.MD5) > 0 {
		return obj.MD5, nil
	}
	r, err := st.Open(ctx, obj.Key)
	if err != nil {
		return nil, err
	}
	defer func() { _ = r.Close() }()
	h := md5.New() //nolint:gosec // see the import
	if _, err := io.Copy(h, &ctxReader{ctx: ctx, r: r}); err != nil {
		return nil, err
	}
	return h.Sum(nil), nil
}

// ctxReader stops a long read when its context ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (cr *ctxReader) Read(p []byte) (int, error) {
	if err := cr.ctx.Err(); err != nil {
		return 0, err
	}
	return cr.r.Read(p)
}

// relKey is a file's path below the folder prefix; a file listed as the prefix itself
// (a source's lone file) is its base name.
func relKey(prefix, key string) string {
	if prefix == "" {
		return key
	}
	if key == prefix {
		return path.Base(key)
	}
	return strings.TrimPrefix(key, prefix+"/")
}

func joinKey(prefix, rel string) string {
	if prefix == "" {
		return rel
	}
	return prefix + "/" + rel
}
