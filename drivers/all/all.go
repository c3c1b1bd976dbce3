// Package all lists every database mlflow-bulk works with. A new database is one
// package under drivers/ and one line here.
package all

import (
	"github.com/mlflow-bulk/mlflow-bulk/drivers"
	"github.com/mlflow-bulk/mlflow-bulk/drivers/mysql"
	"github.com/mlflow-bulk/mlflow-bulk/drivers/postgres"
	"github.com/mlflow-bulk/mlflow-bulk/drivers/sqlite"
)

// Registry returns the drivers of every database.
func Registry() *drivers.Registry {
	return drivers.NewRegistry(postgres.Driver{}, mysql.Driver{}, sqlite.Driver{})
}
