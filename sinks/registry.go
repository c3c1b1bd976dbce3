package sinks

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/mlflow-bulk/mlflow-bulk/schema"
)

// Driver opens sinks of one database; the database's descriptor says which URI
// schemes name it.
type Driver struct {
	Database *schema.Database
	Open     func(ctx context.Context, uri *URI, opts Options) (Sink, error)
}

// Registry chooses a driver by URI scheme. It is a value, not global state, so tests
// and embedders can build their own.
type Registry struct {
	drivers []Driver
}

// NewRegistry returns a registry of the given drivers.
func NewRegistry(drivers ...Driver) *Registry { return &Registry{drivers: drivers} }

// Default is the table of every database mlflow-bulk writes to.
func Default() *Registry {
	return NewRegistry(
		Driver{Database: schema.Postgres.Database(), Open: OpenPostgres},
		Driver{Database: schema.MySQL.Database(), Open: OpenMySQL},
		Driver{Database: schema.SQLite.Database(), Open: OpenSQLite},
	)
}

// Schemes lists the accepted schemes, for usage text and errors.
func (r *Registry) Schemes() []string {
	var out []string
	for _, d := range r.drivers {
		for _, s := range d.Database.Schemes {
			out = append(out, s+"://")
		}
	}
	sort.Strings(out)
	return out
}

// Open parses the URI and opens it with the driver of its scheme.
func (r *Registry) Open(ctx context.Context, raw string, opts Options) (Sink, error) {
	uri, err := ParseURI(raw)
	if err != nil {
		return nil, err
	}
	for _, d := range r.drivers {
		for _, s := range d.Database.Schemes {
			if s == uri.Scheme {
				sink, err := d.Open(ctx, uri, opts)
				// Drivers repeat the URI in their errors, query-string passwords included.
				return sink, uri.RedactError(err)
			}
		}
	}
	return nil, fmt.Errorf("%s: unknown database scheme %q; mlflow-bulk writes to %s", uri.Redacted(), uri.Scheme, strings.Join(r.Schemes(), ", "))
}
