package importer

import (
	"context"
	"fmt"
	"strings"
)

// Keys the target's collation makes one (params, tags, metric keys, experiment tags) are
// found by asking the database itself what it compares each key as (MySQL's
// WEIGHT_STRING), not by guessing its rules: under utf8mb4_general_ci "e" is "é", "ß" is
// "s" and every emoji is every other. The answers are cached; distinct keys are few.

// maxWeights bounds the cache; past it, it starts over.
const maxWeights = 100_000

// keyFolder folds keys as the target's collation compares them.
type keyFolder struct {
	target  *session
	ctx     context.Context // the import's: fold is called deep in code that takes none
	weights map[string]string
	err     error // the first look-up that failed; the import reports it
}

// fold is what the target compares key as; keys with equal folds are one key there.
func (f *keyFolder) fold(key string) string {
	c := f.target.collation
	if c.Exact() {
		return key
	}
	if f.err != nil {
		return c.Fold(key)
	}
	if w, ok := f.weights[key]; ok {
		return w
	}
	// PAD SPACE collations ignore trailing spaces in comparisons; their weights keep them.
	asked := key
	if c.PadSpace {
		asked = strings.TrimRight(asked, " ")
	}
	w, ok, err := f.target.store.KeyWeight(f.ctx, c.Name, asked)
	if err != nil {
		f.err = fmt.Errorf("ask the target how its collation %s compares %q: %w", c.Name, key, err)
		return c.Fold(key)
	}
	if !ok {
		w = c.Fold(key) // the target has no way to say: its case and space rules
	}
	if len(f.weights) >= maxWeights {
		clear(f.weights)
	}
	f.weights[key] = w
	return w
}

// failed returns the error of a look-up that failed, once.
func (f *keyFolder) failed() error {
	err := f.err
	f.err = nil
	return err
}
