package export_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlflow-bulk/mlflow-bulk/drivers/all"
	"github.com/mlflow-bulk/mlflow-bulk/export"
	"github.com/mlflow-bulk/mlflow-bulk/internal/testenv"
	"github.com/mlflow-bulk/mlflow-bulk/sources/database"
	"github.com/mlflow-bulk/mlflow-bulk/sources/formats"
)

// goldenDumps are dumps version 1 of the format wrote, kept as they were written
// (sources/dump/testdata/v1), with the source each was exported from: a fixture of this
// repository, or a real sample read in place ("" sample: the fixture).
var goldenDumps = []struct {
	name, sample, fixture string
	gzip                  bool
}{
	{name: "fixture-mlruns", fixture: fixture},
	{name: "registry-aliases", sample: "shisian512-registry-aliases/mlruns"},
	{name: "datasets", sample: "khangtt-zoomcamp-datasets-mlflow2/mlruns"},
	{name: "traces", sample: "janzheng-groq-traces/mlruns"},
	{name: "database-mlflow3", sample: "sqlite-bloodglucose-mlflow3/mlflow/mlflow.db", gzip: true},
}

const goldenDir = "../sources/dump/testdata/v1"

func goldenSource(t *testing.T, g struct {
	name, sample, fixture string
	gzip                  bool
}) string {
	if g.sample == "" {
		return g.fixture
	}
	return testenv.Sample(t, g.sample)
}

// TestGoldenDumpsReadBack: a dump an earlier mlflow-bulk wrote reads back as exactly
// what its source holds, record for record, so that dumps users keep stay readable.
func TestGoldenDumpsReadBack(t *testing.T) {
	for _, g := range goldenDumps {
		t.Run(g.name, func(t *testing.T) {
			want := withoutNotices(stream(t, goldenSource(t, g)))
			got := withoutNotices(stream(t, filepath.Join(goldenDir, g.name)))
			if len(got) != len(want) {
				t.Fatalf("the dump reads as %d records and points, its source as %d", len(got), len(want))
			}
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("record %d differs:\n dump:   %s\n source: %s", i, got[i], want[i])
				}
			}
		})
	}
}

// TestExportWritesTheGoldenFormat: exporting the same sources today writes the same
// files, line for line (the manifest but for when and from where), so that a renamed or
// added field cannot change the format users keep on disk unnoticed. A change on
// purpose is a new version of the format: bump dump.Version, keep reading version 1
// (its golden dumps stay), and write new golden dumps beside them.
func TestExportWritesTheGoldenFormat(t *testing.T) {
	for _, g := range goldenDumps {
		t.Run(g.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "dump")
			src, err := formats.Open(context.Background(), goldenSource(t, g), formats.Options{Database: database.Options{Drivers: all.Registry()}})
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			if _, err := export.Write(context.Background(), src, dir, export.Options{Gzip: g.gzip}); err != nil {
				t.Fatal(err)
			}
			golden, err := os.ReadDir(filepath.Join(goldenDir, g.name))
			if err != nil {
				t.Fatal(err)
			}
			written, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			if len(written) != len(golden) {
				t.Errorf("%d files written, the golden dump has %d", len(written), len(golden))
			}
			for _, f := range golden {
				want := readDumpFile(t, filepath.Join(goldenDir, g.name, f.Name()))
				got := readDumpFile(t, filepath.Join(dir, f.Name()))
				if f.Name() == "manifest.json" {
					want, got = manifestWithoutProvenance(t, want), manifestWithoutProvenance(t, got)
				}
				if !bytes.Equal(got, want) {
					t.Errorf("%s differs from the golden dump's", f.Name())
				}
			}
		})
	}
}

// withoutNotices leaves out what a source says of itself (its revision, how it is
// read), which is no data a dump keeps.
func withoutNotices(records []string) []string {
	var out []string
	for _, r := range records {
		if !strings.HasPrefix(r, "*sources.Notice ") {
			out = append(out, r)
		}
	}
	return out
}

// readDumpFile reads a file of a dump, gunzipped.
func readDumpFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Ext(path) != ".gz" {
		return data
	}
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return plain
}

// manifestWithoutProvenance is a manifest without when and from where it was written.
func manifestWithoutProvenance(t *testing.T, data []byte) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	delete(m, "created_ms")
	delete(m, "source")
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
