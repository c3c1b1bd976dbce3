package artifacts

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sort"
)

// Difference is one file that is not the same in two folders.
type Difference struct {
	// Path is the file's path below the folders.
	Path string `json:"path"`
	// What is "missing" (in the source only), "extra" (in the destination only) or
	// "changed" (in both, with another size or MD5).
	What string `json:"what"`
}

// Compare lists two folders and tells the files that differ by name, size or MD5,
// both ways. It holds one folder's listing in memory (a run's files), not the files.
func Compare(ctx context.Context, stores *Stores, from, to Place) ([]Difference, int, error) {
	src, srcPrefix, err := stores.Of(ctx, from)
	if err != nil {
		return nil, 0, err
	}
	dst, dstPrefix, err := stores.Of(ctx, to)
	if err != nil {
		return nil, 0, err
	}
	want := map[string]Object{}
	if err := src.List(ctx, srcPrefix, func(o Object) error {
		want[relKey(srcPrefix, o.Key)] = o
		return nil
	}); err != nil && !errors.Is(err, ErrNoFolder) {
		return nil, 0, fmt.Errorf("listing %s: %w", from, err)
	}
	var diffs []Difference
	seen := 0
	if err := dst.List(ctx, dstPrefix, func(o Object) error {
		rel := relKey(dstPrefix, o.Key)
		w, ok := want[rel]
		if !ok {
			diffs = append(diffs, Difference{Path: rel, What: "extra"})
			return nil
		}
		delete(want, rel)
		seen++
		if w.Size != o.Size {
			diffs = append(diffs, Difference{Path: rel, What: "changed"})
			return nil
		}
		a, err := checksum(ctx, src, w)
		if err != nil {
			return err
		}
		b, err := checksum(ctx, dst, o)
		if err != nil {
			return err
		}
		if !bytes.Equal(a, b) {
			diffs = append(diffs, Difference{Path: rel, What: "changed"})
		}
		return nil
	}); err != nil && !errors.Is(err, ErrNoFolder) {
		return nil, 0, fmt.Errorf("listing %s: %w", to, err)
	}
	for rel := range want {
		diffs = append(diffs, Difference{Path: rel, What: "missing"})
	}
	sort.Slice(diffs, func(i, j int) bool { return diffs[i].Path < diffs[j].Path })
	return diffs, seen, nil
}
