// Package drivers is the contract between mlflow-bulk and the databases it reads and
// writes, in the manner of golang-migrate's database drivers: each database is one
// package under drivers/ that owns everything about it (its URI schemes, its read and
// write connections, its bulk path, its import lock, how its errors read, its scratch
// databases), and the command builds the set of them once (drivers/all) and passes it
// down. Nothing below the command names a database.
package drivers

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"

	"github.com/mlflow-bulk/mlflow-bulk/internal/dburi"
	"github.com/mlflow-bulk/mlflow-bulk/schema"
	"github.com/mlflow-bulk/mlflow-bulk/sinks"
)

// Driver is one database product.
type Driver interface {
	// Database describes the product: its dialect, URI schemes and what it stores.
	Database() *schema.Database
	// Open connects to a target to write (or, with ReadOnly, to check) it.
	Open(ctx context.Context, uri *dburi.URI, opts sinks.Options) (sinks.Sink, error)
	// OpenReader connects to a source so that nothing can be written and no file
	// beside it changes; password overrides the URI's.
	OpenReader(ctx context.Context, uri *dburi.URI, password string) (*Reader, error)
}

// Reader is a read-only connection to an MLflow database, for sources.
type Reader struct {
	DB      *sql.DB
	Dialect schema.Dialect
	// Notice says how the database is read, where a user should know ("" otherwise).
	Notice string
	// Prepare makes a session read-only where the connection itself cannot; nil where
	// nothing is needed.
	Prepare func(ctx context.Context, conn *sql.Conn) error
	// Cleanup removes what reading needed (a private copy); nil where nothing.
	Cleanup func()
}

// Close closes the connection and removes what reading needed.
func (r *Reader) Close() error {
	err := r.DB.Close()
	if r.Cleanup != nil {
		r.Cleanup()
	}
	return err
}

// Registry chooses a driver by URI scheme. It is a value, not global state: the command
// builds it once, tests and embedders can build their own.
type Registry struct {
	drivers []Driver
	// getenv reads the environment the command was given; nil reads none.
	getenv func(string) string
}

// NewRegistry returns a registry of the given drivers, which reads no environment. Their
// descriptors become the ones schema knows the dialects by.
func NewRegistry(drivers ...Driver) *Registry {
	for _, d := range drivers {
		schema.Register(d.Database())
	}
	return &Registry{drivers: drivers}
}

// WithEnvironment returns the registry reading passwords a URI lacks from the
// environment variable each database's client reads (Database.PasswordEnv), through
// getenv: the command's environment, which drivers never read themselves.
func (r *Registry) WithEnvironment(getenv func(string) string) *Registry {
	c := *r
	c.getenv = getenv
	return &c
}

// password is the password to connect with: the one given, else the URI's, else the
// environment's.
func (r *Registry) password(uri *dburi.URI, d Driver, given string) string {
	if given != "" || uri.Password() != "" || r.getenv == nil || d.Database().PasswordEnv == "" {
		return given
	}
	return r.getenv(d.Database().PasswordEnv)
}

// Databases lists the descriptors of the registry's drivers.
func (r *Registry) Databases() []*schema.Database {
	out := make([]*schema.Database, len(r.drivers))
	for i, d := range r.drivers {
		out[i] = d.Database()
	}
	return out
}

// Schemes lists the accepted schemes, for usage text and errors.
func (r *Registry) Schemes() []string {
	var out []string
	for _, d := range r.drivers {
		for _, s := range d.Database().Schemes {
			out = append(out, s+"://")
		}
	}
	sort.Strings(out)
	return out
}

// FileURI is the URI of a new database in a local file, written by a driver whose
// database lives in files (readers' scratch databases); false when none does.
func (r *Registry) FileURI(path string) (string, bool) {
	for _, d := range r.drivers {
		if uri := d.Database().FileURI; uri != nil {
			return uri(path), true
		}
	}
	return "", false
}

// For returns the driver of a URI scheme ("postgresql+psycopg2" is PostgreSQL's).
func (r *Registry) For(scheme string) (Driver, bool) {
	base, _, _ := strings.Cut(strings.ToLower(scheme), "+")
	for _, d := range r.drivers {
		for _, s := range d.Database().Schemes {
			if s == base {
				return d, true
			}
		}
	}
	return nil, false
}

// driverFor parses raw and finds its driver.
func (r *Registry) driverFor(raw string) (*dburi.URI, Driver, error) {
	uri, err := dburi.Parse(raw)
	if err != nil {
		return nil, nil, err
	}
	d, ok := r.For(uri.Scheme)
	if !ok {
		return uri, nil, fmt.Errorf("%s: unknown database scheme %q; mlflow-bulk works with %s", uri.Redacted(), uri.Scheme, strings.Join(r.Schemes(), ", "))
	}
	return uri, d, nil
}

// Open parses the URI and opens it with the driver of its scheme.
func (r *Registry) Open(ctx context.Context, raw string, opts sinks.Options) (sinks.Sink, error) {
	uri, d, err := r.driverFor(raw)
	if err != nil {
		return nil, err
	}
	opts.Password = r.password(uri, d, opts.Password)
	sink, err := d.Open(ctx, uri, opts)
	// Drivers repeat the URI in their errors, query-string passwords included.
	return sink, uri.RedactError(err)
}

// OpenReader parses the URI and opens it for reading with the driver of its scheme.
func (r *Registry) OpenReader(ctx context.Context, raw, password string) (*Reader, error) {
	uri, d, err := r.driverFor(raw)
	if err != nil {
		return nil, err
	}
	reader, err := d.OpenReader(ctx, uri, r.password(uri, d, password))
	return reader, uri.RedactError(err)
}
