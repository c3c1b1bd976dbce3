package sinks

import (
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
)

// URI is a parsed target location in MLflow's backend-store URI forms:
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

// ParseURI parses a target URI. A string without "scheme://" is a SQLite file path.
func ParseURI(raw string) (*URI, error) {
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

// Redact replaces the password of a URI-like string with "xxxxx". It works on strings
// url.Parse rejects too, since those are the ones that end up in error messages.
func Redact(raw string) string {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return raw
	}
	at := strings.LastIndex(rest, "@")
	if slash := strings.Index(rest, "/"); slash >= 0 && slash < at {
		at = strings.LastIndex(rest[:slash], "@")
	}
	if at < 0 {
		return raw
	}
	user, _, hasPw := strings.Cut(rest[:at], ":")
	if !hasPw {
		return raw
	}
	return scheme + "://" + user + ":xxxxx" + rest[at:]
}
