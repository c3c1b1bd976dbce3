package verify

import (
	"context"

	"github.com/mlflow-bulk/mlflow-bulk/importer/rules"
	"github.com/mlflow-bulk/mlflow-bulk/schema/live"
	"github.com/mlflow-bulk/mlflow-bulk/tablerows"

	"github.com/mlflow-bulk/mlflow-bulk/schema"
	"github.com/mlflow-bulk/mlflow-bulk/sources"
)

// verify compares datasets, logged models and the model registry as the rows the import
// writes for them, with the same row comparison as tables copied as rows. Left out of
// the comparison, because an import may rightly change them: a dataset's uuid (new where
// the source has none), a logged model's artifact location (--artifact-root-map) and the
// dataset uuid its metrics name.

// recordRows are the rows of one table that a record stands for.
type recordRows struct {
	table   string
	columns []string
	rows    [][]any
	// workspace is the target workspace of registry rows ("" is the default one).
	workspace string
	// scope, when set, names the rows of the table an entity of the source owns: the
	// target's others are differences.
	scope *scope
}

func textOrNil(s *string) any {
	if s == nil {
		return nil
	}
	return *s
}

func int64OrNil(v *int64) any {
	if v == nil {
		return nil
	}
	return *v
}

func datasetRows(d *sources.Dataset) []recordRows {
	cols := []string{"experiment_id", "name", "digest", "dataset_source_type", "dataset_source", "dataset_schema", "dataset_profile"}
	row := []any{d.ExperimentSourceID, d.Name, d.Digest, d.SourceType, d.Source, textOrNil(d.Schema), textOrNil(d.Profile)}
	if d.UUID != "" {
		cols, row = append(cols, "dataset_uuid"), append(row, d.UUID)
	}
	return []recordRows{{table: "datasets", columns: cols, rows: [][]any{row}}}
}

func loggedModelRows(m *sources.LoggedModel, runInTarget func(string) bool) []recordRows {
	out := []recordRows{{table: "logged_models",
		columns: []string{"model_id", "experiment_id", "name", "creation_timestamp_ms", "last_updated_timestamp_ms", "status", "lifecycle_stage", "model_type", "source_run_id", "status_message"},
		rows: [][]any{{m.ModelID, m.ExperimentSourceID, m.Name, m.CreationTimestamp, m.LastUpdatedTimestamp, m.Status,
			textOrNil(m.LifecycleStage), textOrNil(m.ModelType), textOrNil(m.SourceRunID), textOrNil(m.StatusMessage)}}}}
	params := recordRows{table: "logged_model_params", columns: []string{"model_id", "experiment_id", "param_key", "param_value"}}
	for _, p := range m.Params {
		params.rows = append(params.rows, []any{m.ModelID, m.ExperimentSourceID, p.Key, p.Value})
	}
	tags := recordRows{table: "logged_model_tags", columns: []string{"model_id", "experiment_id", "tag_key", "tag_value"}}
	for _, t := range m.Tags {
		tags.rows = append(tags.rows, []any{m.ModelID, m.ExperimentSourceID, t.Key, t.Value})
	}
	metrics := recordRows{table: "logged_model_metrics",
		columns: []string{"model_id", "metric_name", "metric_timestamp_ms", "metric_step", "metric_value", "experiment_id", "run_id", "dataset_name", "dataset_digest"}}
	for _, mm := range m.Metrics {
		if !runInTarget(mm.RunID) {
			continue // left out by the import, which says so
		}
		var value any
		if mm.Value != nil {
			value, _ = rules.Sanitize(*mm.Value)
		}
		metrics.rows = append(metrics.rows, []any{m.ModelID, mm.Name, mm.Timestamp, mm.Step, value, mm.ExperimentSourceID, mm.RunID,
			textOrNil(mm.DatasetName), textOrNil(mm.DatasetDigest)})
	}
	owned := &scope{column: "model_id", value: m.ModelID}
	params.scope, tags.scope, metrics.scope = owned, owned, owned
	return append(out, params, tags, metrics)
}

func registryRows(m *sources.RegisteredModel) []recordRows {
	out := []recordRows{{table: "registered_models", columns: []string{"name", "creation_time", "last_updated_time", "description"},
		rows: [][]any{{m.Name, int64OrNil(m.CreationTime), int64OrNil(m.LastUpdatedTime), textOrNil(m.Description)}}}}
	versions := recordRows{table: "model_versions", columns: []string{"name", "version", "creation_time", "last_updated_time", "description", "user_id",
		"current_stage", "source", "run_id", "status", "status_message", "run_link", "storage_location"}}
	versionTags := recordRows{table: "model_version_tags", columns: []string{"name", "version", "key", "value"}}
	for _, v := range m.Versions {
		versions.rows = append(versions.rows, []any{m.Name, v.Version, int64OrNil(v.CreationTime), int64OrNil(v.LastUpdatedTime), textOrNil(v.Description),
			textOrNil(v.UserID), textOrNil(v.CurrentStage), textOrNil(v.Source), textOrNil(v.RunID), textOrNil(v.Status), textOrNil(v.StatusMessage),
			textOrNil(v.RunLink), textOrNil(v.StorageLocation)})
		for _, t := range v.Tags {
			versionTags.rows = append(versionTags.rows, []any{m.Name, v.Version, t.Key, t.Value})
		}
	}
	tags := recordRows{table: "registered_model_tags", columns: []string{"name", "key", "value"}}
	for _, t := range m.Tags {
		tags.rows = append(tags.rows, []any{m.Name, t.Key, t.Value})
	}
	aliases := recordRows{table: "registered_model_aliases", columns: []string{"name", "alias", "version"}}
	for _, a := range m.Aliases {
		aliases.rows = append(aliases.rows, []any{m.Name, a.Alias, a.Version})
	}
	return append(out, versions, versionTags, tags, aliases)
}

// verifyRecordRows compares the rows records stand for. Registry rows sit in the
// default workspace where the target has workspaces, as the import writes them.
func (v *verifier) verifyRecordRows(ctx context.Context, sets []recordRows) error {
	for _, set := range sets {
		target := v.tables[set.table]
		if target == nil {
			if len(set.rows) > 0 && v.opts.SkipUnsupported {
				v.report.Accepted.UnsupportedRows += int64(len(set.rows))
			} else if len(set.rows) > 0 {
				v.differ("", "table missing", set.table, "the target has no table "+set.table+" for rows of the source")
			}
			continue
		}
		columns, rows := set.columns, set.rows
		if target.Column("workspace") != nil && tablerows.IndexOf(columns, "workspace") < 0 && !hasExperimentColumn(target) {
			columns = append(append([]string{}, columns...), "workspace")
			rows = make([][]any, len(set.rows))
			ws := set.workspace
			if ws == "" {
				ws = rules.DefaultWorkspace
			}
			for i, r := range set.rows {
				rows[i] = append(append([]any{}, r...), ws)
			}
		}
		if err := v.tableRowsIn(ctx, target, columns, rows, set.scope); err != nil {
			return err
		}
	}
	return nil
}

func hasExperimentColumn(t *schema.TableInfo) bool { return t.Column("experiment_id") != nil }

// runInTarget reports whether the target holds a run.
func (v *verifier) runInTarget(ctx context.Context, runID string) bool {
	var n int64
	err := live.EachRow(ctx, v.tx, "SELECT COUNT(*) FROM runs WHERE run_uuid = ?", []any{runID}, func(scan func(...any) error) error { return scan(&n) })
	return err == nil && n > 0
}
