package main

import (
	"os"

	"github.com/mlflow-bulk/mlflow-bulk/drivers"
	"github.com/mlflow-bulk/mlflow-bulk/drivers/all"
)

// Factory holds what every command is built with, as the GitHub CLI's factory does: the
// terminal streams (with the clock progress is measured by) and the database drivers,
// built once here and passed down; nothing below the command names a database.
type Factory struct {
	IOStreams *IOStreams
	Drivers   *drivers.Registry
}

// NewFactory returns the factory of a real run: every database driver, reading the
// passwords a URI lacks from the variables each database's own client reads.
func NewFactory(io *IOStreams) *Factory {
	return &Factory{IOStreams: io, Drivers: all.Registry().WithEnvironment(os.Getenv)}
}

// environment is where the command reads variables it hands to libraries, which read
// none themselves (a tracking server's credentials).
var environment = os.Getenv
