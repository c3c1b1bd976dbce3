package sources

import "regexp"

// Facts of MLflow's formats that more than one reader needs.

// RunIDPattern is the form of the run ids MLflow makes: 32 lowercase hex digits.
var RunIDPattern = regexp.MustCompile(`^[0-9a-f]{32}$`)

// LoggedModelStatuses are the logged-model statuses by the number MLflow stores.
var LoggedModelStatuses = []string{"UNSPECIFIED", "PENDING", "READY", "FAILED"}

// AssessmentSourceRunID is the metadata key MLflow reads an assessment's run from when
// the assessment itself names none.
const AssessmentSourceRunID = "mlflow.assessment.sourceRunId"
