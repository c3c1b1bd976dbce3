// Command mlflow-bulk moves MLflow tracking data in bulk: file stores, dumps and MLflow
// databases into MLflow's own SQL schema on PostgreSQL, MySQL/MariaDB or SQLite.
package main

import (
	"os"
	"runtime/debug"
	_ "time/tzdata" // --csv-timezone works where the machine has no zone database
)

// memoryLimit is the memory the Go runtime aims to stay within unless GOMEMLIMIT says
// otherwise. What an import holds follows its batches, plus a few dozen bytes per
// experiment and run for the report and the id mapping; by default the runtime lets the
// heap grow to twice what is held before it collects, which for a store of 100,000
// experiments is twice the memory the import needs. Past the limit it collects sooner
// (a soft limit: more is used rather than fail). The program's own code and tables
// take about 45 MB of memory beside it (the cloud storage libraries are most of it),
// so 100 MiB keeps an import near 150 MB.
const memoryLimit = 100 << 20

func main() {
	if _, set := os.LookupEnv("GOMEMLIMIT"); !set {
		debug.SetMemoryLimit(memoryLimit)
	}
	os.Exit(int(Main(os.Args[1:], System())))
}
