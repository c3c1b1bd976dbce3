package sources

import "github.com/mlflow-bulk/mlflow-bulk/schema"

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
// *LoggedModel, *RegisteredModel, *Trace, *TableChunk, *Skipped, *Notice or *Invalid.
type Record interface{ isRecord() }

// Lifecycle is the lifecycle stage MLflow keeps for experiments and runs.
type Lifecycle string

const (
	LifecycleActive  Lifecycle = "active"
	LifecycleDeleted Lifecycle = "deleted"
)

// RunStatus is a run's status as MLflow's SQL store names it (the file store writes the
// numbers 1 to 5 for them, in this order).
type RunStatus string

const (
	StatusRunning   RunStatus = "RUNNING"
	StatusScheduled RunStatus = "SCHEDULED"
	StatusFinished  RunStatus = "FINISHED"
	StatusFailed    RunStatus = "FAILED"
	StatusKilled    RunStatus = "KILLED"
)

// RunStatuses are the statuses in the file store's numbering, 1 first.
var RunStatuses = []RunStatus{StatusRunning, StatusScheduled, StatusFinished, StatusFailed, StatusKilled}

// Valid reports whether the status is one of MLflow's.
func (s RunStatus) Valid() bool {
	for _, v := range RunStatuses {
		if s == v {
			return true
		}
	}
	return false
}

// SourceType is a run's legacy source type column (NOTEBOOK, JOB, PROJECT, LOCAL,
// UNKNOWN; the file store numbers them 1 to 5 in this order).
type SourceType string

const (
	SourceNotebook SourceType = "NOTEBOOK"
	SourceJob      SourceType = "JOB"
	SourceProject  SourceType = "PROJECT"
	SourceLocal    SourceType = "LOCAL"
	SourceUnknown  SourceType = "UNKNOWN"
)

// SourceTypes are the source types in the file store's numbering, 1 first.
var SourceTypes = []SourceType{SourceNotebook, SourceJob, SourceProject, SourceLocal, SourceUnknown}

// Valid reports whether the source type is one of MLflow's.
func (t SourceType) Valid() bool {
	for _, v := range SourceTypes {
		if t == v {
			return true
		}
	}
	return false
}

// Origin says where a record came from, for messages: a file (or table) and a line
// (or row) number, 0 when unknown.
type Origin struct {
	File string `json:"file"`
	Line int    `json:"line"`
}

// Tag is a key/value pair (run tags, experiment tags, input tags). The file store keeps
// no NULL values; Value is the text as stored.
type Tag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Experiment is an MLflow experiment as the source holds it.
type Experiment struct {
	// SourceID is the experiment id in the source ("0", "7", "269502884478771284").
	SourceID         string `json:"id"`
	Name             string `json:"name"`
	ArtifactLocation string `json:"artifact_location"`
	// LifecycleStage is "active" or "deleted". File-store experiments under .trash are
	// reported as deleted whatever their meta.yaml says.
	LifecycleStage Lifecycle `json:"lifecycle_stage"`
	CreationTime   *int64    `json:"creation_time,omitempty"` // epoch ms; nil before MLflow 1.29
	LastUpdateTime *int64    `json:"last_update_time,omitempty"`
	Tags           []Tag     `json:"tags,omitempty"`
	// Workspace is the MLflow workspace (3.10 and later) the experiment belongs to;
	// empty where the source has none, which is the default workspace.
	Workspace string `json:"workspace,omitempty"`
	Origin    Origin `json:"-"`
}

// Dataset is a dataset logged to an experiment (MLflow ≥ 2.4).
type Dataset struct {
	ExperimentSourceID string `json:"experiment_id"`
	// Key identifies the dataset within its source experiment; Inputs refer to it. It
	// is a reference between records, never written, so no value check looks at it.
	Key string `json:"key" check:"-"`
	// UUID is the dataset_uuid an MLflow database gave it, kept where the target allows;
	// empty for sources without one (the file store).
	UUID       string  `json:"uuid,omitempty"`
	Name       string  `json:"name"`
	Digest     string  `json:"digest"`
	SourceType string  `json:"source_type"`
	Source     string  `json:"source"`
	Schema     *string `json:"schema,omitempty"`
	Profile    *string `json:"profile,omitempty"`
	Origin     Origin  `json:"-"`
}

// Run is one run with its params, tags and inputs. Its metric history follows as
// Metrics records.
type Run struct {
	RunID              string     `json:"run_id"`
	ExperimentSourceID string     `json:"experiment_id"`
	Name               string     `json:"name"`
	SourceType         SourceType `json:"source_type"`
	SourceName         string     `json:"source_name"`
	EntryPointName     string     `json:"entry_point_name"`
	SourceVersion      string     `json:"source_version"`
	UserID             string     `json:"user_id"`
	Status             RunStatus  `json:"status"`
	StartTime          *int64     `json:"start_time,omitempty"`
	EndTime            *int64     `json:"end_time,omitempty"`
	DeletedTime        *int64     `json:"deleted_time,omitempty"`
	LifecycleStage     Lifecycle  `json:"lifecycle_stage"`
	ArtifactURI        string     `json:"artifact_uri"`
	// ArtifactsAt is a local folder that holds the run's artifacts where the source
	// knows one (a file store's or an export's run folder): ArtifactURI may name where
	// the files were when they were logged, on another machine.
	ArtifactsAt string  `json:"-"`
	Params      []Tag   `json:"params,omitempty"`
	Tags        []Tag   `json:"tags,omitempty"`
	Inputs      []Input `json:"inputs,omitempty"`
	// LatestMetrics is the source's own latest_metrics (MLflow databases): the importer
	// recomputes them from the history and reports where the two differ.
	LatestMetrics []Metric `json:"-"`
	// Verbatim marks rows written by MLflow itself (a database source): the importer
	// copies them as they are instead of reconciling runs.name with mlflow.runName.
	Verbatim bool `json:"verbatim"`
	// MetricsOnly marks a run known only by its metric points (a long-format CSV): a
	// run the target holds keeps everything but gains the points.
	MetricsOnly bool `json:"metrics_only,omitempty"`
	// KeyFolder is the folder whose params/ and tags/ hold one file per key (a file
	// store's run folder), for naming the file of a bad param or tag; "" for others.
	KeyFolder string `json:"-"`
	Origin    Origin `json:"-"`
	// Stamp sums up the sizes and modification times of the run's files as they were
	// before it was read (file stores); 0 when unknown, as for a run being written.
	Stamp uint64 `json:"-"`
	// Unchanged marks a run left unread because its stamp is the one the consumer said
	// it holds (RunStamper): only RunID, ExperimentSourceID, Stamp, KeyFolder and Origin
	// are set. Only a consumer that asked for it gets such a record.
	Unchanged bool `json:"-"`
}

// Input is an edge of MLflow's inputs table seen from a run: a dataset used by the run
// (SourceType DATASET, SourceID = Dataset.Key of the run's experiment) or a logged model
// used or produced by it (RUN_INPUT/MODEL_INPUT, RUN_OUTPUT/MODEL_OUTPUT with the model id
// as DestinationID).
type Input struct {
	// UUID is the input_uuid of an MLflow database, kept; empty for other sources.
	UUID            string `json:"uuid,omitempty"`
	SourceType      string `json:"source_type"`
	SourceID        string `json:"source_id"`
	DestinationType string `json:"destination_type"`
	DestinationID   string `json:"destination_id"`
	Step            int64  `json:"step"`
	Tags            []Tag  `json:"tags,omitempty"`
}

// Metric is one logged point with its raw value.
type Metric struct {
	Key       string  `json:"key"`
	Value     float64 `json:"value"`
	Timestamp int64   `json:"timestamp"`
	Step      int64   `json:"step"`
}

// Metrics is a chunk of the metric history of one run, in logging order. Sources may
// reuse Points between calls to Next: the importer copies what it keeps.
type Metrics struct {
	RunID  string   `json:"run_id"`
	Points []Metric `json:"points,omitempty"`
	Origin Origin   `json:"-"`
}

// Skipped reports something in the source that is not MLflow tracking data, or not
// data mlflow-bulk imports, and was therefore passed over on purpose.
type Skipped struct {
	Path   string `json:"path"`
	Reason string `json:"reason"`
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
	ModelID              string  `json:"model_id"`
	ExperimentSourceID   string  `json:"experiment_id"`
	Name                 string  `json:"name"`
	ArtifactLocation     string  `json:"artifact_location"`
	CreationTimestamp    int64   `json:"creation_timestamp"`
	LastUpdatedTimestamp int64   `json:"last_updated_timestamp"`
	Status               int64   `json:"status"`
	LifecycleStage       *string `json:"lifecycle_stage,omitempty"`
	ModelType            *string `json:"model_type,omitempty"`
	SourceRunID          *string `json:"source_run_id,omitempty"`
	StatusMessage        *string `json:"status_message,omitempty"`
	// ArtifactsAt is a local folder holding the model's files where the source knows
	// one (see Run.ArtifactsAt).
	ArtifactsAt string        `json:"-"`
	Params      []Tag         `json:"params,omitempty"`
	Tags        []Tag         `json:"tags,omitempty"`
	Metrics     []ModelMetric `json:"metrics,omitempty"`
	Origin      Origin        `json:"-"`
}

// ModelMetric is a metric logged against a logged model, as MLflow stores it.
type ModelMetric struct {
	// ExperimentSourceID is the row's own experiment id, which MLflow does not always
	// set to the model's (metrics logged from a run of another experiment).
	ExperimentSourceID string   `json:"experiment_id"`
	Name               string   `json:"name"`
	Timestamp          int64    `json:"timestamp"`
	Step               int64    `json:"step"`
	Value              *float64 `json:"value,omitempty"`
	RunID              string   `json:"run_id"`
	DatasetUUID        *string  `json:"dataset_uuid,omitempty"`
	DatasetName        *string  `json:"dataset_name,omitempty"`
	DatasetDigest      *string  `json:"dataset_digest,omitempty"`
}

// RegisteredModel is a model of the model registry with its versions, tags and aliases.
type RegisteredModel struct {
	Name            string         `json:"name"`
	CreationTime    *int64         `json:"creation_time,omitempty"`
	LastUpdatedTime *int64         `json:"last_updated_time,omitempty"`
	Description     *string        `json:"description,omitempty"`
	Tags            []Tag          `json:"tags,omitempty"`
	Versions        []ModelVersion `json:"versions,omitempty"`
	Aliases         []ModelAlias   `json:"aliases,omitempty"`
	// Workspace is the MLflow workspace the model belongs to; empty is the default one.
	Workspace string `json:"workspace,omitempty"`
	Origin    Origin `json:"-"`
}

// ModelVersion is one version of a registered model.
type ModelVersion struct {
	Version         int64   `json:"version"`
	CreationTime    *int64  `json:"creation_time,omitempty"`
	LastUpdatedTime *int64  `json:"last_updated_time,omitempty"`
	Description     *string `json:"description,omitempty"`
	UserID          *string `json:"user_id,omitempty"`
	CurrentStage    *string `json:"current_stage,omitempty"`
	Source          *string `json:"source,omitempty"`
	RunID           *string `json:"run_id,omitempty"`
	Status          *string `json:"status,omitempty"`
	StatusMessage   *string `json:"status_message,omitempty"`
	RunLink         *string `json:"run_link,omitempty"`
	StorageLocation *string `json:"storage_location,omitempty"`
	Tags            []Tag   `json:"tags,omitempty"`
}

// ModelAlias names a version of a registered model.
type ModelAlias struct {
	Alias   string `json:"alias"`
	Version int64  `json:"version"`
}

func (*LoggedModel) isRecord()     {}
func (*RegisteredModel) isRecord() {}

// Trace is an MLflow trace: its trace_info row and the rows of every table that refers
// to it (tags, request metadata, spans, assessments, metrics), column by column as the
// source's revision has them. Traces change shape from release to release, so they
// travel as rows and the importer writes the columns the target has.
type Trace struct {
	RequestID          string `json:"request_id"`
	ExperimentSourceID string `json:"experiment_id"`
	// Tables starts with trace_info; the others follow in foreign-key order.
	Tables []TableRows `json:"tables,omitempty"`
	// ArtifactsAt is a local folder holding the trace's spans where the source knows one
	// (see Run.ArtifactsAt).
	ArtifactsAt string `json:"-"`
	Origin      Origin `json:"-"`
}

// TableRows are rows of one table.
type TableRows struct {
	Table   string   `json:"table"`
	Columns []string `json:"columns,omitempty"`
	Rows    [][]any  `json:"rows,omitempty"`
}

func (*Trace) isRecord() {}

// TableChunk is rows of a table mlflow-bulk has no rules for (jobs, scorers, gateway
// endpoints, review queues, whatever a newer MLflow adds), copied as MLflow wrote them. A
// database source sends each such table after everything else, parents before children,
// in chunks of bounded size.
type TableChunk struct {
	// Table describes the table in the source: its columns, key and references, which
	// tell the importer which values are experiment ids to map.
	Table   *schema.TableInfo `json:"table"`
	Columns []string          `json:"columns"`
	// Rows hold text as strings, bytes of binary columns as []byte, numbers and
	// booleans as the driver gives them, NULL as nil.
	Rows   [][]any `json:"rows"`
	Origin Origin  `json:"-"`
}

func (*TableChunk) isRecord() {}

// Notice tells the report how the source read ambiguous input (which CSV columns were
// taken for params and which for metrics).
type Notice struct {
	Path    string
	Message string
}

func (*Notice) isRecord() {}
