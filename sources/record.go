package sources

// Records are what sources stream to the importer. They carry MLflow's entities in
// source terms: experiment ids are the source's own strings (the importer maps them to
// target ids), metric values are raw (NaN and ±Inf kept; the importer sanitises them the
// way MLflow's SQL store does), and statuses and source types use MLflow's SQL names.
//
// Order of a stream: an Experiment comes before its Datasets and Runs; a Run comes
// before the Metrics records that belong to it, and all Metrics of a run follow it
// directly (the next Run, Experiment or the end of the stream closes the run). Logged
// models, registered models and traces come after all runs. Skipped and Invalid records may
// appear anywhere.

// Record is one item of a source's stream: *Experiment, *Dataset, *Run, *Metrics,
// *LoggedModel, *RegisteredModel, *Trace, *Skipped or *Invalid.
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

// LoggedModel is an MLflow 3 logged model with its params, tags and metrics. It comes
// after the runs of its source, which its metrics refer to.
type LoggedModel struct {
	ModelID              string
	ExperimentSourceID   string
	Name                 string
	ArtifactLocation     string
	CreationTimestamp    int64
	LastUpdatedTimestamp int64
	Status               int64
	LifecycleStage       *string
	ModelType            *string
	SourceRunID          *string
	StatusMessage        *string
	Params               []Tag
	Tags                 []Tag
	Metrics              []ModelMetric
	Origin               Origin
}

// ModelMetric is a metric logged against a logged model, as MLflow stores it.
type ModelMetric struct {
	// ExperimentSourceID is the row's own experiment id, which MLflow does not always
	// set to the model's (metrics logged from a run of another experiment).
	ExperimentSourceID string
	Name               string
	Timestamp          int64
	Step               int64
	Value              *float64
	RunID              string
	DatasetUUID        *string
	DatasetName        *string
	DatasetDigest      *string
}

// RegisteredModel is a model of the model registry with its versions, tags and aliases.
type RegisteredModel struct {
	Name            string
	CreationTime    *int64
	LastUpdatedTime *int64
	Description     *string
	Tags            []Tag
	Versions        []ModelVersion
	Aliases         []ModelAlias
	Origin          Origin
}

// ModelVersion is one version of a registered model.
type ModelVersion struct {
	Version         int64
	CreationTime    *int64
	LastUpdatedTime *int64
	Description     *string
	UserID          *string
	CurrentStage    *string
	Source          *string
	RunID           *string
	Status          *string
	StatusMessage   *string
	RunLink         *string
	StorageLocation *string
	Tags            []Tag
}

// ModelAlias names a version of a registered model.
type ModelAlias struct {
	Alias   string
	Version int64
}

func (*LoggedModel) isRecord()     {}
func (*RegisteredModel) isRecord() {}

// Trace is an MLflow trace: its trace_info row and the rows of every table that refers
// to it (tags, request metadata, spans, assessments, metrics), column by column as the
// source's revision has them. Traces change shape from release to release, so they
// travel as rows and the importer writes the columns the target has.
type Trace struct {
	RequestID          string
	ExperimentSourceID string
	// Tables starts with trace_info; the others follow in foreign-key order.
	Tables []TableRows
	Origin Origin
}

// TableRows are rows of one table.
type TableRows struct {
	Table   string
	Columns []string
	Rows    [][]any
}

func (*Trace) isRecord() {}
