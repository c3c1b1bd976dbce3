package rules

// The rules are data in and data out, but their tests describe targets by the
// databases' descriptors, which the drivers register.
import "github.com/mlflow-bulk/mlflow-bulk/drivers/all"

// The registry the command builds gives schema the drivers' descriptors.
var _ = all.Registry()
