// Command testsummary reads `go test -json` on stdin and prints what a person needs:
// each package's result line, the whole output of every failed test, and one closing
// line "N passed, N failed, N skipped" followed by why tests were skipped, grouped by
// reason. It exits non-zero when a test or a package failed, or when no test ran.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// event is one line of `go test -json` (test2json's TestEvent).
type event struct {
	Action  string
	Package string
	Test    string
	Output  string
}

// tally is what the stream said, once read.
type tally struct {
	passed, failed, skipped int
	// failedPackages names each package that failed, with why when no test of it
	// failed on its own (a timeout, a panic outside a test, a build error).
	failedPackages []string
	// skipReasons lists skipped tests by the reason they gave.
	skipReasons map[string][]string
	// running holds, by package, the tests that started and have not ended: a package
	// that fails with tests still running timed out or panicked in them.
	running map[string]map[string]bool
	// failedIn counts, by package, the tests that ended failed.
	failedIn map[string]int
}

func main() {
	t, err := summarize(os.Stdin, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "testsummary:", err)
		os.Exit(2)
	}
	if t.failed > 0 || len(t.failedPackages) > 0 || t.passed == 0 {
		os.Exit(1)
	}
}

// summarize reads events from r and writes the report to w.
func summarize(r io.Reader, w io.Writer) (tally, error) {
	t := tally{skipReasons: map[string][]string{}, running: map[string]map[string]bool{}, failedIn: map[string]int{}}
	outputs := map[string]*strings.Builder{} // test output so far, by package and test
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var e event
		if err := json.Unmarshal(line, &e); err != nil || e.Action == "" {
			// Build errors and other text that is not an event pass through as they are.
			fmt.Fprintln(w, string(line))
			continue
		}
		if e.Test == "" {
			t.packageEvent(w, e, outputs)
		} else {
			t.testEvent(w, e, outputs)
		}
	}
	if err := sc.Err(); err != nil {
		return t, err
	}
	for _, name := range t.failedPackages {
		fmt.Fprintf(w, "FAILED package %s\n", name)
	}
	fmt.Fprintf(w, "%d passed, %d failed, %d skipped\n", t.passed, t.failed, t.skipped)
	reasons := make([]string, 0, len(t.skipReasons))
	for reason := range t.skipReasons {
		reasons = append(reasons, reason)
	}
	sort.Strings(reasons)
	for _, reason := range reasons {
		tests := t.skipReasons[reason]
		names := strings.Join(tests[:min(len(tests), 3)], ", ")
		if len(tests) > 3 {
			names += ", …"
		}
		fmt.Fprintf(w, "  skipped %d: %s (%s)\n", len(tests), reason, names)
	}
	return t, nil
}

// skipReason is the message a skipped test gave (its output but for the === and ---
// lines go test adds, which come before or after it), with the file position taken
// off so that one reason groups many tests.
func skipReason(b *strings.Builder) string {
	if b == nil {
		return "no reason given"
	}
	var reason []string
	for _, line := range strings.Split(b.String(), "\n") {
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "=== ") || strings.HasPrefix(trimmed, "--- ") {
			continue
		}
		// "file_test.go:12: message" → "message"
		if i := strings.Index(trimmed, ": "); i > 0 && strings.Contains(trimmed[:i], ".go:") {
			trimmed = trimmed[i+2:]
		}
		reason = append(reason, trimmed)
	}
	if len(reason) == 0 {
		return "no reason given"
	}
	return strings.Join(reason, " ")
}

// packageEvent handles an event of a package as a whole.
func (t *tally) packageEvent(w io.Writer, e event, outputs map[string]*strings.Builder) {
	switch e.Action {
	case "output":
		// A package's own lines: "ok ...", "FAIL ...", panics outside a test.
		if !strings.HasPrefix(e.Output, "PASS") && !strings.HasPrefix(e.Output, "FAIL\n") {
			fmt.Fprint(w, e.Output)
		}
	case "fail":
		t.packageFailed(w, e.Package, outputs)
	}
	// "skip" is a package without tests; "pass", "start" and "run" say nothing to count.
}

// packageFailed counts a failed package. A test that never ended (a panic, a timeout)
// is counted failed and shown with its package; a package whose failure no test
// carries (a build error, a panic in TestMain or init) counts as one failure, so that the
// closing line can never say 0 failed after one.
func (t *tally) packageFailed(w io.Writer, pkg string, outputs map[string]*strings.Builder) {
	why := ""
	if unfinished := t.running[pkg]; len(unfinished) > 0 {
		names := make([]string, 0, len(unfinished))
		for name := range unfinished {
			names = append(names, name)
		}
		sort.Strings(names)
		// Subtests run inside their parent: count the outermost tests only.
		top := 0
		for _, name := range names {
			if !strings.Contains(name, "/") {
				top++
			}
		}
		t.failed += max(top, 1)
		t.failedIn[pkg] += max(top, 1)
		why = " (did not finish: " + strings.Join(names[:min(len(names), 3)], ", ") + ")"
		delete(t.running, pkg)
	} else if t.failedIn[pkg] == 0 {
		t.failed++
		why = " (no test failed: a build error, a panic outside a test, or a timeout)"
	}
	t.failedPackages = append(t.failedPackages, pkg+why)
	for k, b := range outputs {
		if strings.HasPrefix(k, pkg+"\x00") {
			fmt.Fprint(w, b.String())
			delete(outputs, k)
		}
	}
}

// testEvent handles an event of one test: its output is held until it ends, and shown
// when it fails.
func (t *tally) testEvent(w io.Writer, e event, outputs map[string]*strings.Builder) {
	key := e.Package + "\x00" + e.Test
	switch e.Action {
	case "run":
		if t.running[e.Package] == nil {
			t.running[e.Package] = map[string]bool{}
		}
		t.running[e.Package][e.Test] = true
	case "output":
		b := outputs[key]
		if b == nil {
			b = &strings.Builder{}
			outputs[key] = b
		}
		b.WriteString(e.Output)
	case "pass":
		t.passed++
		delete(t.running[e.Package], e.Test)
		delete(outputs, key)
	case "skip":
		t.skipped++
		delete(t.running[e.Package], e.Test)
		reason := skipReason(outputs[key])
		t.skipReasons[reason] = append(t.skipReasons[reason], e.Test)
		delete(outputs, key)
	case "fail":
		t.failed++
		t.failedIn[e.Package]++
		delete(t.running[e.Package], e.Test)
		if b := outputs[key]; b != nil {
			fmt.Fprint(w, b.String())
		}
		delete(outputs, key)
	}
}
