// Package remedy lets a library say which of its options would get past an error, or
// which option's value an error is about, without knowing how its caller spells options:
// the command line names its flags, a Go program reads the option's Go name. Libraries
// wrap their errors with With or Value; the command words them (Sentence, Render).
package remedy

import (
	"errors"
	"fmt"
	"strings"
)

// Option names an option of a library as Go spells it ("importer.Options.SkipInvalid").
type Option string

// Remedy is an option that would get past an error: set to Value ("" for a switch), it
// does what Does says ("to import everything else").
type Remedy struct {
	Option Option
	Value  string
	Does   string
}

// Error is an error that the remedies would get past. Its text is the error's alone.
type Error struct {
	Err      error
	Remedies []Remedy
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// With wraps err with the remedies that would get past it; nil stays nil.
func With(err error, remedies ...Remedy) error {
	if err == nil {
		return nil
	}
	return &Error{Err: err, Remedies: remedies}
}

// ValueError is an error in the value given to an option.
type ValueError struct {
	Option Option
	Value  string
	Err    error
}

func (e *ValueError) Error() string { return fmt.Sprintf("%s %q: %v", e.Option, e.Value, e.Err) }
func (e *ValueError) Unwrap() error { return e.Err }

// Value reports err as one in the value given to option.
func Value(option Option, value string, err error) error {
	return &ValueError{Option: option, Value: value, Err: err}
}

// Of lists the remedies of err and of every error it wraps, outermost first, each once.
func Of(err error) []Remedy {
	var out []Remedy
	seen := map[Remedy]bool{}
	var walk func(error)
	walk = func(err error) {
		if err == nil {
			return
		}
		if e, ok := err.(*Error); ok { //nolint:errorlint // the walk below visits every error of the chain
			for _, r := range e.Remedies {
				if !seen[r] {
					seen[r] = true
					out = append(out, r)
				}
			}
		}
		switch u := err.(type) { //nolint:errorlint // unwraps one level: the walk is the chain
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				walk(e)
			}
		}
	}
	walk(err)
	return out
}

// Sentence words remedies, each option named by name: "Re-run with --a x to …, or with
// --b to …." It is empty for none.
func Sentence(remedies []Remedy, name func(Option) string) string {
	parts := make([]string, 0, len(remedies))
	for _, r := range remedies {
		p := name(r.Option)
		if r.Value != "" {
			p += " " + r.Value
		}
		if r.Does != "" {
			p += " " + r.Does
		}
		parts = append(parts, p)
	}
	if len(parts) == 0 {
		return ""
	}
	return "Re-run with " + strings.Join(parts, ", or with ") + "."
}

// Render is err's text in the caller's terms: an error in an option's value names the
// option as name does, and the remedies follow on a line of their own.
func Render(err error, name func(Option) string) string {
	text := strings.TrimSpace(err.Error())
	var ve *ValueError
	if errors.As(err, &ve) {
		// The value error's own text names the option as Go does: name it again.
		text = strings.Replace(text, ve.Error(), fmt.Sprintf("%s %q: %v", name(ve.Option), ve.Value, ve.Err), 1)
	}
	if s := Sentence(Of(err), name); s != "" {
		text += "\n" + s
	}
	return text
}

// Mention is how a library's text (a report's note) names one of its options: the Go
// name in backquotes, which a caller words in its own terms (Word).
func Mention(o Option) string { return "`" + string(o) + "`" }

// Word replaces, in text, the mention of each option of names by its words.
func Word(text string, names map[Option]string) string {
	if !strings.Contains(text, "`") {
		return text
	}
	for o, words := range names {
		text = strings.ReplaceAll(text, Mention(o), words)
	}
	return text
}
