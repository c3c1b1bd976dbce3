// Command mlflow-bulk moves MLflow tracking data in bulk: file stores, dumps and MLflow
// databases into MLflow's own SQL schema on PostgreSQL, MySQL/MariaDB or SQLite.
package main

import (
	"os"
	_ "time/tzdata" // --csv-timezone works where the machine has no zone database
)

func main() { os.Exit(int(Main(os.Args[1:], System()))) }
