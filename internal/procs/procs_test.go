package procs

import (
	"os"
	"os/exec"
	"testing"
)

func TestRuns(t *testing.T) {
	if !Runs(os.Getpid()) {
		t.Fatal("the test's own process is said not to run")
	}
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	if Runs(cmd.Process.Pid) {
		t.Fatalf("process %d ended and was waited for, yet is said to run", cmd.Process.Pid)
	}
	if Runs(0) || Runs(-1) {
		t.Fatal("a pid of 0 or below is said to run")
	}
}
