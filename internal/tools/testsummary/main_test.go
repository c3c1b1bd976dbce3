package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestSummaryCountsAndGroupsSkips feeds a stream as `go test -json` writes it: one pass,
// two skips for one reason, one failure; the closing line counts them, the reason is
// given once with its count, and the failed test's output is shown.
func TestSummaryCountsAndGroupsSkips(t *testing.T) {
	stream := `{"Action":"run","Package":"p","Test":"TestA"}
{"Action":"output","Package":"p","Test":"TestA","Output":"=== RUN   TestA\n"}
{"Action":"pass","Package":"p","Test":"TestA"}
{"Action":"output","Package":"p","Test":"TestB","Output":"=== RUN   TestB\n"}
{"Action":"output","Package":"p","Test":"TestB","Output":"    b_test.go:9: sample folder missing (CI=true makes this a failure)\n"}
{"Action":"output","Package":"p","Test":"TestB","Output":"--- SKIP: TestB (0.00s)\n"}
{"Action":"skip","Package":"p","Test":"TestB"}
{"Action":"output","Package":"p","Test":"TestC","Output":"--- SKIP: TestC (0.00s)\n"}
{"Action":"output","Package":"p","Test":"TestC","Output":"    c_test.go:3: sample folder missing (CI=true makes this a failure)\n"}
{"Action":"skip","Package":"p","Test":"TestC"}
{"Action":"output","Package":"p","Test":"TestD","Output":"    d_test.go:4: the rows differ\n"}
{"Action":"fail","Package":"p","Test":"TestD"}
{"Action":"output","Package":"q","Output":"?   \tq\t[no test files]\n"}
{"Action":"skip","Package":"q"}
{"Action":"output","Package":"p","Output":"FAIL\tp\t0.1s\n"}
{"Action":"fail","Package":"p"}
`
	var out bytes.Buffer
	got, err := summarize(strings.NewReader(stream), &out)
	if err != nil {
		t.Fatal(err)
	}
	if got.passed != 1 || got.failed != 1 || got.skipped != 2 || len(got.failedPackages) != 1 {
		t.Errorf("tally %+v", got)
	}
	for _, want := range []string{
		"1 passed, 1 failed, 2 skipped\n",
		"  skipped 2: sample folder missing (CI=true makes this a failure) (TestB, TestC)\n",
		"d_test.go:4: the rows differ",
		"FAIL\tp\t0.1s",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

// TestSummaryPassesBuildErrorsThrough: text that is not an event (a compile error) is
// shown as it came.
func TestSummaryPassesBuildErrorsThrough(t *testing.T) {
	var out bytes.Buffer
	if _, err := summarize(strings.NewReader("# p\n./x.go:1: undefined: y\n"), &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "./x.go:1: undefined: y") || !strings.Contains(out.String(), "0 passed, 0 failed, 0 skipped") {
		t.Errorf("output:\n%s", out.String())
	}
}

// TestSummaryCountsATimedOutPackage: a package killed by its timeout ends with tests that
// started and never ended and no test "fail" event; the closing line counts them failed
// and the package is named.
func TestSummaryCountsATimedOutPackage(t *testing.T) {
	stream := `{"Action":"run","Package":"p","Test":"TestA"}
{"Action":"pass","Package":"p","Test":"TestA"}
{"Action":"run","Package":"p","Test":"TestKill"}
{"Action":"run","Package":"p","Test":"TestKill/sqlite"}
{"Action":"output","Package":"p","Test":"TestKill/sqlite","Output":"panic: test timed out after 20m0s\n"}
{"Action":"output","Package":"p","Output":"FAIL\tp\t1200.0s\n"}
{"Action":"fail","Package":"p"}
`
	var out bytes.Buffer
	got, err := summarize(strings.NewReader(stream), &out)
	if err != nil {
		t.Fatal(err)
	}
	if got.passed != 1 || got.failed != 1 {
		t.Errorf("tally %+v", got)
	}
	for _, want := range []string{"1 passed, 1 failed, 0 skipped\n", "FAILED package p (did not finish: TestKill, TestKill/sqlite)", "panic: test timed out"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

// TestSummaryCountsAPackageThatFailedOutsideTests: a build error or a panic in TestMain
// fails a package with no test event at all; it still counts as a failure.
func TestSummaryCountsAPackageThatFailedOutsideTests(t *testing.T) {
	stream := `{"Action":"run","Package":"q","Test":"TestA"}
{"Action":"pass","Package":"q","Test":"TestA"}
{"Action":"output","Package":"p","Output":"FAIL\tp [build failed]\n"}
{"Action":"fail","Package":"p"}
`
	var out bytes.Buffer
	got, err := summarize(strings.NewReader(stream), &out)
	if err != nil {
		t.Fatal(err)
	}
	if got.failed != 1 || !strings.Contains(out.String(), "1 passed, 1 failed, 0 skipped\n") || !strings.Contains(out.String(), "FAILED package p (no test failed") {
		t.Errorf("tally %+v, output:\n%s", got, out.String())
	}
}
