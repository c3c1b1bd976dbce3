package mysql

import (
	"strings"
	"testing"

	"github.com/mlflow-bulk/mlflow-bulk/internal/dburi"
)

func TestMySQLConfig(t *testing.T) {
	t.Parallel()
	u, _ := dburi.Parse("mysql+pymysql://u:pw@h/mlflow?charset=utf8mb4&x-local-infile=off")
	cfg, tool, err := config(u)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Addr != "h:3306" || cfg.DBName != "mlflow" || cfg.User != "u" || cfg.Passwd != "pw" || tool["x-local-infile"] != "off" {
		t.Errorf("config %+v, tool options %v", cfg, tool)
	}
	for _, bad := range []string{"mysql://u:pw@h/", "mysql://u:pw@h/db?charset=latin1", "mysql://u:pw@h/db?ssl=x"} {
		u, err := dburi.Parse(bad)
		if err == nil {
			_, _, err = config(u)
		}
		if err == nil || strings.Contains(err.Error(), "u:pw") {
			t.Errorf("%s: error %v, want one without the password", bad, err)
		}
	}
}

// TestMySQLPasswordOnlyFromTheURI: the driver reads no environment (the registry passes
// MYSQL_PWD on, see drivers.Registry.WithEnvironment); the URI's password is used.
func TestMySQLPasswordOnlyFromTheURI(t *testing.T) {
	t.Setenv("MYSQL_PWD", "from-env")
	u, _ := dburi.Parse("mysql://u@h/mlflow")
	cfg, _, err := config(u)
	if err != nil || cfg.Passwd != "" {
		t.Errorf("password %q, %v", cfg.Passwd, err)
	}
	u, _ = dburi.Parse("mysql://u:inuri@h/mlflow")
	if cfg, _, _ := config(u); cfg.Passwd != "inuri" {
		t.Errorf("password %q, want the URI's", cfg.Passwd)
	}
}
