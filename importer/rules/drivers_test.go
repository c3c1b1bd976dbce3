package rules

// The rules are data in and data out, but their tests describe targets by the
// databases' descriptors, which the drivers register.
import _ "github.com/mlflow-bulk/mlflow-bulk/drivers/all"
