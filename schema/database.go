package schema

import (
	"fmt"
	"sort"
	"strings"
)

// Database is everything mlflow-bulk knows of one SQL database product, in one value that
// schema, sources, sinks and the command line all read: the URI schemes that name it,
// how queries are written for it, how it describes its own schema, how a bulk load
// defers its keys, and what it can and cannot store. Each database's driver package
// defines its own (drivers/<name>/database.go) and registers it (Register).
type Database struct {
	Dialect Dialect
	// Name is the product's name, for messages ("PostgreSQL").
	Name string
	// Schemes are the URI schemes that name it, before any SQLAlchemy "+driver" suffix.
	Schemes []string
	// PasswordEnv is the environment variable the database's own client reads a
	// password from (a password kept out of argv, where ps shows it), which the
	// registry passes on when a URI has none; empty where the client library reads its
	// own (libpq's PGPASSWORD, which pgx reads).
	PasswordEnv string
	// FileURI is the URI of a database of this product in a local file, for one that
	// lives in a file without a server (scratch databases of readers); nil for servers.
	FileURI func(path string) string
	// FileMagic is how a file of this database begins (SQLite's header), which tells
	// such a file from others; nil for servers.
	FileMagic []byte
	// KeywordValue: the database's client takes libpq's key=value connection strings
	// (host=… dbname=…) as well as URIs.
	KeywordValue bool

	// ServerVersion asks a server what it is; ServerDDL, where set, rewrites one
	// statement of MLflow's held DDL into the form MLflow's own migrations leave on that
	// server (the text comes from one product's dumps; a kindred product names and
	// stores some things otherwise).
	ServerVersion string
	ServerDDL     func(version, stmt string) string

	// Placeholders rewrites the '?' placeholders of mlflow-bulk's queries into the
	// database's own; nil where '?' is its own.
	Placeholders func(query string) string
	// Quote quotes an identifier (a table or column name) in any session mode.
	Quote func(name string) string

	// EnforcesWidths: VARCHAR(n) refuses longer values (SQLite stores them).
	EnforcesWidths bool
	// RejectsNUL: text cannot hold the NUL character.
	RejectsNUL bool
	// NativeBooleans: BOOLEAN columns take booleans only; elsewhere booleans are 0 and 1.
	NativeBooleans bool
	// TransactionalDDL: a CREATE inside a transaction is undone by its rollback (MySQL
	// commits DDL at once).
	TransactionalDDL bool
	// RunIDColumn is the type of a run id column of mlflow-bulk's own tables; empty
	// for VARCHAR(32).
	RunIDColumn string
	// MaxExperimentID is the largest experiment id its INTEGER column holds.
	MaxExperimentID int64
	// MetricOrder is the ORDER BY that reads a run's metrics in the order they were
	// logged, which decides MLflow's latest-metric ties: the insertion order where the
	// database keeps one (metrics rows are never updated), the history's own otherwise.
	MetricOrder string
	// JSONText reads a JSON column (quoted) as the text stored, where a driver would
	// decode it; nil where JSON columns read as text anyway.
	JSONText func(quoted string) string
	// KeyWeight is an expression with one placeholder that gives what a collation
	// compares a text as (equal for texts it makes one); nil where key comparison is
	// binary.
	KeyWeight func(collation string) string

	// Introspection is how the database describes its own schema: the queries the
	// live reading of a database runs (Inspect, views, triggers, widths, collation).
	Introspection Introspection
	// SequenceReset moves the experiment id generator past explicit ids; empty where the
	// database does that itself.
	SequenceReset string
	// DeferredKeys take metrics' keys off for a bulk load into a new database and put
	// them back; nil where the keys stay (see DeferKeys).
	DeferredKeys *DeferredKeys
}

type DeferredKeys struct {
	// Statements are those that take the keys off a new database of revision r, and
	// those that put them back; none where r's metrics has no keys to defer.
	Statements func(r *Revision) (drop, add []string)
	// Pending tells whether metrics is without its keys (a load not finished).
	Pending string
	// Dedupe removes the extra copies of rows equal on MLflow's whole key, which a
	// table without its key can take (a second writer, a kill at the wrong moment).
	Dedupe string
	// Lock takes, in one order, every Lock building the keys needs, so that a live
	// MLflow server writing meanwhile waits instead of deadlocking with the build.
	Lock []string
	// Orphans counts metric rows naming no run, where the key build does not check
	// the foreign key itself; "" where it does.
	Orphans string
	// Resume builds, ahead of the others, the index an import resuming an interrupted
	// load needs to find the runs it already wrote without a scan per run.
	Resume []string
}

// databases are the descriptors the drivers registered (drivers/all loads them all).
var databases []*Database

// Register makes a database's descriptor the one of its dialect. drivers.NewRegistry
// calls it for each driver of the registry the command builds (no driver registers
// itself as it loads); registering the same descriptor again does nothing, another of
// the same dialect is a programming error.
func Register(db *Database) {
	for _, have := range databases {
		if have == db {
			return
		}
		if have.Dialect == db.Dialect {
			panic("schema: two descriptors of the database " + string(db.Dialect))
		}
	}
	databases = append(databases, db)
}

// Database returns the descriptor of the dialect.
func (d Dialect) Database() *Database {
	for _, db := range databases {
		if db.Dialect == d {
			return db
		}
	}
	panic("schema: no driver registered the database " + string(d) + ": import its package under drivers/ (drivers/all imports them all)")
}

// DatabaseFor returns the database a URI scheme names ("postgresql+psycopg2" names
// PostgreSQL), or false.
func DatabaseFor(scheme string) (*Database, bool) {
	base, _, _ := strings.Cut(strings.ToLower(scheme), "+")
	for _, db := range databases {
		for _, s := range db.Schemes {
			if s == base {
				return db, true
			}
		}
	}
	return nil, false
}

// Databases lists every database mlflow-bulk knows.
func Databases() []*Database { return append([]*Database(nil), databases...) }

// FileDatabase is the registered database that lives in a file (its descriptor has a
// FileURI), which a bare path names.
func FileDatabase() (*Database, bool) {
	for _, db := range databases {
		if db.FileURI != nil {
			return db, true
		}
	}
	return nil, false
}

// KeywordValueDatabase is the registered database whose client takes key=value strings.
func KeywordValueDatabase() (*Database, bool) {
	for _, db := range databases {
		if db.KeywordValue {
			return db, true
		}
	}
	return nil, false
}

// URISchemes lists the URI schemes of every database, as "scheme://", sorted.
func URISchemes() []string {
	var out []string
	for _, db := range databases {
		for _, s := range db.Schemes {
			out = append(out, s+"://")
		}
	}
	sort.Strings(out)
	return out
}

// Query rewrites a query of mlflow-bulk's ('?' placeholders) for the database.
func (db *Database) Query(query string) string {
	if db.Placeholders == nil {
		return query
	}
	return db.Placeholders(query)
}

func (db *Database) String() string { return fmt.Sprintf("%s (%s)", db.Name, db.Dialect) }

func DoubleQuote(name string) string { return `"` + strings.ReplaceAll(name, `"`, `""`) + `"` }
