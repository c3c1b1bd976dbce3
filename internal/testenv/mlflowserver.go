package testenv

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
)

// MLflowServer starts MLflow's own tracking server (../shared/mlflow-server, its Flask
// handlers under gunicorn) over the database at backendURI, on a free loopback port, and
// returns its URL; it is stopped when the test ends. The server upgrades an older
// database as it starts: give it a copy. args are more of `mlflow server`'s flags
// (--workers 3, say: one gunicorn worker serves one request at a time, and waits out a
// request its client abandoned).
func MLflowServer(t testing.TB, backendURI string, args ...string) string {
	t.Helper()
	run := filepath.Join(filepath.Dir(ModuleRoot(t)), "shared", "mlflow-server", "run")
	if _, err := os.Stat(run); err != nil {
		unavailable(t, "MLflow's tracking server not found at ../shared/mlflow-server: put the shared folder beside this checkout")
	}
	dir := t.TempDir()
	log, err := os.Create(filepath.Join(dir, "server.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	for attempt := 1; ; attempt++ {
		port := freePort(t)
		cmd := exec.Command(run, append([]string{"--port", port, "--backend-store-uri", backendURI, "--artifacts-destination", filepath.Join(dir, "artifacts")}, args...)...)
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // gunicorn's master and worker go with it
		cmd.Stdout, cmd.Stderr = log, log
		if err := cmd.Start(); err != nil {
			t.Fatalf("start MLflow's server: %v", err)
		}
		stop := func() {
			// The whole group at once: gunicorn's graceful stop (SIGTERM) waits up to 30 s
			// for a worker still on a request its client abandoned.
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			_ = cmd.Wait()
		}
		url := "http://127.0.0.1:" + port
		out, err := exec.Command(run, "--wait-ready", url, "--timeout", "120", "--pid", strconv.Itoa(cmd.Process.Pid)).CombinedOutput()
		if err == nil {
			t.Cleanup(stop)
			return url
		}
		stop()
		if attempt == 3 { // a port taken between choosing and binding it is retried
			logText, _ := os.ReadFile(log.Name())
			t.Fatalf("MLflow's server did not start: %v\n%s\n%s", err, out, logText)
		}
	}
}

func freePort(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}
