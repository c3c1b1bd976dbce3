package trackingserver

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// authenticator adds a request's credentials, given its body (which a signature covers).
type authenticator func(r *http.Request, body []byte) error

// connection is where a tracking URI points and how to authenticate there, as MLflow's
// own client reads it from the URI and the environment.
type connection struct {
	base *url.URL // without credentials
	auth authenticator
	tls  *tls.Config
}

// ErrCredentials marks credentials that could not be read (a profile missing, a
// certificate that does not parse).
var ErrCredentials = errors.New("cannot read the tracking server's credentials")

// connect reads location (http://, https://, databricks, databricks://PROFILE, a
// SageMaker tracking server's ARN, azureml://) and the
// variables MLflow's client reads: MLFLOW_TRACKING_TOKEN, MLFLOW_TRACKING_USERNAME and
// _PASSWORD, MLFLOW_TRACKING_INSECURE_TLS, MLFLOW_TRACKING_SERVER_CERT_PATH,
// MLFLOW_TRACKING_CLIENT_CERT_PATH; for Databricks DATABRICKS_HOST and DATABRICKS_TOKEN,
// or the profile of ~/.databrickscfg (DATABRICKS_CONFIG_FILE).
func connect(ctx context.Context, location string, opts Options) (*connection, error) {
	getenv := opts.Getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	if isSageMaker(location) {
		return connectSageMaker(ctx, location, getenv)
	}
	if isAzureML(location) {
		return connectAzureML(location, getenv, opts.AzureCredential)
	}
	c := &connection{}
	var token, user, password string
	if isDatabricks(location) {
		host, tok, err := databricksHost(location, getenv)
		if err != nil {
			return nil, err
		}
		location, token = host, tok
	}
	u, err := url.Parse(location)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("%s: not a tracking server URI such as http://host:5000", redact(location))
	}
	if u.User != nil {
		user = u.User.Username()
		password, _ = u.User.Password()
		u.User = nil
	}
	u.RawQuery, u.Fragment = "", ""
	c.base = u
	if token == "" {
		token = getenv("MLFLOW_TRACKING_TOKEN")
	}
	if v := getenv("MLFLOW_TRACKING_USERNAME"); v != "" {
		user, password = v, getenv("MLFLOW_TRACKING_PASSWORD")
	}
	switch {
	case token != "":
		c.auth = bearer(token)
	case user != "":
		c.auth = func(r *http.Request, _ []byte) error { r.SetBasicAuth(user, password); return nil }
	}
	if c.tls, err = tlsConfig(getenv); err != nil {
		return nil, err
	}
	return c, nil
}

// bearer sends token as MLflow's client sends MLFLOW_TRACKING_TOKEN.
func bearer(token string) authenticator {
	return func(r *http.Request, _ []byte) error { setBearer(r, token); return nil }
}

func setBearer(r *http.Request, token string) { r.Header.Set("Authorization", "Bearer "+token) }

// tlsConfig is the TLS MLflow's client variables ask for; nil for Go's defaults.
func tlsConfig(getenv func(string) string) (*tls.Config, error) {
	insecure := strings.EqualFold(getenv("MLFLOW_TRACKING_INSECURE_TLS"), "true")
	serverCert, clientCert := getenv("MLFLOW_TRACKING_SERVER_CERT_PATH"), getenv("MLFLOW_TRACKING_CLIENT_CERT_PATH")
	if !insecure && serverCert == "" && clientCert == "" {
		return nil, nil
	}
	cfg := &tls.Config{InsecureSkipVerify: insecure, MinVersion: tls.VersionTLS12} //nolint:gosec // asked for by MLFLOW_TRACKING_INSECURE_TLS, as MLflow's client does
	if serverCert != "" {
		pem, err := os.ReadFile(serverCert)
		if err != nil {
			return nil, fmt.Errorf("%w: MLFLOW_TRACKING_SERVER_CERT_PATH: %w", ErrCredentials, err)
		}
		cfg.RootCAs = x509.NewCertPool()
		if !cfg.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%w: MLFLOW_TRACKING_SERVER_CERT_PATH %s holds no PEM certificate", ErrCredentials, serverCert)
		}
	}
	if clientCert != "" {
		// As the requests library MLflow uses takes it: one PEM file with the
		// certificate and its key.
		pem, err := os.ReadFile(clientCert)
		if err != nil {
			return nil, fmt.Errorf("%w: MLFLOW_TRACKING_CLIENT_CERT_PATH: %w", ErrCredentials, err)
		}
		pair, err := tls.X509KeyPair(pem, pem)
		if err != nil {
			return nil, fmt.Errorf("%w: MLFLOW_TRACKING_CLIENT_CERT_PATH %s: %w", ErrCredentials, clientCert, err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return cfg, nil
}

func isDatabricks(location string) bool {
	return location == "databricks" || strings.HasPrefix(location, "databricks://")
}

// databricksHost is the workspace URL and token of a Databricks tracking URI: from the
// environment for "databricks", else from the profile of the Databricks CLI's config.
func databricksHost(location string, getenv func(string) string) (string, string, error) {
	profile := strings.TrimPrefix(strings.TrimPrefix(location, "databricks"), "://")
	if profile == "" {
		if host, token := getenv("DATABRICKS_HOST"), getenv("DATABRICKS_TOKEN"); host != "" && token != "" {
			return withScheme(host), token, nil
		}
		profile = "DEFAULT"
	}
	file := getenv("DATABRICKS_CONFIG_FILE")
	if file == "" {
		file = filepath.Join(getenv("HOME"), ".databrickscfg")
	}
	f, err := os.Open(file)
	if err != nil {
		return "", "", fmt.Errorf("%w: %s needs DATABRICKS_HOST and DATABRICKS_TOKEN, or the profile %s in %s: %w", ErrCredentials, location, profile, file, err)
	}
	defer f.Close()
	values, err := readProfile(f, profile)
	if err != nil {
		return "", "", fmt.Errorf("%w: %s: %w", ErrCredentials, file, err)
	}
	if values["host"] == "" || values["token"] == "" {
		return "", "", fmt.Errorf("%w: profile %s of %s has no host and token (mlflow-bulk reads token profiles)", ErrCredentials, profile, file)
	}
	return withScheme(values["host"]), values["token"], nil
}

func withScheme(host string) string {
	if strings.Contains(host, "://") {
		return host
	}
	return "https://" + host
}

// redact is a location without the password it may carry.
func redact(location string) string {
	u, err := url.Parse(location)
	if err != nil || u.User == nil {
		if at := strings.LastIndex(location, "@"); err != nil && at >= 0 {
			return "…@" + location[at+1:]
		}
		return location
	}
	return u.Redacted()
}

// readProfile reads the keys of one profile of an INI file such as ~/.databrickscfg.
func readProfile(r io.Reader, profile string) (map[string]string, error) {
	values := map[string]string{}
	section := ""
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";"):
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			section = strings.TrimSpace(line[1 : len(line)-1])
		case section == profile:
			if k, v, ok := strings.Cut(line, "="); ok {
				values[strings.TrimSpace(k)] = strings.TrimSpace(v)
			}
		}
	}
	return values, sc.Err()
}
