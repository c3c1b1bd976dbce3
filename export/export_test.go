package export_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/mlflow-bulk/mlflow-bulk/drivers/all"
	"github.com/mlflow-bulk/mlflow-bulk/export"
	"github.com/mlflow-bulk/mlflow-bulk/sources"
	"github.com/mlflow-bulk/mlflow-bulk/sources/database"
	"github.com/mlflow-bulk/mlflow-bulk/sources/formats"
	"github.com/mlflow-bulk/mlflow-bulk/sources/sourcetest"
)

const fixture = "../testdata/mlruns"

// stream reads a source to its end, each record as its type and JSON (what a dump
// keeps), one line per metric point, sorted: sources may order and chunk records
// differently (a dump streams a run's metrics as one record), never change them.
func stream(t *testing.T, location string) []string {
	t.Helper()
	src, err := formats.Open(context.Background(), location, formats.Options{Database: database.Options{Drivers: all.Registry()}})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var out []string
	for src.Next() {
		if m, ok := src.Record().(*sources.Metrics); ok {
			for _, p := range m.Points {
				// %+v, not JSON: values may be NaN or ±Inf.
				out = append(out, fmt.Sprintf("metric %s %+v", m.RunID, p))
			}
			continue
		}
		b, err := json.Marshal(src.Record())
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%T %s", src.Record(), b))
	}
	if err := src.Err(); err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

func exportFixture(t *testing.T, opts export.Options) (string, *export.Report) {
	t.Helper()
	src, err := formats.Open(context.Background(), fixture, formats.Options{Database: database.Options{Drivers: all.Registry()}})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dir := filepath.Join(t.TempDir(), "dump")
	report, err := export.Write(context.Background(), src, dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	return dir, report
}

// TestDumpStreamsTheSameRecords: reading a dump gives back exactly the records the
// exported source gave, compressed or not.
func TestDumpStreamsTheSameRecords(t *testing.T) {
	want := stream(t, fixture)
	if len(want) == 0 {
		t.Fatal("the fixture streamed nothing")
	}
	for _, gz := range []bool{false, true} {
		t.Run(fmt.Sprintf("gzip=%v", gz), func(t *testing.T) {
			dir, report := exportFixture(t, export.Options{Gzip: gz})
			got := stream(t, dir)
			if len(got) != len(want) {
				t.Fatalf("%d records back, want %d", len(got), len(want))
			}
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("record %d:\n got %s\nwant %s", i, got[i], want[i])
				}
			}
			if report.Counts["runs"] == 0 || report.Counts["metrics"] == 0 {
				t.Errorf("report counts %v", report.Counts)
			}
			entries, _ := os.ReadDir(dir)
			for _, e := range entries {
				if gz && e.Name() != "manifest.json" && !strings.HasSuffix(e.Name(), ".gz") {
					t.Errorf("%s is not compressed", e.Name())
				}
			}
		})
	}
}

func TestDumpConformance(t *testing.T) {
	dir, _ := exportFixture(t, export.Options{})
	sourcetest.Run(t, func(t *testing.T, ctx context.Context) sources.Source {
		src, err := formats.Open(ctx, dir, formats.Options{Database: database.Options{Drivers: all.Registry()}})
		if err != nil {
			t.Fatal(err)
		}
		return src
	})
}

// TestExportRefusesAFullFolder: an export never mixes with files already there.
func TestExportRefusesAFullFolder(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "keep.txt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	src, err := formats.Open(context.Background(), fixture, formats.Options{Database: database.Options{Drivers: all.Registry()}})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if _, err := export.Write(context.Background(), src, dir, export.Options{}); err == nil {
		t.Fatal("export into a folder with files in it succeeded")
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "keep.txt")); string(b) != "x" {
		t.Error("the file already there was changed")
	}
}

// TestTextThatIsNotUTF8: an export refuses a record whose text JSON could not carry
// unchanged, naming the field; reading back a dump whose text is not UTF-8 (a raw byte,
// or the \u escape of a lone surrogate) is invalid input naming file and line, never a
// U+FFFD that would make two names one.
func TestTextThatIsNotUTF8(t *testing.T) {
	src := sources.FromRecords("records", []sources.Record{
		&sources.Experiment{SourceID: "1", Name: "ok", LifecycleStage: sources.LifecycleActive},
		&sources.Run{RunID: strings.Repeat("a", 32), ExperimentSourceID: "1", Status: sources.StatusFinished, LifecycleStage: sources.LifecycleActive,
			Params: []sources.Tag{{Key: "p", Value: "a\xffb"}}},
	})
	parent := t.TempDir()
	_, err := export.Write(context.Background(), src, filepath.Join(parent, "dump"), export.Options{})
	if err == nil || !strings.Contains(err.Error(), "runs.Params[0].Value") || !strings.Contains(err.Error(), "not UTF-8") {
		t.Errorf("export of a param that is not UTF-8: %v", err)
	}
	// A refused export leaves nothing behind: neither the dump nor its partial folder.
	if left, _ := os.ReadDir(parent); len(left) != 0 {
		t.Errorf("a refused export left %v", left)
	}

	dir, _ := exportFixture(t, export.Options{})
	path := filepath.Join(dir, "experiments.jsonl")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	for _, bad := range []string{`\udcff`, "\xff"} {
		changed := append([]string{}, lines...)
		changed[len(changed)-1] = strings.Replace(changed[len(changed)-1], `"name":"`, `"name":"exp`+bad, 1)
		if err := os.WriteFile(path, []byte(strings.Join(changed, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		s, err := formats.Open(context.Background(), dir, formats.Options{Database: database.Options{Drivers: all.Registry()}})
		if err != nil {
			t.Fatal(err)
		}
		var inErr *sources.InputError
		for s.Next() {
			if inv, ok := s.Record().(*sources.Invalid); ok && inErr == nil {
				inErr = inv.Err
			}
		}
		if inErr == nil {
			errors.As(s.Err(), &inErr)
		}
		s.Close()
		if inErr == nil || inErr.File != path || inErr.Line != len(changed) {
			t.Errorf("%q in a dump's experiment name: %v (want %s line %d)", bad, inErr, path, len(changed))
		}
	}
}
