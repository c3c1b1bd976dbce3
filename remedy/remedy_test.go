package remedy_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/mlflow-bulk/mlflow-bulk/remedy"
)

const (
	skip   remedy.Option = "lib.Options.Skip"
	policy remedy.Option = "lib.Options.Policy"
	format remedy.Option = "lib.Options.Format"
)

func flag(o remedy.Option) string {
	return map[remedy.Option]string{skip: "--skip", policy: "--policy", format: "--format"}[o]
}

func TestRender(t *testing.T) {
	base := errors.New("the run is bad")
	inner := remedy.With(fmt.Errorf("param p differs: %w", base), remedy.Remedy{Option: policy, Value: "keep", Does: "to keep the target's"})
	outer := remedy.With(fmt.Errorf("file f: %w\nNothing was committed", inner), remedy.Remedy{Option: skip, Does: "to leave it out"})
	got := remedy.Render(fmt.Errorf("import: %w", outer), flag)
	want := "import: file f: param p differs: the run is bad\nNothing was committed\nRe-run with --skip to leave it out, or with --policy keep to keep the target's."
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if !errors.Is(outer, base) {
		t.Error("the remedies hide the error they wrap")
	}
	if strings.Contains(outer.Error(), "--") || strings.Contains(outer.Error(), "Re-run") {
		t.Errorf("the error's own text words its remedies: %s", outer.Error())
	}
	if rs := remedy.Of(errors.Join(inner, inner)); len(rs) != 1 {
		t.Errorf("a remedy twice in the chain is listed %d times", len(rs))
	}
	if remedy.With(nil, remedy.Remedy{Option: skip}) != nil {
		t.Error("With(nil) is not nil")
	}
}

func TestRenderValue(t *testing.T) {
	err := fmt.Errorf("open x.csv: %w", remedy.Value(format, "%Q", errors.New("%Q is not a directive")))
	if got, want := remedy.Render(err, flag), `open x.csv: --format "%Q": %Q is not a directive`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	if got := err.Error(); !strings.Contains(got, string(format)) {
		t.Errorf("a Go caller's text does not name the option: %s", got)
	}
}
