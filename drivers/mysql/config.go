package mysql

import (
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/mlflow-bulk/mlflow-bulk/internal/dburi"
)

// mysqlOptions are the query options of MLflow's MySQL URIs mlflow-bulk understands;
// x- options are its own and never reach the server.
var mysqlOptions = map[string]bool{"charset": true, "x-local-infile": true}

// config is the go-sql-driver configuration for a mysql:// (mysql+pymysql://,
// mysql+mysqldb://, mariadb://) URI, utf8mb4 end to end, and mlflow-bulk's own x-
// options.
func config(u *dburi.URI) (*mysql.Config, map[string]string, error) {
	cfg := mysql.NewConfig()
	cfg.Net = "tcp"
	host, port := u.URL.Hostname(), u.URL.Port()
	if host == "" {
		host = "localhost"
	}
	if port == "" {
		port = "3306"
	}
	cfg.Addr = net.JoinHostPort(host, port)
	cfg.DBName = strings.TrimPrefix(u.URL.Path, "/")
	if cfg.DBName == "" {
		return nil, nil, fmt.Errorf("%s: name the database, e.g. mysql://user:pw@host:3306/mlflow", u.Redacted())
	}
	if u.URL.User != nil {
		cfg.User = u.URL.User.Username()
		cfg.Passwd, _ = u.URL.User.Password()
	}
	tool := map[string]string{}
	for key, values := range u.URL.Query() {
		if !mysqlOptions[key] {
			return nil, nil, fmt.Errorf("%s: unsupported option %q (mlflow-bulk understands charset and x-local-infile)", u.Redacted(), key)
		}
		if key == "charset" && values[0] != "utf8mb4" {
			return nil, nil, fmt.Errorf("%s: charset %s cannot hold every MLflow value; use utf8mb4", u.Redacted(), values[0])
		}
		if strings.HasPrefix(key, "x-") {
			tool[key] = values[0]
		}
	}
	// utf8mb4 end to end: 4-byte characters in params and tags arrive intact.
	cfg.Collation = "utf8mb4_general_ci"
	cfg.AllowNativePasswords = true
	cfg.InterpolateParams = true
	cfg.Timeout = 30 * time.Second
	return cfg, tool, nil
}
