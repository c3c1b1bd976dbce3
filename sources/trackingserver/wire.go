package trackingserver

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/mlflow-bulk/mlflow-bulk/sources"
	"github.com/mlflow-bulk/mlflow-bulk/sources/internal/jsonfile"
)

// The shapes of MLflow's REST answers (service.proto, written as JSON by MLflow's
// message_to_json: field names as in the .proto, enums by name, int64 as numbers or, by
// protobuf's own rule, as strings; doubles NaN and ±Infinity as strings).

// int64Value is an int64 written as a number or a string.
type int64Value int64

func (v *int64Value) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return fmt.Errorf("%q is not an integer", s)
		}
		*v = int64Value(n)
		return nil
	}
	var n int64
	if err := json.Unmarshal(b, &n); err != nil {
		return err
	}
	*v = int64Value(n)
	return nil
}

// optionalTime is an epoch-millisecond time that may be absent.
func optionalTime(v *int64Value) *int64 {
	if v == nil {
		return nil
	}
	n := int64(*v)
	return &n
}

type keyValue struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

func tags(kvs []keyValue) []sources.Tag {
	if len(kvs) == 0 {
		return nil
	}
	out := make([]sources.Tag, len(kvs))
	for i, kv := range kvs {
		out[i] = sources.Tag{Key: kv.Key, Value: kv.Value}
	}
	return out
}

type wireExperiment struct {
	ExperimentID     string      `json:"experiment_id"`
	Name             string      `json:"name"`
	ArtifactLocation string      `json:"artifact_location"`
	LifecycleStage   string      `json:"lifecycle_stage"`
	LastUpdateTime   *int64Value `json:"last_update_time"`
	CreationTime     *int64Value `json:"creation_time"`
	Tags             []keyValue  `json:"tags"`
}

type searchExperiments struct {
	Experiments   []wireExperiment `json:"experiments"`
	NextPageToken string           `json:"next_page_token"`
}

type wireMetric struct {
	Key       string         `json:"key"`
	Value     jsonfile.Float `json:"value"`
	Timestamp int64Value     `json:"timestamp"`
	Step      int64Value     `json:"step"`
}

type wireDataset struct {
	Name       string  `json:"name"`
	Digest     string  `json:"digest"`
	SourceType string  `json:"source_type"`
	Source     string  `json:"source"`
	Schema     *string `json:"schema"`
	Profile    *string `json:"profile"`
}

type wireRun struct {
	Info struct {
		RunID          string      `json:"run_id"`
		RunUUID        string      `json:"run_uuid"`
		RunName        string      `json:"run_name"`
		ExperimentID   string      `json:"experiment_id"`
		UserID         string      `json:"user_id"`
		Status         string      `json:"status"`
		StartTime      *int64Value `json:"start_time"`
		EndTime        *int64Value `json:"end_time"`
		ArtifactURI    string      `json:"artifact_uri"`
		LifecycleStage string      `json:"lifecycle_stage"`
	} `json:"info"`
	Data struct {
		Metrics []wireMetric `json:"metrics"`
		Params  []keyValue   `json:"params"`
		Tags    []keyValue   `json:"tags"`
	} `json:"data"`
	Inputs struct {
		DatasetInputs []struct {
			Tags    []keyValue  `json:"tags"`
			Dataset wireDataset `json:"dataset"`
		} `json:"dataset_inputs"`
		ModelInputs []struct {
			ModelID string `json:"model_id"`
		} `json:"model_inputs"`
	} `json:"inputs"`
	Outputs struct {
		ModelOutputs []struct {
			ModelID string     `json:"model_id"`
			Step    int64Value `json:"step"`
		} `json:"model_outputs"`
	} `json:"outputs"`
}

type searchRuns struct {
	Runs          []wireRun `json:"runs"`
	NextPageToken string    `json:"next_page_token"`
}

type metricHistory struct {
	Metrics       []wireMetric `json:"metrics"`
	NextPageToken string       `json:"next_page_token"`
}

type wireWorkspace struct {
	Name        string  `json:"name"`
	Description *string `json:"description"`
}

type listWorkspaces struct {
	Workspaces []wireWorkspace `json:"workspaces"`
}

// datasetKey is what identifies a dataset within its experiment, as MLflow's SQL store
// keys it (name and digest).
func datasetKey(d wireDataset) string { return d.Name + "\x00" + d.Digest }

// experiment is the record of an experiment as the server shows it.
func (e wireExperiment) record(workspace string, origin sources.Origin) *sources.Experiment {
	return &sources.Experiment{SourceID: e.ExperimentID, Name: e.Name, ArtifactLocation: e.ArtifactLocation,
		LifecycleStage: sources.Lifecycle(e.LifecycleStage), CreationTime: optionalTime(e.CreationTime), LastUpdateTime: optionalTime(e.LastUpdateTime),
		Tags: tags(e.Tags), Workspace: workspace, Origin: origin}
}

// record is the run as the server shows it. The legacy columns REST does not carry get
// the values MLflow's own store gives a run it creates (the report names them).
func (r *wireRun) record(origin sources.Origin) *sources.Run {
	id := r.Info.RunID
	if id == "" {
		id = r.Info.RunUUID
	}
	run := &sources.Run{RunID: id, ExperimentSourceID: r.Info.ExperimentID, Name: r.Info.RunName, UserID: r.Info.UserID,
		Status: sources.RunStatus(r.Info.Status), StartTime: optionalTime(r.Info.StartTime), EndTime: optionalTime(r.Info.EndTime),
		LifecycleStage: sources.Lifecycle(r.Info.LifecycleStage), ArtifactURI: r.Info.ArtifactURI,
		SourceType: sources.SourceUnknown, Params: tags(r.Data.Params), Tags: tags(r.Data.Tags), Verbatim: true, Origin: origin}
	for _, m := range r.Data.Metrics {
		run.LatestMetrics = append(run.LatestMetrics, sources.Metric{Key: m.Key, Value: float64(m.Value), Timestamp: int64(m.Timestamp), Step: int64(m.Step)})
	}
	for _, in := range r.Inputs.DatasetInputs {
		run.Inputs = append(run.Inputs, sources.Input{SourceType: "DATASET", SourceID: datasetKey(in.Dataset), DestinationType: "RUN", DestinationID: id, Tags: tags(in.Tags)})
	}
	for _, in := range r.Inputs.ModelInputs {
		run.Inputs = append(run.Inputs, sources.Input{SourceType: "RUN_INPUT", SourceID: id, DestinationType: "MODEL_INPUT", DestinationID: in.ModelID})
	}
	for _, out := range r.Outputs.ModelOutputs {
		run.Inputs = append(run.Inputs, sources.Input{SourceType: "RUN_OUTPUT", SourceID: id, DestinationType: "MODEL_OUTPUT", DestinationID: out.ModelID, Step: int64(out.Step)})
	}
	return run
}
