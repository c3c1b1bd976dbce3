package artifacts

import (
	"strings"
	"testing"
)

// FuzzParse: no location makes Parse panic; a location it takes is stable (its String
// parses to itself), and no stored location, however it climbs, maps outside the
// copy's root.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"s3://b/k", "gs://b/", "wasbs://c@a.blob.core.windows.net/p", "azure://c/p", "file:///tmp/x", "/a/../b", "./rel",
		"mlflow-artifacts:/1/x", "mlflow-artifacts://h:5000/1", "C:\\x", "file://host/x", "hdfs://n/x", "s3://", "wasbs://@.blob./", ""} {
		f.Add(s)
	}
	layout, err := NewLayout("s3://root-bucket/base", "mlflow-artifacts:/")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, location string) {
		p, err := Parse(location)
		if err == nil && p.Kind != "local" {
			again, err := Parse(p.String())
			if err != nil || again != p {
				t.Fatalf("%q parsed to %s, which parses to %+v (%v)", location, p, again, err)
			}
		}
		if phys, ok := layout.Physical(location); ok {
			if phys.Bucket != "root-bucket" || (phys.Prefix != "base" && !strings.HasPrefix(phys.Prefix, "base/")) {
				t.Fatalf("%q maps outside the root: %s", location, phys)
			}
			for _, seg := range strings.Split(phys.Prefix, "/") {
				if seg == ".." {
					t.Fatalf("%q maps to %s, which climbs", location, phys)
				}
			}
		}
	})
}
