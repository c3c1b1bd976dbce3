package dburi

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strings"

	"github.com/mlflow-bulk/mlflow-bulk/schema"
)

// keywordValue matches the start of a libpq connection string: host=… dbname=… .
var keywordValue = regexp.MustCompile(`^\s*[a-z_]+\s*=`)

// IsKeywordValue tells a libpq keyword/value connection string (host=… dbname=…),
// which names a PostgreSQL database, from a path.
func IsKeywordValue(raw string) bool {
	return !strings.Contains(raw, "://") && keywordValue.MatchString(raw)
}

// parseKeywordValue reads a libpq keyword/value connection string (what psql and
// PGPASSWORD users write) as the PostgreSQL URI it is equivalent to. Values may be
// quoted with single quotes, with \' and \\ inside, as libpq reads them.
func parseKeywordValue(raw string) (*URI, error) {
	params, err := splitKeywordValue(raw)
	if err != nil {
		return nil, malformed("%s: %v", Redact(raw), err)
	}
	db, ok := schema.KeywordValueDatabase()
	if !ok {
		return nil, malformed("%s: no registered database takes key=value strings", Redact(raw))
	}
	u := &url.URL{Scheme: db.Schemes[0]}
	query := url.Values{}
	host, port := "", ""
	var user, password string
	var hasPassword bool
	for _, p := range params {
		switch p.key {
		case "host", "hostaddr":
			host = p.value
		case "port":
			port = p.value
		case "dbname":
			u.Path = "/" + p.value
		case "user":
			user = p.value
		case "password":
			password, hasPassword = p.value, true
		default:
			query.Set(p.key, p.value)
		}
	}
	if host == "" {
		return nil, malformed("%s names no server (host=)", Redact(raw))
	}
	if u.Path == "" {
		return nil, malformed("%s names no database (dbname=): MLflow's tables would land in the server's default database", Redact(raw))
	}
	if strings.HasPrefix(host, "/") {
		query.Set("host", host) // a socket folder, as libpq takes it
		host = ""
	}
	if port != "" {
		host = net.JoinHostPort(host, port)
	}
	u.Host = host
	switch {
	case hasPassword:
		u.User = url.UserPassword(user, password)
	case user != "":
		u.User = url.User(user)
	}
	u.RawQuery = query.Encode()
	return &URI{Scheme: db.Schemes[0], Raw: raw, URL: u}, nil
}

type keyValue struct{ key, value string }

// splitKeywordValue splits "k=v k2='v 2'" into its pairs.
func splitKeywordValue(raw string) ([]keyValue, error) {
	var out []keyValue
	s := raw
	for {
		s = strings.TrimLeft(s, " \t\n")
		if s == "" {
			return out, nil
		}
		eq := strings.IndexByte(s, '=')
		if eq <= 0 {
			return nil, fmt.Errorf("expected keyword=value near %q", firstWord(s))
		}
		key := strings.TrimSpace(s[:eq])
		s = strings.TrimLeft(s[eq+1:], " \t")
		var value strings.Builder
		if strings.HasPrefix(s, "'") {
			s = s[1:]
			closed := false
			for i := 0; i < len(s); i++ {
				switch c := s[i]; {
				case c == '\\' && i+1 < len(s):
					i++
					value.WriteByte(s[i])
				case c == '\'':
					s, closed = s[i+1:], true
				default:
					value.WriteByte(c)
				}
				if closed {
					break
				}
			}
			if !closed {
				return nil, fmt.Errorf("the value of %s has no closing quote", key)
			}
		} else {
			end := strings.IndexAny(s, " \t\n")
			if end < 0 {
				end = len(s)
			}
			value.WriteString(s[:end])
			s = s[end:]
		}
		out = append(out, keyValue{key, value.String()})
	}
}

// firstWord is the text up to the first space, for messages (never a value).
func firstWord(s string) string {
	if i := strings.IndexAny(s, " \t"); i >= 0 {
		return s[:i]
	}
	return s
}
