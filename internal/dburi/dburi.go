// Package dburi parses database locations in MLflow's backend-store URI forms, for
// sources and sinks alike, and redacts their passwords.
package dburi

import (
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
)

// URI is a parsed database location in MLflow's backend-store URI forms:
// postgresql://user:pw@host:5432/db, postgresql+psycopg2://…, mysql+pymysql://…,
// sqlite:///relative/mlflow.db, sqlite:////absolute/mlflow.db, or a bare file path.
type URI struct {
	// Scheme is the database family ("postgresql", "mysql", "sqlite"), without the
	// SQLAlchemy driver suffix.
	Scheme string
	// Raw is the URI as given.
	Raw string
	// URL is the parsed form for network databases; nil for SQLite.
	URL *url.URL
	// Path is the database file for SQLite.
	Path string
}

// Parse parses a database URI. A string without "scheme://" is a SQLite file path.
func Parse(raw string) (*URI, error) {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		if raw == "" {
			return nil, fmt.Errorf("empty database URI")
		}
		return &URI{Scheme: "sqlite", Raw: raw, Path: raw}, nil
	}
	base, _, _ := strings.Cut(strings.ToLower(scheme), "+")
	u := &URI{Scheme: base, Raw: raw}
	if base == "sqlite" {
		// SQLAlchemy: sqlite:///rel.db is relative, sqlite:////abs.db absolute.
		path, _, _ := strings.Cut(strings.TrimPrefix(rest, "/"), "?")
		if path == "" {
			return nil, fmt.Errorf("%s: in-memory SQLite is not a place to import into; name a file, e.g. sqlite:///mlflow.db", raw)
		}
		u.Path = filepath.FromSlash(path)
		return u, nil
	}
	parsed, err := url.Parse(raw)
	if err != nil {
		// url.Error repeats the input; say what is wrong without it.
		return nil, fmt.Errorf("malformed database URI %s", Redact(raw))
	}
	u.URL = parsed
	return u, nil
}

// Redacted is the URI with its password replaced, for messages.
func (u *URI) Redacted() string { return Redact(u.Raw) }

// Password is the password in the URI, "" when there is none.
func (u *URI) Password() string {
	if u.URL == nil || u.URL.User == nil {
		return ""
	}
	pw, _ := u.URL.User.Password()
	return pw
}

// Redact replaces the password of a URI-like string with "xxxxx", in its user
// information and in every query parameter that carries one (password=, sslpassword=,
// and any other whose name says pass, pwd, secret or token). It works on strings
// url.Parse rejects too, since those are the ones that end up in error messages. A
// password may hold unescaped '@', '/' or '?', so everything up to the last '@' is
// taken as user information: hiding too much is harmless, showing a password is not.
func Redact(raw string) string {
	raw = secretParams.ReplaceAllString(raw, "${1}xxxxx")
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return raw
	}
	at := strings.LastIndex(rest, "@")
	if at < 0 {
		return raw
	}
	user, _, hasPw := strings.Cut(rest[:at], ":")
	if !hasPw {
		return raw
	}
	return scheme + "://" + user + ":xxxxx" + rest[at:]
}

// secretParams matches a query parameter that carries a secret, up to the next
// parameter, fragment or quote.
var secretParams = regexp.MustCompile(`(?i)([?&;\s]\w*(?:pass|pwd|secret|token)\w*=)[^&#\s'"` + "`" + `]*`)

// Secrets lists the secrets of the URI as written and as decoded: the user
// information's password and the values of the query parameters Redact hides.
func (u *URI) Secrets() []string {
	var out []string
	add := func(s string) {
		if len(s) >= 3 {
			out = append(out, s)
		}
	}
	if pw := u.Password(); pw != "" {
		add(pw)
		add(url.PathEscape(pw))
		add(url.QueryEscape(pw))
	}
	if u.URL != nil {
		for name, values := range u.URL.Query() {
			if secretParams.MatchString("?" + name + "=") {
				for _, v := range values {
					add(v)
					add(url.QueryEscape(v))
				}
			}
		}
	}
	return out
}

// RedactError masks the URI and its secrets in an error's message and keeps the error
// chain (errors.Is and errors.As see through it), so that a driver's message that
// repeats a password cannot be shown, however the error is wrapped later.
func (u *URI) RedactError(err error) error {
	if err == nil {
		return nil
	}
	secrets := u.Secrets()
	forms := []string{u.Raw}
	if u.URL != nil {
		forms = append(forms, u.URL.String(), u.PostgresURL())
	}
	mask := func(msg string) string {
		for _, f := range forms {
			msg = strings.ReplaceAll(msg, f, Redact(f))
		}
		for _, s := range secrets {
			msg = strings.ReplaceAll(msg, s, "xxxxx")
		}
		return msg
	}
	if mask(err.Error()) == err.Error() {
		return err
	}
	return &redactedError{err: err, mask: mask}
}

type redactedError struct {
	err  error
	mask func(string) string
}

func (e *redactedError) Error() string { return e.mask(e.err.Error()) }
func (e *redactedError) Unwrap() error { return e.err }

// PostgresURL is the URI in the form pgx parses (MLflow's postgresql+psycopg2:// and
// postgresql:// become postgres://).
func (u *URI) PostgresURL() string {
	c := *u.URL
	c.Scheme = "postgres"
	return c.String()
}

// mysqlOptions are the query options of MLflow's MySQL URIs mlflow-bulk understands;
// x- options are its own and never reach the server.
var mysqlOptions = map[string]bool{"charset": true, "x-local-infile": true}

// MySQLConfig is the go-sql-driver configuration for a mysql:// (mysql+pymysql://,
// mysql+mysqldb://, mariadb://) URI, utf8mb4 end to end, and mlflow-bulk's own x-
// options.
func (u *URI) MySQLConfig() (*mysql.Config, map[string]string, error) {
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

// DollarPlaceholders turns '?' placeholders into PostgreSQL's $1, $2, … outside quoted
// strings, so the same query text serves every dialect.
func DollarPlaceholders(query string) string {
	if !strings.Contains(query, "?") {
		return query
	}
	var b strings.Builder
	n, quoted := 0, false
	for _, r := range query {
		switch {
		case r == '\'':
			quoted = !quoted
		case r == '?' && !quoted:
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
