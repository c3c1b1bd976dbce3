package sqlite

import "github.com/mlflow-bulk/mlflow-bulk/drivers"

// The tests parse this database's URIs, whose scheme schema knows once a registry holds
// the driver, as the command's does.
var _ = drivers.NewRegistry(Driver{})
