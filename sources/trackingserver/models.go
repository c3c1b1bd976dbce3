package trackingserver

import (
	"context"
	"fmt"

	"github.com/mlflow-bulk/mlflow-bulk/sources"
	"github.com/mlflow-bulk/mlflow-bulk/sources/internal/jsonfile"
)

// Logged models (MLflow 3) as the REST API shows them: only those not deleted, and their
// metrics without the experiment or dataset id of the row.

type wireLoggedModel struct {
	Info struct {
		ModelID                string      `json:"model_id"`
		ExperimentID           string      `json:"experiment_id"`
		Name                   string      `json:"name"`
		CreationTimestampMS    int64Value  `json:"creation_timestamp_ms"`
		LastUpdatedTimestampMS int64Value  `json:"last_updated_timestamp_ms"`
		ArtifactURI            string      `json:"artifact_uri"`
		Status                 string      `json:"status"`
		ModelType              *string     `json:"model_type"`
		SourceRunID            *string     `json:"source_run_id"`
		StatusMessage          *string     `json:"status_message"`
		Tags                   []keyValue  `json:"tags"`
		CreatorID              *int64Value `json:"creator_id"`
	} `json:"info"`
	Data struct {
		Params  []keyValue `json:"params"`
		Metrics []struct {
			Key           string         `json:"key"`
			Value         jsonfile.Float `json:"value"`
			Timestamp     int64Value     `json:"timestamp"`
			Step          int64Value     `json:"step"`
			RunID         string         `json:"run_id"`
			DatasetName   *string        `json:"dataset_name"`
			DatasetDigest *string        `json:"dataset_digest"`
		} `json:"metrics"`
	} `json:"data"`
}

type searchLoggedModels struct {
	Models        []wireLoggedModel `json:"models"`
	NextPageToken string            `json:"next_page_token"`
}

// loggedModelStatus is the number MLflow's table keeps for a status name.
var loggedModelStatus = map[string]int64{"LOGGED_MODEL_STATUS_UNSPECIFIED": 0, "LOGGED_MODEL_PENDING": 1, "LOGGED_MODEL_READY": 2, "LOGGED_MODEL_UPLOAD_FAILED": 3}

// experimentsPerSearch bounds the experiment ids of one logged-model search.
const experimentsPerSearch = 100

// readLoggedModels streams the logged models of the experiments read.
func (s *server) readLoggedModels(ctx context.Context, c *client, experiments []string, out *pipeline) error {
	for len(experiments) > 0 {
		batch := experiments[:min(experimentsPerSearch, len(experiments))]
		experiments = experiments[len(batch):]
		token := ""
		for {
			body := map[string]any{"experiment_ids": batch, "max_results": modelsPage}
			if token != "" {
				body["page_token"] = token
			}
			var page searchLoggedModels
			err := c.post(ctx, "/api/2.0/mlflow/logged-models/search", body, &page)
			if notFound(err) {
				return nil // a server before MLflow 3 has none
			}
			if err != nil {
				return err
			}
			for i := range page.Models {
				rec, inErr := page.Models[i].record(s.Describe())
				if inErr != nil {
					err = out.record(ctx, &sources.Invalid{Err: inErr})
				} else {
					s.modelLocations[rec.ModelID] = rec.ArtifactLocation
					err = out.record(ctx, rec)
				}
				if err != nil {
					return err
				}
			}
			if token = page.NextPageToken; token == "" || len(page.Models) == 0 {
				break
			}
		}
	}
	return nil
}

func (m *wireLoggedModel) record(server string) (*sources.LoggedModel, *sources.InputError) {
	origin := sources.Origin{File: server + " logged model " + m.Info.ModelID}
	status, ok := loggedModelStatus[m.Info.Status]
	if !ok {
		return nil, &sources.InputError{File: origin.File, Err: fmt.Errorf("status %q is not one of MLflow's", m.Info.Status)}
	}
	active := string(sources.LifecycleActive)
	rec := &sources.LoggedModel{ModelID: m.Info.ModelID, ExperimentSourceID: m.Info.ExperimentID, Name: m.Info.Name, ArtifactLocation: m.Info.ArtifactURI,
		CreationTimestamp: int64(m.Info.CreationTimestampMS), LastUpdatedTimestamp: int64(m.Info.LastUpdatedTimestampMS), Status: status,
		LifecycleStage: &active, ModelType: m.Info.ModelType, SourceRunID: m.Info.SourceRunID, StatusMessage: m.Info.StatusMessage,
		Params: tags(m.Data.Params), Tags: tags(m.Info.Tags), Origin: origin}
	for _, mm := range m.Data.Metrics {
		v := float64(mm.Value)
		rec.Metrics = append(rec.Metrics, sources.ModelMetric{ExperimentSourceID: m.Info.ExperimentID, Name: mm.Key, Timestamp: int64(mm.Timestamp), Step: int64(mm.Step),
			Value: &v, RunID: mm.RunID, DatasetName: mm.DatasetName, DatasetDigest: mm.DatasetDigest})
	}
	return rec, nil
}
