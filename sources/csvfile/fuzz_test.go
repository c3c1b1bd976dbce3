package csvfile

import (
	"testing"
	"time"
)

// FuzzStrftimeLayout: a strftime format mlflow-bulk accepts becomes a Go layout that
// formats a time to text it parses back.
func FuzzStrftimeLayout(f *testing.F) {
	for _, seed := range []string{"%d-%m-%Y %H:%M", "%Y-%m-%dT%H:%M:%S.%f%z", "%b %d %y %I:%M %p", "%%", "%", "%Q"} {
		f.Add(seed)
	}
	when := time.Date(2026, 12, 7, 15, 4, 5, 123456000, time.UTC)
	f.Fuzz(func(t *testing.T, format string) {
		layout, err := strftimeLayout(format)
		if err != nil {
			return
		}
		if _, err := time.Parse(layout, when.Format(layout)); err != nil {
			t.Fatalf("%q: layout %q does not read back what it wrote: %v", format, layout, err)
		}
	})
}
