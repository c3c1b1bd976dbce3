package trackingserver

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/mlflow-bulk/mlflow-bulk/sources"
)

// The registry as MLflow's REST API shows it. Search leaves prompts out unless the filter
// asks for MLflow's prompt tag, so models and versions are searched both ways.

type wireModel struct {
	Name                 string      `json:"name"`
	CreationTimestamp    *int64Value `json:"creation_timestamp"`
	LastUpdatedTimestamp *int64Value `json:"last_updated_timestamp"`
	Description          *string     `json:"description"`
	Tags                 []keyValue  `json:"tags"`
	Aliases              []struct {
		Alias   string `json:"alias"`
		Version string `json:"version"`
	} `json:"aliases"`
}

type searchModels struct {
	Models        []wireModel `json:"registered_models"`
	NextPageToken string      `json:"next_page_token"`
}

type wireVersion struct {
	Version              string      `json:"version"`
	CreationTimestamp    *int64Value `json:"creation_timestamp"`
	LastUpdatedTimestamp *int64Value `json:"last_updated_timestamp"`
	UserID               *string     `json:"user_id"`
	CurrentStage         *string     `json:"current_stage"`
	Description          *string     `json:"description"`
	Source               *string     `json:"source"`
	RunID                *string     `json:"run_id"`
	Status               *string     `json:"status"`
	StatusMessage        *string     `json:"status_message"`
	RunLink              *string     `json:"run_link"`
	Tags                 []keyValue  `json:"tags"`
}

type searchVersions struct {
	Versions      []wireVersion `json:"model_versions"`
	NextPageToken string        `json:"next_page_token"`
}

const promptFilter = "tags.`mlflow.prompt.is_prompt` = 'true'"

// readRegistry streams every registered model and prompt with its versions and aliases.
func (s *server) readRegistry(ctx context.Context, c *client, ws string, out *pipeline) error {
	for _, filter := range []string{"", promptFilter} {
		token := ""
		for {
			q := url.Values{"max_results": {strconv.Itoa(modelsPage)}}
			if filter != "" {
				q.Set("filter", filter)
			}
			if token != "" {
				q.Set("page_token", token)
			}
			var page searchModels
			err := c.get(ctx, "/api/2.0/mlflow/registered-models/search", q, &page)
			if notFound(err) || unavailable(err) {
				return out.record(ctx, &sources.Skipped{Path: s.Describe(), Reason: "the server has no model registry: " + err.Error()})
			}
			if err != nil {
				return err
			}
			for _, m := range page.Models {
				rec, err := s.model(ctx, c, ws, m)
				var inErr *sources.InputError
				if errors.As(err, &inErr) {
					if err := out.record(ctx, &sources.Invalid{Err: inErr}); err != nil {
						return err
					}
					continue
				}
				if err != nil {
					return err
				}
				if err := out.record(ctx, rec); err != nil {
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

func (s *server) model(ctx context.Context, c *client, ws string, m wireModel) (*sources.RegisteredModel, error) {
	if m.Description == nil {
		// The answer leaves an empty description out: "", as MLflow's handler stores a
		// model created without one (the notice names the column).
		empty := ""
		m.Description = &empty
	}
	rec := &sources.RegisteredModel{Name: m.Name, CreationTime: optionalTime(m.CreationTimestamp), LastUpdatedTime: optionalTime(m.LastUpdatedTimestamp),
		Description: m.Description, Tags: tags(m.Tags), Workspace: ws, Origin: sources.Origin{File: s.Describe() + " registered model " + m.Name}}
	for _, a := range m.Aliases {
		v, err := strconv.ParseInt(a.Version, 10, 64)
		if err != nil {
			return nil, &sources.InputError{File: rec.Origin.File, Err: fmt.Errorf("alias %q names version %q, not a number", a.Alias, a.Version)}
		}
		rec.Aliases = append(rec.Aliases, sources.ModelAlias{Alias: a.Alias, Version: v})
	}
	name, ok := quoted(m.Name)
	if !ok {
		return nil, &sources.InputError{File: rec.Origin.File, Err: fmt.Errorf("a name with both quote characters cannot be searched for its versions through MLflow's REST API")}
	}
	byVersion := map[int64]sources.ModelVersion{}
	for _, filter := range []string{"name=" + name, "name=" + name + " AND " + promptFilter} {
		token := ""
		for {
			q := url.Values{"filter": {filter}, "max_results": {strconv.Itoa(versionsPage)}}
			if token != "" {
				q.Set("page_token", token)
			}
			var page searchVersions
			if err := c.get(ctx, "/api/2.0/mlflow/model-versions/search", q, &page); err != nil {
				return nil, fmt.Errorf("%s: %w", rec.Origin.File, err)
			}
			for _, v := range page.Versions {
				n, err := strconv.ParseInt(v.Version, 10, 64)
				if err != nil {
					return nil, &sources.InputError{File: rec.Origin.File, Err: fmt.Errorf("version %q is not a number", v.Version)}
				}
				byVersion[n] = sources.ModelVersion{Version: n, CreationTime: optionalTime(v.CreationTimestamp), LastUpdatedTime: optionalTime(v.LastUpdatedTimestamp),
					Description: v.Description, UserID: v.UserID, CurrentStage: v.CurrentStage, Source: v.Source, RunID: v.RunID, Status: v.Status,
					StatusMessage: v.StatusMessage, RunLink: v.RunLink, Tags: tags(v.Tags), StorageLocation: s.storageLocation(v.Source)}
			}
			if token = page.NextPageToken; token == "" || len(page.Versions) == 0 {
				break
			}
		}
	}
	for _, v := range byVersion {
		rec.Versions = append(rec.Versions, v)
	}
	sort.Slice(rec.Versions, func(i, j int) bool { return rec.Versions[i].Version < rec.Versions[j].Version })
	return rec, nil
}

// quoted is a name as a search filter's string, in whichever quotes it does not hold.
func quoted(name string) (string, bool) {
	switch {
	case !strings.Contains(name, "'"):
		return "'" + name + "'", true
	case !strings.Contains(name, `"`):
		return `"` + name + `"`, true
	}
	return "", false
}

// storageLocation is where MLflow keeps a version's files, by its rule for a version it
// creates: the source itself, or a logged model's artifact location for models:/m-…;
// nil for another version (models:/NAME/VERSION), which the REST API does not resolve.
func (s *server) storageLocation(source *string) *string {
	if source == nil {
		return nil
	}
	u, err := url.Parse(*source)
	if err != nil || u.Scheme != "models" {
		return source
	}
	if loc, ok := s.modelLocations[strings.TrimPrefix(u.Opaque+u.Host+u.Path, "/")]; ok {
		return &loc
	}
	return nil
}
