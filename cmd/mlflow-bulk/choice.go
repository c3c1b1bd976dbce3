package main

import (
	"fmt"
	"strings"
)

// choice is a flag whose value is one of a fixed set, a pflag.Value checked as the
// flag is parsed: a wrong value is a usage error before anything runs.
type choice[T ~string] struct {
	name    string
	value   *T
	allowed []T
}

// newChoice points value at its default, the first allowed value.
func newChoice[T ~string](name string, value *T, allowed []T) *choice[T] {
	*value = allowed[0]
	return &choice[T]{name: name, value: value, allowed: allowed}
}

func (c *choice[T]) String() string { return string(*c.value) }

func (c *choice[T]) Set(s string) error {
	for _, a := range c.allowed {
		if string(a) == s {
			*c.value = a
			return nil
		}
	}
	return fmt.Errorf("--%s must be %s, not %q", c.name, c.list(), s)
}

// Type is what help shows for the value: the choices.
func (c *choice[T]) Type() string {
	names := make([]string, len(c.allowed))
	for i, a := range c.allowed {
		names[i] = string(a)
	}
	return strings.Join(names, "|")
}

func (c *choice[T]) list() string {
	names := make([]string, len(c.allowed))
	for i, a := range c.allowed {
		names[i] = string(a)
	}
	if len(names) == 1 {
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}
