package sources_test

import (
	"strings"
	"testing"

	"github.com/mlflow-bulk/mlflow-bulk/sources"
)

// TestEachText: every text of a record is visited with its path; where a record was
// read (Origin), links between records (check:"-") and bytes are not.
func TestEachText(t *testing.T) {
	d := &sources.Dataset{Key: "k", Name: "n", Digest: "d", Origin: sources.Origin{File: "f"}}
	var seen []string
	err := sources.EachText("dataset", d, func(path, text string) error {
		seen = append(seen, path+"="+text)
		return nil
	})
	got := strings.Join(seen, ",")
	if err != nil || !strings.Contains(got, "dataset.Name=n") || !strings.Contains(got, "dataset.Digest=d") || strings.Contains(got, "Key") || strings.Contains(got, "=f") {
		t.Errorf("visited %s, %v", got, err)
	}
	run := &sources.Run{Params: []sources.Tag{{Key: "a", Value: "1"}}}
	var paths []string
	_ = sources.EachText("run", run, func(path, _ string) error { paths = append(paths, path); return nil })
	if !strings.Contains(strings.Join(paths, ","), "run.Params[0].Value") {
		t.Errorf("paths %v", paths)
	}
}
