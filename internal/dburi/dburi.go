// Package dburi parses database locations in MLflow's backend-store URI forms, for
// sources and sinks alike, and redacts their passwords.
package dburi

import (
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"

	"github.com/mlflow-bulk/mlflow-bulk/schema"
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

// ErrMalformed marks a location that is not written the way MLflow writes database
// URIs: a mistake in how the command was called, not a failure of the database.
var ErrMalformed = errors.New("not a database URI of the forms MLflow accepts")

// Forms are the URI forms, for messages.
const Forms = "sqlite:///mlflow.db (a file here), sqlite:////abs/path/mlflow.db, postgresql://user@host:5432/mlflow, mysql://user@host:3306/mlflow (or a path to a .db file)"

// MalformedError is a location that is not a database URI: what is wrong with it, then,
// as a sentence of its own, the forms that are. It is ErrMalformed to errors.Is.
type MalformedError struct{ Problem string }

func (e *MalformedError) Error() string {
	return e.Problem + ". Database URIs take MLflow's forms: " + Forms
}

func (e *MalformedError) Is(target error) bool { return target == ErrMalformed }

func malformed(format string, args ...any) error {
	return &MalformedError{Problem: fmt.Sprintf(format, args...)}
}

// schemeLike is a text that starts like a URI scheme ("postgres:", "sqlite:").
var schemeLike = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*:/`)

// knownScheme tells a database family a driver registered (with SQLAlchemy's aliases:
// postgresql and postgres, mysql and mariadb).
func knownScheme(base string) bool {
	_, ok := schema.DatabaseFor(base)
	return ok
}

// Parse parses a database URI. A libpq key=value string (host=… dbname=…) is a
// PostgreSQL location; any other string without "scheme://" is an SQLite file path, as
// long as it looks like one (a folder in it, or a file extension): a bare word is more
// likely a tracking URI such as "databricks" than a file to create.
func Parse(raw string) (*URI, error) {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		switch {
		case strings.TrimSpace(raw) == "":
			return nil, malformed("the database URI is empty")
		case keywordValue.MatchString(raw):
			return parseKeywordValue(raw)
		case schemeLike.MatchString(raw) && !isWindowsPath(raw):
			return nil, malformed("%s has one slash after its scheme", Redact(raw))
		case raw == "databricks" || strings.HasPrefix(raw, "databricks"):
			return nil, malformed("%s is a Databricks tracking URI, not a database: mlflow-bulk writes an MLflow database itself", Redact(raw))
		}
		file, ok := schema.FileDatabase()
		switch {
		case isWindowsPath(raw) && runtime.GOOS != "windows":
			return nil, malformed("%s is a Windows path, and this machine is not Windows: it would make a file of that name here. Give this machine's path of the database (or copy it here)", Redact(raw))
		case !ok:
			return nil, malformed("%s is not a URI, and no database that lives in a file is registered", Redact(raw))
		case !strings.ContainsAny(raw, `/\.`):
			return nil, malformed("%s is neither a URI nor the path of %s file: write %s for a new one, or the database's URI", Redact(raw), file.Name, file.FileURI(Redact(raw)+".db"))
		}
		return &URI{Scheme: file.Schemes[0], Raw: raw, Path: raw}, nil
	}
	base, _, _ := strings.Cut(strings.ToLower(scheme), "+")
	u := &URI{Scheme: base, Raw: raw}
	switch {
	case base == "http" || base == "https":
		return nil, malformed("%s is an MLflow tracking server, not a database: mlflow-bulk writes the server's database itself, so give the URI the server was started with (--backend-store-uri)", Redact(raw))
	case base == "file":
		return nil, malformed("%s is a file store, not a database", Redact(raw))
	case !knownScheme(base):
		return nil, malformed("%s: unknown database scheme %q", Redact(raw), scheme)
	}
	if db, _ := schema.DatabaseFor(base); db.FileURI != nil {
		// SQLAlchemy: sqlite:///rel.db is relative, sqlite:////abs.db absolute; with two
		// slashes what follows is a host, which a file database has not.
		if rest != "" && !strings.HasPrefix(rest, "/") {
			return nil, malformed("%s has two slashes: %s URIs take three for a file relative to here (%s) and four for an absolute path", Redact(raw), db.Name, db.FileURI(Redact(rest)))
		}
		path, _, _ := strings.Cut(strings.TrimPrefix(rest, "/"), "?")
		if path == "" {
			return nil, malformed("%s: an in-memory %s database is not a place to import into; name a file", Redact(raw), db.Name)
		}
		u.Path = filepath.FromSlash(path)
		return u, nil
	}
	parsed, err := url.Parse(raw)
	if err != nil {
		// url.Error repeats the input; say what is wrong without it.
		return nil, malformed("%s cannot be read as a URI", Redact(raw))
	}
	if parsed.Host == "" && parsed.Query().Get("host") == "" {
		return nil, malformed("%s names no server", Redact(raw))
	}
	if strings.Trim(parsed.Path, "/") == "" && parsed.Query().Get("dbname") == "" {
		return nil, malformed("%s names no database: MLflow's tables would land in the server's default database", Redact(raw))
	}
	u.URL = parsed
	return u, nil
}

// isWindowsPath tells C:/x or C:\x (a drive letter) from a URI scheme.
func isWindowsPath(s string) bool {
	return len(s) > 2 && s[1] == ':' && (s[2] == '/' || s[2] == '\\') && (s[0]|0x20 >= 'a' && s[0]|0x20 <= 'z')
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

// secretParams matches a query parameter (or a libpq keyword) that carries a secret, up
// to the next parameter, fragment or quote; a libpq value in single quotes whole.
var secretParams = regexp.MustCompile(`(?i)((?:^|[?&;\s])\w*(?:pass|pwd|secret|token)\w*=)(?:'(?:[^'\\]|\\.)*'?|[^&#\s'"` + "`" + `]*)`)

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
