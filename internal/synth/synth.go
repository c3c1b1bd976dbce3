// Package synth writes synthetic MLflow file stores of a chosen size, in the layout
// MLflow 2.x writes, for tests and benchmarks.
package synth

import (
	"bufio"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Options size a synthetic store.
type Options struct {
	Experiments int // besides Default (0); runs are spread over all of them
	Runs        int `json:"runs"`
	MetricKeys  int
	Steps       int // points per metric key
	Params      int `json:"params"`
	Tags        int
	Seed        uint64
	// ArtifactRoot is where artifacts are said to live: experiment n's location is
	// ArtifactRoot/n. Default: the store's own folder as a file URI.
	ArtifactRoot string
	// Special makes some points NaN, +Inf or -Inf and repeats some lines, to exercise
	// MLflow's sanitising and de-duplication.
	Special bool
}

// Stats is what a generated store holds, as MLflow would count it.
type Stats struct {
	Experiments int `json:"experiments"` // including Default
	Runs        int `json:"runs"`
	Params      int `json:"params"`
	Tags        int `json:"tags"`         // including mlflow.runName
	MetricLines int `json:"metric_lines"` // lines written, duplicates included
	Metrics     int `json:"metric_rows"`  // distinct metric rows after de-duplication
	LatestRows  int `json:"latest_metric_rows"`
}

// Write creates the store at root, which must not exist yet. It stops between runs
// when ctx is done.
func Write(ctx context.Context, root string, o Options) (Stats, error) {
	var st Stats
	if _, err := os.Stat(root); err == nil {
		return st, fmt.Errorf("%s already exists; give a new folder", root)
	}
	rng := rand.New(rand.NewPCG(o.Seed, o.Seed^0x9e3779b97f4a7c15))
	expIDs := []string{"0"}
	artifactRoot := o.ArtifactRoot
	if artifactRoot == "" {
		abs, err := filepath.Abs(root)
		if err != nil {
			return st, err
		}
		artifactRoot = "file://" + filepath.ToSlash(abs)
	}
	artifactRoot = strings.TrimSuffix(artifactRoot, "/")
	// Stores of other seeds are of other origins: their experiments of the same names
	// were created at other times, which is how verify tells an experiment merged by
	// name from the same one copied.
	created := 1700000000000 + int64(o.Seed%1_000_000)
	if err := writeExperiment(root, artifactRoot, "0", "Default", created); err != nil {
		return st, err
	}
	for i := 1; i <= o.Experiments; i++ {
		id := strconv.Itoa(i)
		if err := writeExperiment(root, artifactRoot, id, fmt.Sprintf("synthetic-%d", i), created); err != nil {
			return st, err
		}
		expIDs = append(expIDs, id)
	}
	st.Experiments = len(expIDs)
	if err := os.MkdirAll(filepath.Join(root, ".trash"), 0o755); err != nil {
		return st, err
	}
	for r := 0; r < o.Runs; r++ {
		if err := ctx.Err(); err != nil {
			return st, err
		}
		exp := expIDs[r%len(expIDs)]
		if err := writeRun(root, artifactRoot, exp, r, o, rng, &st); err != nil {
			return st, err
		}
	}
	return st, nil
}

func writeExperiment(root, artifactRoot, id, name string, created int64) error {
	dir := filepath.Join(root, id)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	meta := fmt.Sprintf("artifact_location: %s/%s\ncreation_time: %d\nexperiment_id: '%s'\nlast_update_time: %d\nlifecycle_stage: active\nname: %s\n",
		artifactRoot, id, created, id, created, name)
	return os.WriteFile(filepath.Join(dir, "meta.yaml"), []byte(meta), 0o644)
}

func writeRun(root, artifactRoot, exp string, n int, o Options, rng *rand.Rand, st *Stats) error {
	runID := fmt.Sprintf("%032x", uint64(n)*0x9e3779b97f4a7c15^o.Seed)
	dir := filepath.Join(root, exp, runID)
	for _, sub := range []string{"params", "tags", "metrics", "artifacts"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			return err
		}
	}
	start := int64(1700000000000 + n*1000)
	name := fmt.Sprintf("run-%d", n)
	meta := fmt.Sprintf("artifact_uri: %s/%s/%s/artifacts\nend_time: %d\nentry_point_name: ''\nexperiment_id: '%s'\nlifecycle_stage: active\nrun_id: %s\nrun_name: %s\nrun_uuid: %s\nsource_name: ''\nsource_type: 4\nsource_version: ''\nstart_time: %d\nstatus: 3\ntags: []\nuser_id: synth\n",
		artifactRoot, exp, runID, start+int64(o.Steps)+1, exp, runID, name, runID, start)
	if err := os.WriteFile(filepath.Join(dir, "meta.yaml"), []byte(meta), 0o644); err != nil {
		return err
	}
	st.Runs++
	for p := 0; p < o.Params; p++ {
		if err := os.WriteFile(filepath.Join(dir, "params", fmt.Sprintf("param_%d", p)), []byte(strconv.Itoa(rng.IntN(1000))), 0o644); err != nil {
			return err
		}
	}
	st.Params += o.Params
	if err := os.WriteFile(filepath.Join(dir, "tags", "mlflow.runName"), []byte(name), 0o644); err != nil {
		return err
	}
	for t := 0; t < o.Tags; t++ {
		if err := os.WriteFile(filepath.Join(dir, "tags", fmt.Sprintf("tag_%d", t)), []byte("value "+strconv.Itoa(t)), 0o644); err != nil {
			return err
		}
	}
	st.Tags += o.Tags + 1
	for k := 0; k < o.MetricKeys; k++ {
		if err := writeMetric(filepath.Join(dir, "metrics", fmt.Sprintf("metric_%d", k)), start, o, rng, st); err != nil {
			return err
		}
	}
	return nil
}

func writeMetric(path string, start int64, o Options, rng *rand.Rand, st *Stats) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 64*1024)
	for s := 0; s < o.Steps; s++ {
		v := rng.Float64()
		if o.Special {
			switch s % 97 {
			case 13:
				v = math.NaN()
			case 29:
				v = math.Inf(1)
			case 31:
				v = math.Inf(-1)
			}
		}
		line := formatPoint(start+int64(s), v, s)
		_, _ = w.WriteString(line) // a write error sticks; Flush reports it
		st.MetricLines++
		st.Metrics++
		if o.Special && s%101 == 7 { // an exact duplicate line, which MLflow stores once
			_, _ = w.WriteString(line)
			st.MetricLines++
		}
	}
	if o.Steps > 0 {
		st.LatestRows++
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// formatPoint writes a metric line as MLflow does (Python's str() of the value).
func formatPoint(ts int64, v float64, step int) string {
	var s string
	switch {
	case math.IsNaN(v):
		s = "nan"
	case math.IsInf(v, 1):
		s = "inf"
	case math.IsInf(v, -1):
		s = "-inf"
	default:
		s = strconv.FormatFloat(v, 'g', -1, 64)
	}
	return fmt.Sprintf("%d %s %d\n", ts, s, step)
}
