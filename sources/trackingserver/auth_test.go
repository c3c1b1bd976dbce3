package trackingserver

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func getenv(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

// TestConnect: credentials are read where MLflow's client reads them, the variables
// before the URI's, and the base URL keeps no secret.
func TestConnect(t *testing.T) {
	header := func(c *connection) string {
		r, _ := http.NewRequest(http.MethodGet, "http://x", nil)
		if c.auth != nil {
			_ = c.auth(r, nil)
		}
		return r.Header.Get("Authorization")
	}
	c, err := connect(context.Background(), "https://ana:pw@mlflow.example:8443/prefix/?x=1", Options{Getenv: getenv(nil)})
	if err != nil {
		t.Fatal(err)
	}
	if c.base.String() != "https://mlflow.example:8443/prefix/" || header(c) != "Basic YW5hOnB3" {
		t.Errorf("URI credentials: base %s, header %q", c.base, header(c))
	}
	c, err = connect(context.Background(), "http://h:5000", Options{Getenv: getenv(map[string]string{"MLFLOW_TRACKING_TOKEN": "tok", "MLFLOW_TRACKING_USERNAME": "u"})})
	if err != nil || header(c) != "Bearer tok" {
		t.Errorf("a token wins over a user: %q, %v", header(c), err)
	}
	c, err = connect(context.Background(), "http://h:5000", Options{Getenv: getenv(map[string]string{"MLFLOW_TRACKING_INSECURE_TLS": "true"})})
	if err != nil || c.tls == nil || !c.tls.InsecureSkipVerify {
		t.Errorf("MLFLOW_TRACKING_INSECURE_TLS: %+v, %v", c.tls, err)
	}
	if _, err := connect(context.Background(), "http://h", Options{Getenv: getenv(map[string]string{"MLFLOW_TRACKING_SERVER_CERT_PATH": filepath.Join(t.TempDir(), "none.pem")})}); err == nil {
		t.Error("a missing server certificate is accepted")
	}
	c, err = connect(context.Background(), "databricks", Options{Getenv: getenv(map[string]string{"DATABRICKS_HOST": "adb-1.azuredatabricks.net", "DATABRICKS_TOKEN": "dapi1"})})
	if err != nil || c.base.String() != "https://adb-1.azuredatabricks.net" || header(c) != "Bearer dapi1" {
		t.Errorf("databricks from the environment: %v, %q, %v", c.base, header(c), err)
	}
	cfg := filepath.Join(t.TempDir(), "databrickscfg")
	if err := os.WriteFile(cfg, []byte("[DEFAULT]\nhost = https://a.cloud.databricks.com\ntoken = d1\n\n[prod]\n# comment\nhost = b.cloud.databricks.com\ntoken = d2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err = connect(context.Background(), "databricks://prod", Options{Getenv: getenv(map[string]string{"DATABRICKS_CONFIG_FILE": cfg})})
	if err != nil || c.base.String() != "https://b.cloud.databricks.com" || header(c) != "Bearer d2" {
		t.Errorf("databricks://prod: %v, %q, %v", c.base, header(c), err)
	}
	if _, err = connect(context.Background(), "databricks://missing", Options{Getenv: getenv(map[string]string{"DATABRICKS_CONFIG_FILE": cfg})}); err == nil || !strings.Contains(err.Error(), "profile missing") {
		t.Errorf("a missing profile: %v", err)
	}
}

// FuzzReadProfile: any file reads without a panic, and a profile written plainly reads
// back.
func FuzzReadProfile(f *testing.F) {
	for _, seed := range []string{"[DEFAULT]\nhost = h\ntoken = t\n", "[p]\n;x\n#y\nhost=h", "[", "]\n=\n[ p ]\nk = v = w"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, text string) {
		values, err := readProfile(strings.NewReader(text), "p")
		if err != nil {
			return
		}
		for k := range values {
			if k != strings.TrimSpace(k) {
				t.Fatalf("key %q not trimmed", k)
			}
		}
		if !strings.ContainsAny(text, "\r") && !strings.Contains(text, "[p]") {
			again, err := readProfile(strings.NewReader(text+"\n[p]\nhost = the-host\n"), "p")
			if err != nil || again["host"] != "the-host" {
				t.Fatalf("an appended profile reads as %v, %v", again, err)
			}
		}
	})
}

// FuzzDurationMillis: any text reads without a panic, and a duration written as
// protobuf's JSON writes one reads back to its milliseconds.
func FuzzDurationMillis(f *testing.F) {
	for _, seed := range []string{"1.450s", "0s", "-2.5s", "3.000000001s", "s", "1.2.3s", "9223372036854775807s"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, text string) {
		_, _ = durationMillis(text)
		if ms, err := strconv.ParseInt(text, 10, 32); err == nil && ms >= 0 {
			written := fmt.Sprintf("%d.%03ds", ms/1000, ms%1000)
			if got, ok := durationMillis(written); !ok || got != ms {
				t.Fatalf("%q read as %d, %v; want %d", written, got, ok, ms)
			}
		}
	})
}
