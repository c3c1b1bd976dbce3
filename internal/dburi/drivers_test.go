package dburi_test

// Which schemes name a database is the drivers' to say: they register it as they load.
import "github.com/mlflow-bulk/mlflow-bulk/drivers/all"

// The registry the command builds gives schema the drivers' descriptors.
var _ = all.Registry()
