package sources

import "regexp"

// Facts of MLflow's formats that more than one reader needs.

// runIDPattern is the form of the run ids MLflow makes: 32 lowercase hex digits.
var runIDPattern = regexp.MustCompile(`^[0-9a-f]{32}$`)

// loggedModelStatuses are the logged-model statuses by the number MLflow stores.
var loggedModelStatuses = []string{"UNSPECIFIED", "PENDING", "READY", "FAILED"}

// assessmentSourceRunID is the metadata key MLflow reads an assessment's run from when
// the assessment itself names none.
const assessmentSourceRunID = "mlflow.assessment.sourceRunId"
