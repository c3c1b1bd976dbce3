package dburi

import (
	"errors"
	"strings"
	"testing"
)

// TestKeywordValueIsPostgreSQL: a libpq connection string is a PostgreSQL location with
// the same server, port, database, user and password, and is never shown with its
// password.
func TestKeywordValueIsPostgreSQL(t *testing.T) {
	t.Parallel()
	raw := `host=127.0.0.1 port=5433 user=ml password='S3cr 3t\'PW' dbname=mlflow sslmode=disable`
	u, err := Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	if u.Scheme != "postgresql" || u.URL.Host != "127.0.0.1:5433" || u.URL.Path != "/mlflow" || u.URL.User.Username() != "ml" ||
		u.Password() != "S3cr 3t'PW" || u.URL.Query().Get("sslmode") != "disable" {
		t.Errorf("parsed as %+v (url %s)", u, u.URL.Redacted())
	}
	if !strings.HasPrefix(u.PostgresURL(), "postgres://ml:") {
		t.Errorf("pgx URL %s", u.URL.Redacted())
	}
	for _, shown := range []string{u.Redacted(), Redact("password=S3cr3tPW host=h dbname=d")} {
		if strings.Contains(shown, "S3cr") {
			t.Errorf("the password is shown: %s", shown)
		}
	}
	for bad, want := range map[string]string{
		"host=h user=u":       "names no database",
		"dbname=d user=u":     "names no server",
		"host=h dbname='open": "no closing quote",
	} {
		if _, err := Parse(bad); !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), want) {
			t.Errorf("Parse(%q): %v, want %q", bad, err, want)
		}
	}
}

// TestBareWordIsNotAFile: a word that names no file path (a tracking URI such as
// "databricks", a typo) is refused rather than taken as a new SQLite file.
func TestBareWordIsNotAFile(t *testing.T) {
	t.Parallel()
	for raw, want := range map[string]string{
		"databricks":         "Databricks tracking URI",
		"databricks-profile": "Databricks tracking URI",
		"mlflow":             "sqlite:///mlflow.db",
	} {
		if _, err := Parse(raw); !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), want) {
			t.Errorf("Parse(%q): %v, want %q", raw, err, want)
		}
	}
	for _, path := range []string{"mlflow.db", "./store", "runs/mlflow"} {
		if u, err := Parse(path); err != nil || u.Scheme != "sqlite" {
			t.Errorf("Parse(%q): %v", path, err)
		}
	}
}
