package dburi

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
)

func TestParseMLflowForms(t *testing.T) {
	t.Parallel()
	cases := []struct {
		raw, scheme, path, host, db string
	}{
		{"postgresql://u:pw@db.example:5432/mlflow", "postgresql", "", "db.example:5432", "/mlflow"},
		{"postgresql+psycopg2://u:pw@h/mlflow", "postgresql", "", "h", "/mlflow"},
		{"mysql+pymysql://u:pw@h:3306/mlflow", "mysql", "", "h:3306", "/mlflow"},
		{"mariadb://u@h/mlflow", "mariadb", "", "h", "/mlflow"},
		{"sqlite:///mlflow.db", "sqlite", "mlflow.db", "", ""},
		{"sqlite:////var/lib/mlflow.db", "sqlite", "/var/lib/mlflow.db", "", ""},
		{"sqlite:///mlflow.db?mode=ro", "sqlite", "mlflow.db", "", ""},
		{"runs/mlflow.db", "sqlite", "runs/mlflow.db", "", ""},
	}
	for _, c := range cases {
		u, err := Parse(c.raw)
		if err != nil {
			t.Errorf("%s: %v", c.raw, err)
			continue
		}
		if u.Scheme != c.scheme || u.Path != c.path {
			t.Errorf("%s: scheme %q path %q, want %q %q", c.raw, u.Scheme, u.Path, c.scheme, c.path)
		}
		if c.host != "" && (u.URL.Host != c.host || u.URL.Path != c.db) {
			t.Errorf("%s: host %q db %q, want %q %q", c.raw, u.URL.Host, u.URL.Path, c.host, c.db)
		}
	}
	for _, bad := range []string{"", "sqlite://", "sqlite:///"} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("%q: parsed, want an error", bad)
		}
	}
}

func TestRedactNeverShowsThePassword(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ raw, pw string }{
		{"postgresql://u:s3cret@h:5432/db", "s3cret"},
		{"mysql+pymysql://u:p@ss@h/db", "p@ss"},
		{"postgresql://u:pa/ss@h/db", "pa/ss"},
		{"postgresql://u:pa?ss@h/db?sslmode=disable", "pa?ss"},
		{"postgresql://u:p%40ss@h/db", "p%40ss"},
		{"postgresql://u:bad%zz@h/db", "bad%zz"}, // url.Parse rejects it
	} {
		got := Redact(c.raw)
		if strings.Contains(got, c.pw) || !strings.Contains(got, "xxxxx") {
			t.Errorf("Redact(%q) = %q", c.raw, got)
		}
		if _, err := Parse(c.raw); err != nil && strings.Contains(err.Error(), c.pw) {
			t.Errorf("Parse(%q) error shows the password: %v", c.raw, err)
		}
	}
	for _, raw := range []string{"postgresql://u@h/db", "postgresql://h/db", "sqlite:///x.db"} {
		if got := Redact(raw); got != raw {
			t.Errorf("Redact(%q) = %q, want it unchanged", raw, got)
		}
	}
	u, _ := Parse("postgresql+psycopg2://u:pw@h:5/db?sslmode=disable")
	if got := u.PostgresURL(); got != "postgres://u:pw@h:5/db?sslmode=disable" {
		t.Errorf("PostgresURL = %s", got)
	}
}

func TestRedactQueryPasswords(t *testing.T) {
	t.Parallel()
	for _, raw := range []string{
		"postgresql://u@h/db?password=S3cret",
		"postgresql://u@h/db?sslmode=bogus&password=S3cret",
		"postgresql://u@h/db?password=S3cret&sslmode=bogus",
		"postgresql://u@h/db?sslpassword=S3cret",
		"mysql://u@h/db?password=S3cret&charset=utf8mb4",
		"mysql+pymysql://u@h/db?Passwd=S3cret",
	} {
		if got := Redact(raw); strings.Contains(got, "S3cret") || !strings.Contains(got, "xxxxx") {
			t.Errorf("Redact(%q) = %q", raw, got)
		}
		u, err := Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		cause := errors.New("boom")
		wrapped := fmt.Errorf("outer: %w", u.RedactError(fmt.Errorf("cannot parse `%s`: unsupported option password=S3cret: %w", raw, cause)))
		if strings.Contains(wrapped.Error(), "S3cret") || !errors.Is(wrapped, cause) {
			t.Errorf("%s: %v (chain kept: %v)", raw, wrapped, errors.Is(wrapped, cause))
		}
	}
	if got := Redact("postgresql://u@h/db?sslmode=disable&application_name=x"); got != "postgresql://u@h/db?sslmode=disable&application_name=x" {
		t.Errorf("a query without secrets changed: %s", got)
	}
}

// TestMalformedURIs: what MLflow would not take as a database URI is a usage error that
// names the forms it takes, never a file named after the mistake or a server's default
// database.
func TestMalformedURIs(t *testing.T) {
	t.Parallel()
	for raw, want := range map[string]string{
		"":                                "empty",
		"postgres:/x":                     "one slash",
		"sqlite:/one.db":                  "one slash",
		"sqlite://rel.db":                 "two slashes",
		"postgersql://u@h/db":             "unknown database scheme",
		"postgresql://user@host:5432":     "names no database",
		"postgresql://user:pw@host:5432/": "names no database",
		"http://localhost:5000":           "tracking server, not a database",
		"file:///tmp/mlruns":              "file store",
		"mysql://u@/mlflow":               "names no server",
	} {
		_, err := Parse(raw)
		if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "sqlite:///mlflow.db") || strings.Contains(err.Error(), ":pw@") {
			t.Errorf("Parse(%q): %v, want a usage error saying %q and the forms", raw, err, want)
		}
		// What is wrong is one sentence, the forms another: no clauses chained by colons.
		if problem, _, ok := strings.Cut(err.Error(), ". Database URIs take MLflow's forms: "); !ok || strings.Contains(problem, ErrMalformed.Error()) {
			t.Errorf("Parse(%q): %v, want the problem, then the forms as a sentence of their own", raw, err)
		}
	}
	for _, windows := range []string{`C:\Users\me\mlflow.db`, "C:/x/mlflow.db"} {
		_, err := Parse(windows)
		if onWindows := runtime.GOOS == "windows"; onWindows != (err == nil) || !onWindows && !strings.Contains(fmt.Sprint(err), "is a Windows path") {
			t.Errorf("Parse(%q) on %s: %v", windows, runtime.GOOS, err)
		}
	}
	for _, good := range []string{"sqlite:///mlflow.db", "sqlite:////abs/x.db", "mlflow.db", "postgresql://u@h/db",
		"postgresql+psycopg2://u:pw@h:5/db", "mysql+pymysql://u@h/db", "postgresql:///db?host=/var/run/postgresql"} {
		if _, err := Parse(good); err != nil {
			t.Errorf("Parse(%q): %v", good, err)
		}
	}
}
