package sources

// Records are what sources stream to the importer. They carry MLflow's entities in
// source terms: experiment ids are the source's own strings (the importer maps them to
// target ids), metric values are raw (NaN and ±Inf kept; the importer sanitises them the
// way MLflow's SQL store does), and statuses and source types use MLflow's SQL names.
//
// Order of a stream: an Experiment comes before its Datasets and Runs; a Run comes
// before the Metrics records that belong to it, and all Metrics of a run follow it
// directly (the next Run, Experiment or the end of the stream closes the run). Skipped
// and Invalid records may appear anywhere.

// Record is one item of a source's stream: *Experiment, *Dataset, *Run, *Metrics,
// *Skipped or *Invalid.
type Record interface{ isRecord() }

// Origin says where a record came from, for messages: a file (or table) and a line
// (or row) number, 0 when unknown.
type Origin struct {
	File string
	Line int
}

// Tag is a key/value pair (run tags, experiment tags, input tags). The file store keeps
// no NULL values; Value is the text as stored.
type Tag struct {
	Key   string
	Value string
}

// Experiment is an MLflow experiment as the source holds it.
type Experiment struct {
	// SourceID is the experiment id in the source ("0", "7", "269502884478771284").
	SourceID         string
	Name             string
	ArtifactLocation string
	// LifecycleStage is "active" or "deleted". File-store experiments under .trash are
	// reported as deleted whatever their meta.yaml says.
	LifecycleStage string
	CreationTime   *int64 // epoch ms; nil before MLflow 1.29
	LastUpdateTime *int64
	Tags           []Tag
	Origin         Origin
}

// Dataset is a dataset logged to an experiment (MLflow ≥ 2.4).
type Dataset struct {
	ExperimentSourceID string
	// Key identifies the dataset within its source experiment; Inputs refer to it.
	Key string
	// UUID is the dataset_uuid an MLflow database gave it, kept where the target allows;
	// empty for sources without one (the file store).
	UUID       string
	Name       string
	Digest     string
	SourceType string
	Source     string
	Schema     *string
	Profile    *string
	Origin     Origin
}

// Run is one run with its params, tags and inputs. Its metric history follows as
// Metrics records.
type Run struct {
	RunID              string
	ExperimentSourceID string
	Name               string
	SourceType         string // NOTEBOOK, JOB, PROJECT, LOCAL, UNKNOWN
	SourceName         string
	EntryPointName     string
	SourceVersion      string
	UserID             string
	Status             string // RUNNING, SCHEDULED, FINISHED, FAILED, KILLED
	StartTime          *int64
	EndTime            *int64
	DeletedTime        *int64
	LifecycleStage     string // active, deleted
	ArtifactURI        string
	Params             []Tag
	Tags               []Tag
	Inputs             []Input
	// LatestMetrics is the source's own latest_metrics (MLflow databases): the importer
	// recomputes them from the history and reports where the two differ.
	LatestMetrics []Metric
	// Verbatim marks rows written by MLflow itself (a database source): the importer
	// copies them as they are instead of reconciling runs.name with mlflow.runName.
	Verbatim bool
	Origin   Origin
}

// Input is an edge of MLflow's inputs table seen from a run: a dataset used by the run
// (SourceType DATASET, SourceID = Dataset.Key of the run's experiment) or a logged model
// used or produced by it (RUN_INPUT/MODEL_INPUT, RUN_OUTPUT/MODEL_OUTPUT with the model id
// as DestinationID).
type Input struct {
	// UUID is the input_uuid of an MLflow database, kept; empty for other sources.
	UUID            string
	SourceType      string
	SourceID        string
	DestinationType string
	DestinationID   string
	Step            int64
	Tags            []Tag
}

// Metric is one logged point with its raw value.
type Metric struct {
	Key       string
	Value     float64
	Timestamp int64
	Step      int64
}

// Metrics is a chunk of the metric history of one run, in logging order. Sources may
// reuse Points between calls to Next: the importer copies what it keeps.
type Metrics struct {
	RunID  string
	Points []Metric
	Origin Origin
}

// Skipped reports something in the source that is not MLflow tracking data, or not
// data mlflow-bulk imports, and was therefore passed over on purpose.
type Skipped struct {
	Path   string
	Reason string
}

// Invalid reports input that could not be read: the run (or experiment, with all its
// runs) it belongs to has been left out of the stream. Any records of that run already
// streamed must be discarded by the consumer.
type Invalid struct {
	Err *InputError
}

func (*Experiment) isRecord() {}
func (*Dataset) isRecord()    {}
func (*Run) isRecord()        {}
func (*Metrics) isRecord()    {}
func (*Skipped) isRecord()    {}
func (*Invalid) isRecord()    {}
