package database

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/mlflow-bulk/mlflow-bulk/sources"
)

// readLoggedModels streams MLflow 3's logged models with their params, tags and metrics,
// a page of models at a time with one query per table.
func (s *dbSource) readLoggedModels(ctx context.Context) error {
	var models []*sources.LoggedModel
	byID := map[string]*sources.LoggedModel{}
	err := s.each(ctx, "SELECT model_id, experiment_id, name, artifact_location, creation_timestamp_ms, last_updated_timestamp_ms, status, "+
		"lifecycle_stage, model_type, source_run_id, status_message FROM logged_models ORDER BY model_id", nil, func(scan func(...any) error) error {
		m := &sources.LoggedModel{Origin: s.origin("logged_models")}
		var expID int64
		var stage, typ, run, msg sql.NullString
		if err := scan(&m.ModelID, &expID, &m.Name, &m.ArtifactLocation, &m.CreationTimestamp, &m.LastUpdatedTimestamp, &m.Status, &stage, &typ, &run, &msg); err != nil {
			return err
		}
		m.ExperimentSourceID = fmt.Sprint(expID)
		m.LifecycleStage, m.ModelType, m.SourceRunID, m.StatusMessage = nullString(stage), nullString(typ), nullString(run), nullString(msg)
		models = append(models, m)
		byID[m.ModelID] = m
		return nil
	})
	if err != nil {
		return err
	}
	return pagesOf(models, func(m *sources.LoggedModel) any { return m.ModelID }, func(page []*sources.LoggedModel, ids []any, in string) error {
		err := s.keyValuesOf(ctx, "SELECT model_id, param_key, param_value FROM logged_model_params WHERE model_id IN ("+in+") ORDER BY model_id, param_key", ids,
			func(id string, t sources.Tag) { byID[id].Params = append(byID[id].Params, t) })
		if err != nil {
			return err
		}
		err = s.keyValuesOf(ctx, "SELECT model_id, tag_key, tag_value FROM logged_model_tags WHERE model_id IN ("+in+") ORDER BY model_id, tag_key", ids,
			func(id string, t sources.Tag) { byID[id].Tags = append(byID[id].Tags, t) })
		if err != nil {
			return err
		}
		err = s.each(ctx, "SELECT model_id, experiment_id, metric_name, metric_timestamp_ms, metric_step, metric_value, run_id, dataset_uuid, dataset_name, dataset_digest "+
			"FROM logged_model_metrics WHERE model_id IN ("+in+") ORDER BY model_id, metric_name, metric_timestamp_ms, metric_step, run_id", ids,
			func(scan func(...any) error) error {
				var id string
				var mm sources.ModelMetric
				var metricExp int64
				var value sql.NullFloat64
				var du, dn, dd sql.NullString
				if err := scan(&id, &metricExp, &mm.Name, &mm.Timestamp, &mm.Step, &value, &mm.RunID, &du, &dn, &dd); err != nil {
					return err
				}
				if value.Valid {
					v := value.Float64
					mm.Value = &v
				}
				mm.ExperimentSourceID = fmt.Sprint(metricExp)
				mm.DatasetUUID, mm.DatasetName, mm.DatasetDigest = nullString(du), nullString(dn), nullString(dd)
				byID[id].Metrics = append(byID[id].Metrics, mm)
				return nil
			})
		if err != nil {
			return err
		}
		for _, m := range page {
			if err := s.Emit(ctx, m); err != nil {
				return err
			}
		}
		return nil
	})
}

// keyValuesOf reads (owner id, key, value) rows.
func (s *dbSource) keyValuesOf(ctx context.Context, query string, ids []any, add func(id string, t sources.Tag)) error {
	return s.each(ctx, query, ids, func(scan func(...any) error) error {
		var id, k string
		var v sql.NullString
		if err := scan(&id, &k, &v); err != nil {
			return err
		}
		add(id, sources.Tag{Key: k, Value: v.String})
		return nil
	})
}

// readRegistry streams the model registry, a page of registered models at a time, each
// with its versions, tags and aliases, one query per table and page. A model is its
// workspace and name (MLflow 3.10 on): rows of a same-named model of another workspace
// that a page's query brings along are left to that model's page.
func (s *dbSource) readRegistry(ctx context.Context) error {
	ws := func(table string) string {
		if s.rev.HasColumn(table, "workspace") {
			return "workspace"
		}
		return "''"
	}
	var models []*sources.RegisteredModel
	err := s.each(ctx, "SELECT "+ws("registered_models")+", name, creation_time, last_updated_time, description FROM registered_models ORDER BY name", nil, func(scan func(...any) error) error {
		m := &sources.RegisteredModel{Origin: s.origin("registered_models")}
		var created, updated sql.NullInt64
		var desc sql.NullString
		if err := scan(&m.Workspace, &m.Name, &created, &updated, &desc); err != nil {
			return err
		}
		m.CreationTime, m.LastUpdatedTime, m.Description = nullable(created), nullable(updated), nullString(desc)
		models = append(models, m)
		return nil
	})
	if err != nil {
		return err
	}
	link, storage := "NULL", "NULL"
	if s.rev.HasColumn("model_versions", "run_link") {
		link = "run_link"
	}
	if s.rev.HasColumn("model_versions", "storage_location") {
		storage = "storage_location"
	}
	return pagesOf(models, func(m *sources.RegisteredModel) any { return m.Name }, func(page []*sources.RegisteredModel, ids []any, in string) error {
		inPage := map[string]*sources.RegisteredModel{}
		for _, m := range page {
			inPage[m.Workspace+"\x00"+m.Name] = m
		}
		model := func(workspace, name string) *sources.RegisteredModel { return inPage[workspace+"\x00"+name] }
		err := s.each(ctx, "SELECT "+ws("model_versions")+", name, version, creation_time, last_updated_time, description, user_id, current_stage, source, run_id, status, status_message, "+
			link+", "+storage+" FROM model_versions WHERE name IN ("+in+") ORDER BY name, version", ids, func(scan func(...any) error) error {
			var workspace, name string
			var v sources.ModelVersion
			var created, updated sql.NullInt64
			var desc, user, stage, src, run, status, msg, rl, sl sql.NullString
			if err := scan(&workspace, &name, &v.Version, &created, &updated, &desc, &user, &stage, &src, &run, &status, &msg, &rl, &sl); err != nil {
				return err
			}
			v.CreationTime, v.LastUpdatedTime = nullable(created), nullable(updated)
			v.Description, v.UserID, v.CurrentStage, v.Source, v.RunID = nullString(desc), nullString(user), nullString(stage), nullString(src), nullString(run)
			v.Status, v.StatusMessage, v.RunLink, v.StorageLocation = nullString(status), nullString(msg), nullString(rl), nullString(sl)
			if m := model(workspace, name); m != nil {
				m.Versions = append(m.Versions, v)
			}
			return nil
		})
		if err != nil {
			return err
		}
		if s.rev.HasTable("registered_model_tags") {
			err := s.each(ctx, "SELECT "+ws("registered_model_tags")+`, name, "key", value FROM registered_model_tags WHERE name IN (`+in+`) ORDER BY name, "key"`, ids,
				func(scan func(...any) error) error {
					var workspace, name, k string
					var v sql.NullString
					if err := scan(&workspace, &name, &k, &v); err != nil {
						return err
					}
					if m := model(workspace, name); m != nil {
						m.Tags = append(m.Tags, sources.Tag{Key: k, Value: v.String})
					}
					return nil
				})
			if err != nil {
				return err
			}
		}
		if s.rev.HasTable("model_version_tags") {
			if err := s.readVersionTags(ctx, ws("model_version_tags"), in, ids, model); err != nil {
				return err
			}
		}
		if s.rev.HasTable("registered_model_aliases") {
			err := s.each(ctx, "SELECT "+ws("registered_model_aliases")+", name, alias, version FROM registered_model_aliases WHERE name IN ("+in+") ORDER BY name, alias", ids,
				func(scan func(...any) error) error {
					var workspace, name string
					var a sources.ModelAlias
					if err := scan(&workspace, &name, &a.Alias, &a.Version); err != nil {
						return err
					}
					if m := model(workspace, name); m != nil {
						m.Aliases = append(m.Aliases, a)
					}
					return nil
				})
			if err != nil {
				return err
			}
		}
		for _, m := range page {
			if err := s.Emit(ctx, m); err != nil {
				return err
			}
		}
		return nil
	})
}

// readVersionTags adds the tags of a page's model versions; model finds a model of the
// page by workspace and name (nil for another page's).
func (s *dbSource) readVersionTags(ctx context.Context, workspace, in string, ids []any, model func(workspace, name string) *sources.RegisteredModel) error {
	return s.each(ctx, "SELECT "+workspace+`, name, version, "key", value FROM model_version_tags WHERE name IN (`+in+`) ORDER BY name, version, "key"`, ids,
		func(scan func(...any) error) error {
			var ws, name, k string
			var version int64
			var v sql.NullString
			if err := scan(&ws, &name, &version, &k, &v); err != nil {
				return err
			}
			m := model(ws, name)
			if m == nil {
				return nil
			}
			for i := range m.Versions {
				if m.Versions[i].Version == version {
					m.Versions[i].Tags = append(m.Versions[i].Tags, sources.Tag{Key: k, Value: v.String})
				}
			}
			return nil
		})
}
