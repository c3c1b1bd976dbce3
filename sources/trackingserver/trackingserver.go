// Package trackingserver reads an MLflow tracking server through MLflow's REST API
// (self-hosted, or managed: Databricks), as a source: experiments with their tags, runs
// with params, tags, inputs and complete metric histories, datasets, the model registry
// and workspaces where the server has them. Run and experiment ids and every time are
// kept as the server shows them. What the REST API does not carry is named in a notice,
// column by column.
package trackingserver

import (
	"context"
	"fmt"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/mlflow-bulk/mlflow-bulk/sources"
)

// Options control how a server is read.
type Options struct {
	sources.Options
	// Workers is how many requests run side by side (default 4).
	Workers int
	// Getenv reads the variables MLflow's client reads for credentials
	// (MLFLOW_TRACKING_TOKEN, …); nil reads none. Readers read no environment of their
	// own: the command passes its own.
	Getenv func(string) string
	// Sleep waits between retries; nil waits for real. Tests pass a clock of their own.
	Sleep func(context.Context, time.Duration) error
	// Transport is the HTTP transport; nil is Go's default with the TLS MLflow's
	// variables ask for.
	Transport http.RoundTripper
	// TakesExperiment, when set, is the caller's choice of experiments: the runs,
	// logged models and traces of the others are not asked of the server (each
	// experiment is still handed over, so the caller says what it left out).
	TakesExperiment func(*sources.Experiment) bool
	// AzureCredential gives Azure ML's tokens; nil is the Azure SDK's default chain.
	AzureCredential azcore.TokenCredential
}

func (o Options) workers() int {
	if o.Workers <= 0 {
		return 4
	}
	return o.Workers
}

// Page sizes: the largest each endpoint takes where memory allows (a page of runs holds
// their params and tags, so it is kept smaller than the server's 50,000).
const (
	experimentsPage = 1000
	runsPage        = 1000
	historyPage     = 25_000
	modelsPage      = 1000
	versionsPage    = 10_000
)

// Detect reports whether location is a tracking server: http://, https://, one of
// MLflow's Databricks forms, a SageMaker tracking server's ARN or an Azure ML URI.
func Detect(location string) bool {
	l := strings.ToLower(location)
	return strings.HasPrefix(l, "http://") || strings.HasPrefix(l, "https://") || isDatabricks(location) || isSageMaker(location) || isAzureML(location)
}

// server is the open source.
type server struct {
	sources.Producer
	client *client
	opts   Options
	// experiments lists the experiment ids read, by workspace, for the searches that
	// come after all runs (logged models); modelLocations the artifact location of each
	// logged model, where a model version's storage location points (models:/m-…).
	experiments    map[string][]string
	modelLocations map[string]string
	// unchanged tells the runs the consumer holds as they are (RunStamper), nil to read
	// every run.
	unchanged func(runID string, stamp uint64) bool
}

// Open opens the tracking server at location. Nothing is asked before the first record
// is: a server that does not answer makes the stream's error.
func Open(ctx context.Context, location string, opts Options) (sources.Source, error) {
	conn, err := connect(ctx, location, opts)
	if err != nil {
		return nil, err
	}
	transport := opts.Transport
	if transport == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.TLSClientConfig = conn.tls
		t.MaxIdleConnsPerHost = opts.workers() + 2
		transport = t
	}
	sleep := opts.Sleep
	if sleep == nil {
		sleep = sleepCtx
	}
	s := &server{opts: opts, experiments: map[string][]string{}, modelLocations: map[string]string{}, client: &client{base: conn.base, auth: conn.auth, sleep: sleep, answered: &atomic.Bool{},
		http: &http.Client{Transport: transport, Timeout: 10 * time.Minute}}}
	s.Start(ctx, "MLflow tracking server "+conn.base.Redacted(), s.read)
	return s, nil
}

func (s *server) read(ctx context.Context) error {
	workspaces, err := s.workspaces(ctx)
	if err != nil {
		return err
	}
	out := newPipeline(ctx, s.opts.workers(), s.Emit)
	err = s.readAll(out.ctx, out, workspaces)
	if waitErr := out.wait(err); waitErr != nil {
		return waitErr
	}
	return s.Emit(ctx, &sources.Notice{Path: s.Describe(), Message: notCarried})
}

// notCarried names what MLflow's REST API does not give, and what stands in its place.
const notCarried = "MLflow's REST API does not carry runs.deleted_time (left empty), the legacy run columns source_type, source_name, entry_point_name and " +
	"source_version (written as MLflow writes a run it creates: UNKNOWN and empty), the ids of dataset and input rows (datasets.dataset_uuid, " +
	"inputs.input_uuid: new ones are made), logged models that were deleted, a logged model metric's own experiment and dataset ids (its model's experiment, none), " +
	"model versions that were deleted, registered_models.description where it is empty or none (written empty, as MLflow's server writes a model created without one), the storage location of a model version " +
	"whose source is another version (models:/NAME/VERSION), the order of the keys in an assessment's JSON " +
	"(MLflow's own writes keep none), and a span's content as it was stored: it is rebuilt from the span the server shows, as MLflow writes it " +
	"(the same text for spans MLflow wrote; an attribute stored as text that is not JSON, or as an empty text, comes back JSON-encoded). " +
	"Spans a server keeps as artifacts, not in its database, are copied as files with --copy-artifacts"

func (s *server) readAll(ctx context.Context, out *pipeline, workspaces []string) error {
	// Runs first, in every workspace: the registry comes after all of them.
	for _, ws := range workspaces {
		if err := s.readExperiments(ctx, s.client.in(ws), ws, out); err != nil {
			return err
		}
	}
	for _, ws := range workspaces {
		if err := s.readLoggedModels(ctx, s.client.in(ws), s.experiments[ws], out); err != nil {
			return err
		}
	}
	for _, ws := range workspaces {
		if err := s.readRegistry(ctx, s.client.in(ws), ws, out); err != nil {
			return err
		}
	}
	for _, ws := range workspaces {
		if err := s.readTraces(ctx, s.client.in(ws), s.experiments[ws], out); err != nil {
			return err
		}
	}
	return nil
}

// workspaces lists the server's workspaces; one unnamed where it has none (a server
// started without --enable-workspaces answers 404 or 503).
func (s *server) workspaces(ctx context.Context) ([]string, error) {
	var list listWorkspaces
	err := s.client.probe(ctx, "/api/3.0/mlflow/workspaces", &list)
	switch {
	case notFound(err) || unavailable(err):
		return []string{""}, nil
	case err != nil:
		return nil, err
	}
	names := make([]string, 0, len(list.Workspaces))
	for _, w := range list.Workspaces {
		names = append(names, w.Name)
	}
	if len(names) == 0 {
		return []string{""}, nil
	}
	return names, nil
}

// in is the client asking about workspace ws ("": the server's default).
func (c *client) in(ws string) *client {
	cc := *c
	cc.workspace = ws
	return &cc
}

func (s *server) readExperiments(ctx context.Context, c *client, ws string, out *pipeline) error {
	token := ""
	for {
		var page searchExperiments
		body := map[string]any{"max_results": experimentsPage, "view_type": "ALL"}
		if token != "" {
			body["page_token"] = token
		}
		if err := c.post(ctx, "/api/2.0/mlflow/experiments/search", body, &page); err != nil {
			return err
		}
		for _, e := range page.Experiments {
			origin := sources.Origin{File: s.Describe() + " experiment " + e.ExperimentID}
			rec := e.record(ws, origin)
			if err := out.record(ctx, rec); err != nil {
				return err
			}
			if s.opts.TakesExperiment != nil && !s.opts.TakesExperiment(rec) {
				continue
			}
			s.experiments[ws] = append(s.experiments[ws], e.ExperimentID)
			if err := s.readRuns(ctx, c, e.ExperimentID, out); err != nil {
				return err
			}
		}
		if token = page.NextPageToken; token == "" || len(page.Experiments) == 0 {
			return nil
		}
	}
}

// readRuns streams an experiment's runs, each followed by its metric histories, with
// the datasets their inputs name before the first run that names each.
func (s *server) readRuns(ctx context.Context, c *client, experimentID string, out *pipeline) error {
	seen := map[string]bool{}
	token := ""
	for {
		var page searchRuns
		body := map[string]any{"experiment_ids": []string{experimentID}, "run_view_type": "ALL", "max_results": runsPage}
		if token != "" {
			body["page_token"] = token
		}
		if err := c.post(ctx, "/api/2.0/mlflow/runs/search", body, &page); err != nil {
			return fmt.Errorf("experiment %s: %w", experimentID, err)
		}
		for i := range page.Runs {
			r := &page.Runs[i]
			for _, in := range r.Inputs.DatasetInputs {
				key := datasetKey(in.Dataset)
				if seen[key] {
					continue
				}
				seen[key] = true
				d := in.Dataset
				if err := out.record(ctx, &sources.Dataset{ExperimentSourceID: experimentID, Key: key, Name: d.Name, Digest: d.Digest,
					SourceType: d.SourceType, Source: d.Source, Schema: d.Schema, Profile: d.Profile,
					Origin: sources.Origin{File: s.Describe() + " experiment " + experimentID}}); err != nil {
					return err
				}
			}
			origin := sources.Origin{File: s.Describe() + " run " + r.Info.RunID}
			held, stamp := s.unchangedRun(r, origin)
			if held != nil {
				if err := out.record(ctx, held); err != nil {
					return err
				}
				continue
			}
			run := r.record(origin)
			run.Stamp = stamp
			if err := out.record(ctx, run); err != nil {
				return err
			}
			for _, m := range r.Data.Metrics {
				if err := out.history(ctx, c, run.RunID, m.Key, s.opts.PointsPerRecord()); err != nil {
					return err
				}
			}
		}
		if token = page.NextPageToken; token == "" || len(page.Runs) == 0 {
			return nil
		}
	}
}
