package dump

// The lines of a dump are these wire types of the dump's own, not the records readers
// stream: a record may gain, lose or rename a field for the pipeline's sake, and the
// files users keep must not change with it. Each type converts to and from its record;
// the golden dumps in testdata (read back and written again by export's tests) hold
// them to version 1 of the format, docs/dump-format.md.

type wireTag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

type wireExperiment struct {
	ID               string    `json:"id"`
	Name             string    `json:"name"`
	ArtifactLocation string    `json:"artifact_location"`
	LifecycleStage   string    `json:"lifecycle_stage"`
	CreationTime     *int64    `json:"creation_time,omitempty"`
	LastUpdateTime   *int64    `json:"last_update_time,omitempty"`
	Tags             []wireTag `json:"tags,omitempty"`
	Workspace        string    `json:"workspace,omitempty"`
}

type wireDataset struct {
	ExperimentID string  `json:"experiment_id"`
	Key          string  `json:"key" check:"-"` // a reference between lines, as sources.Dataset.Key
	UUID         string  `json:"uuid,omitempty"`
	Name         string  `json:"name"`
	Digest       string  `json:"digest"`
	SourceType   string  `json:"source_type"`
	Source       string  `json:"source"`
	Schema       *string `json:"schema,omitempty"`
	Profile      *string `json:"profile,omitempty"`
}

type wireRun struct {
	RunID          string      `json:"run_id"`
	ExperimentID   string      `json:"experiment_id"`
	Name           string      `json:"name"`
	SourceType     string      `json:"source_type"`
	SourceName     string      `json:"source_name"`
	EntryPointName string      `json:"entry_point_name"`
	SourceVersion  string      `json:"source_version"`
	UserID         string      `json:"user_id"`
	Status         string      `json:"status"`
	StartTime      *int64      `json:"start_time,omitempty"`
	EndTime        *int64      `json:"end_time,omitempty"`
	DeletedTime    *int64      `json:"deleted_time,omitempty"`
	LifecycleStage string      `json:"lifecycle_stage"`
	ArtifactURI    string      `json:"artifact_uri"`
	Params         []wireTag   `json:"params,omitempty"`
	Tags           []wireTag   `json:"tags,omitempty"`
	Inputs         []wireInput `json:"inputs,omitempty"`
	Verbatim       bool        `json:"verbatim"`
	MetricsOnly    bool        `json:"metrics_only,omitempty"`
}

type wireInput struct {
	UUID            string    `json:"uuid,omitempty"`
	SourceType      string    `json:"source_type"`
	SourceID        string    `json:"source_id"`
	DestinationType string    `json:"destination_type"`
	DestinationID   string    `json:"destination_id"`
	Step            int64     `json:"step"`
	Tags            []wireTag `json:"tags,omitempty"`
}

type wireLoggedModel struct {
	ModelID              string            `json:"model_id"`
	ExperimentID         string            `json:"experiment_id"`
	Name                 string            `json:"name"`
	ArtifactLocation     string            `json:"artifact_location"`
	CreationTimestamp    int64             `json:"creation_timestamp"`
	LastUpdatedTimestamp int64             `json:"last_updated_timestamp"`
	Status               int64             `json:"status"`
	LifecycleStage       *string           `json:"lifecycle_stage,omitempty"`
	ModelType            *string           `json:"model_type,omitempty"`
	SourceRunID          *string           `json:"source_run_id,omitempty"`
	StatusMessage        *string           `json:"status_message,omitempty"`
	Params               []wireTag         `json:"params,omitempty"`
	Tags                 []wireTag         `json:"tags,omitempty"`
	Metrics              []wireModelMetric `json:"metrics,omitempty"`
}

type wireModelMetric struct {
	ExperimentID  string   `json:"experiment_id"`
	Name          string   `json:"name"`
	Timestamp     int64    `json:"timestamp"`
	Step          int64    `json:"step"`
	Value         *float64 `json:"value,omitempty"`
	RunID         string   `json:"run_id"`
	DatasetUUID   *string  `json:"dataset_uuid,omitempty"`
	DatasetName   *string  `json:"dataset_name,omitempty"`
	DatasetDigest *string  `json:"dataset_digest,omitempty"`
}

type wireRegisteredModel struct {
	Name            string             `json:"name"`
	CreationTime    *int64             `json:"creation_time,omitempty"`
	LastUpdatedTime *int64             `json:"last_updated_time,omitempty"`
	Description     *string            `json:"description,omitempty"`
	Tags            []wireTag          `json:"tags,omitempty"`
	Versions        []wireModelVersion `json:"versions,omitempty"`
	Aliases         []wireModelAlias   `json:"aliases,omitempty"`
	Workspace       string             `json:"workspace,omitempty"`
}

type wireModelVersion struct {
	Version         int64     `json:"version"`
	CreationTime    *int64    `json:"creation_time,omitempty"`
	LastUpdatedTime *int64    `json:"last_updated_time,omitempty"`
	Description     *string   `json:"description,omitempty"`
	UserID          *string   `json:"user_id,omitempty"`
	CurrentStage    *string   `json:"current_stage,omitempty"`
	Source          *string   `json:"source,omitempty"`
	RunID           *string   `json:"run_id,omitempty"`
	Status          *string   `json:"status,omitempty"`
	StatusMessage   *string   `json:"status_message,omitempty"`
	RunLink         *string   `json:"run_link,omitempty"`
	StorageLocation *string   `json:"storage_location,omitempty"`
	Tags            []wireTag `json:"tags,omitempty"`
}

type wireModelAlias struct {
	Alias   string `json:"alias"`
	Version int64  `json:"version"`
}

type wireTrace struct {
	RequestID    string          `json:"request_id"`
	ExperimentID string          `json:"experiment_id"`
	Tables       []wireTableRows `json:"tables,omitempty"`
}

type wireTableRows struct {
	Table   string   `json:"table"`
	Columns []string `json:"columns,omitempty"`
	Rows    [][]any  `json:"rows,omitempty"`
}

type wireTableChunk struct {
	Table   *wireTableInfo `json:"table"`
	Columns []string       `json:"columns"`
	Rows    [][]any        `json:"rows"`
}

// wireTableInfo describes a table copied as rows: its columns, key and references.
type wireTableInfo struct {
	Name        string           `json:"name"`
	Columns     []wireColumnInfo `json:"columns"`
	PrimaryKey  []string         `json:"primary_key"`
	ForeignKeys []wireForeignKey `json:"foreign_keys"`
}

type wireColumnInfo struct {
	Name      string `json:"name"`
	Type      string `json:"type"`
	Default   string `json:"default"`
	Generated bool   `json:"generated"`
	Required  bool   `json:"required"`
	Boolean   bool   `json:"boolean"`
	Binary    bool   `json:"binary"`
}

type wireForeignKey struct {
	Columns    []string `json:"columns"`
	RefTable   string   `json:"ref_table"`
	RefColumns []string `json:"ref_columns"`
}
