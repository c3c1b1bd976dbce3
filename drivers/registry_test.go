package drivers_test

import (
	"context"
	"errors"
	"testing"

	"github.com/mlflow-bulk/mlflow-bulk/drivers"
	"github.com/mlflow-bulk/mlflow-bulk/drivers/all"
	"github.com/mlflow-bulk/mlflow-bulk/internal/dburi"
	"github.com/mlflow-bulk/mlflow-bulk/schema"
	"github.com/mlflow-bulk/mlflow-bulk/sinks"
)

// The registry the command builds gives schema (and so dburi) the drivers' schemes.
var _ = all.Registry()

// passwordProbe is a driver that records the password it is asked to connect with and
// connects to nothing.
type passwordProbe struct {
	db   *schema.Database
	seen *string
}

var errProbe = errors.New("probe: not connecting")

func (p passwordProbe) Database() *schema.Database { return p.db }
func (p passwordProbe) Open(_ context.Context, _ *dburi.URI, opts sinks.Options) (sinks.Sink, error) {
	*p.seen = opts.Password
	return nil, errProbe
}
func (p passwordProbe) OpenReader(_ context.Context, _ *dburi.URI, password string) (*drivers.Reader, error) {
	*p.seen = password
	return nil, errProbe
}

// TestPasswordFromTheEnvironmentOfTheCommand: a URI without a password connects with the
// variable the database's client reads, from the environment the registry was given;
// a password given or in the URI wins, and a registry given no environment reads none.
func TestPasswordFromTheEnvironmentOfTheCommand(t *testing.T) {
	var seen string
	probe := passwordProbe{db: &schema.Database{Dialect: "probe", Schemes: []string{"mysql"}, PasswordEnv: "PROBE_PWD"}, seen: &seen}
	env := map[string]string{"PROBE_PWD": "from-env"}
	withEnv := drivers.NewRegistry(probe).WithEnvironment(func(k string) string { return env[k] })
	ctx := context.Background()
	for _, c := range []struct {
		registry *drivers.Registry
		uri      string
		given    string
		want     string
	}{
		{withEnv, "mysql://u@h/db", "", "from-env"},
		{withEnv, "mysql://u@h/db", "from-file", "from-file"},
		{withEnv, "mysql://u:inuri@h/db", "", ""},
		{drivers.NewRegistry(probe), "mysql://u@h/db", "", ""},
	} {
		seen = "unset"
		_, _ = c.registry.Open(ctx, c.uri, sinks.Options{Password: c.given})
		if seen != c.want {
			t.Errorf("Open %s (given %q): password %q, want %q", c.uri, c.given, seen, c.want)
		}
		seen = "unset"
		_, _ = c.registry.OpenReader(ctx, c.uri, c.given)
		if seen != c.want {
			t.Errorf("OpenReader %s (given %q): password %q, want %q", c.uri, c.given, seen, c.want)
		}
	}
}
