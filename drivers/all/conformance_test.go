package all_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlflow-bulk/mlflow-bulk/drivers/all"
	"github.com/mlflow-bulk/mlflow-bulk/internal/testenv"
	"github.com/mlflow-bulk/mlflow-bulk/sinks"
	"github.com/mlflow-bulk/mlflow-bulk/sinks/sinktest"
)

func TestSQLiteConformance(t *testing.T) {
	sinktest.Run(t, func(t *testing.T) sinks.Sink {
		s, err := all.Registry().Open(context.Background(), testenv.SQLite(t), sinks.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestPostgresConformance(t *testing.T) {
	sinktest.Run(t, func(t *testing.T) sinks.Sink {
		s, err := all.Registry().Open(context.Background(), testenv.Postgres(t), sinks.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestParseURI(t *testing.T) {
	tests := []struct {
		raw, scheme, path string
	}{
		{"sqlite:///mlflow.db", "sqlite", "mlflow.db"},
		{"sqlite:////abs/path/mlflow.db", "sqlite", "/abs/path/mlflow.db"},
		{"./mlflow.db", "sqlite", "./mlflow.db"},
		{"postgresql://u:p@h:5432/db", "postgresql", ""},
		{"postgresql+psycopg2://u:p@h/db?sslmode=disable", "postgresql", ""},
		{"mysql+pymysql://u:p@h/db", "mysql", ""},
	}
	for _, tt := range tests {
		u, err := sinks.ParseURI(tt.raw)
		if err != nil || u.Scheme != tt.scheme || u.Path != filepath.FromSlash(tt.path) {
			t.Errorf("ParseURI(%q) = %+v, %v", tt.raw, u, err)
		}
	}
	if _, err := sinks.ParseURI("sqlite://"); err == nil {
		t.Error("in-memory SQLite accepted as a target")
	}
}

func TestRedact(t *testing.T) {
	for raw, want := range map[string]string{
		"postgresql://u:s3cret@h:5432/db":   "postgresql://u:xxxxx@h:5432/db",
		"mysql+pymysql://u:p%40ss@h/db?x=1": "mysql+pymysql://u:xxxxx@h/db?x=1",
		"postgresql://u@h/db":               "postgresql://u@h/db",
		"postgresql://u:we@ird@h/db":        "postgresql://u:xxxxx@h/db",
		"sqlite:///mlflow.db":               "sqlite:///mlflow.db",
	} {
		if got := sinks.Redact(raw); got != want {
			t.Errorf("Redact(%q) = %q, want %q", raw, got, want)
		}
	}
}

func TestUnknownScheme(t *testing.T) {
	_, err := all.Registry().Open(context.Background(), "oracle://u:topsecret@h/db", sinks.Options{})
	if err == nil || !strings.Contains(err.Error(), "postgresql://") || strings.Contains(err.Error(), "topsecret") {
		t.Fatalf("error %v should list known schemes and hide the password", err)
	}
}

func TestPostgresWrongPassword(t *testing.T) {
	uri := testenv.Postgres(t)
	wrong := strings.Replace(uri, ":"+passwordOf(t, uri)+"@", ":Wr0ngPassw0rd@", 1)
	_, err := all.Registry().Open(context.Background(), wrong, sinks.Options{})
	if err == nil {
		t.Fatal("connected with a wrong password")
	}
	msg := err.Error()
	if strings.Contains(msg, "Wr0ngPassw0rd") || !strings.Contains(msg, "password authentication failed") || strings.Count(msg, "\n") > 0 {
		t.Fatalf("want one line naming the cause without the password, got %q", msg)
	}
}

func passwordOf(t *testing.T, uri string) string {
	u, err := sinks.ParseURI(uri)
	if err != nil {
		t.Fatal(err)
	}
	return u.Password()
}

func TestSQLiteMissingFolder(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope", "mlflow.db")
	_, err := all.Registry().Open(context.Background(), "sqlite:///"+missing, sinks.Options{})
	if err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("error %v", err)
	}
	if _, statErr := os.Stat(filepath.Dir(missing)); statErr == nil {
		t.Fatal("the folder was created")
	}
}

func TestMySQLConformance(t *testing.T) {
	for _, variant := range []string{"", "?x-local-infile=false"} {
		t.Run("path"+variant, func(t *testing.T) {
			sinktest.Run(t, func(t *testing.T) sinks.Sink {
				s, err := all.Registry().Open(context.Background(), testenv.MySQL(t)+variant, sinks.Options{})
				if err != nil {
					t.Fatal(err)
				}
				return s
			})
		})
	}
}

// TestMySQLServerWithoutLocalInfile switches the test server's local_infile off: the sink
// must notice, say so once, and write through INSERTs. make test runs packages one at a
// time (-p 1), so no other test sees the server in this state.
func TestMySQLServerWithoutLocalInfile(t *testing.T) {
	uri := testenv.MySQL(t)
	setGlobal := func(v int) {
		s, err := all.Registry().Open(context.Background(), uri, sinks.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		tx, _ := s.Begin(context.Background())
		defer func() { _ = tx.Rollback(context.Background()) }()
		if _, err := tx.Exec(context.Background(), "SET GLOBAL local_infile = ?", v); err != nil {
			t.Fatal(err)
		}
	}
	setGlobal(0)
	t.Cleanup(func() { setGlobal(1) })
	s, err := all.Registry().Open(context.Background(), uri, sinks.Options{})
	if err != nil {
		t.Fatal(err)
	}
	notices := s.(sinks.Noticer).Notices()
	s.Close()
	if len(notices) != 1 || !strings.Contains(notices[0], "local_infile off") {
		t.Fatalf("notices %q", notices)
	}
	// local_infile is the server's: every database of it sees the setting.
	sinktest.Run(t, func(t *testing.T) sinks.Sink {
		s, err := all.Registry().Open(context.Background(), testenv.MySQL(t), sinks.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestImportLock(t *testing.T) {
	for name, uri := range map[string]func(testing.TB) string{"sqlite": testenv.SQLite, "postgres": testenv.Postgres, "mariadb": testenv.MySQL} {
		t.Run(name, func(t *testing.T) {
			target := uri(t)
			sinktest.RunLock(t, func(opts sinks.Options) (sinks.Sink, error) {
				return all.Registry().Open(context.Background(), target, opts)
			})
		})
	}
}
