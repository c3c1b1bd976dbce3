package dburi_test

// Which schemes name a database is the drivers' to say: they register it as they load.
import _ "github.com/mlflow-bulk/mlflow-bulk/drivers/all"
