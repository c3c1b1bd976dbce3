package importer_test

import (
	"os"
	"path/filepath"
	"testing"
)

// TestMain removes what the tests leave outside their own temporary folders: the
// mlflow-bulk binary built for the tests that run it as a process.
func TestMain(m *testing.M) {
	code := m.Run()
	if binaryPath != "" {
		_ = os.RemoveAll(filepath.Dir(binaryPath)) // the folder binary() made for it
	}
	os.Exit(code)
}
