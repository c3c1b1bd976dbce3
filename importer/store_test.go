package importer

import (
	"context"
	"testing"

	"github.com/mlflow-bulk/mlflow-bulk/importer/rules"
	"github.com/mlflow-bulk/mlflow-bulk/schema/live"

	"github.com/mlflow-bulk/mlflow-bulk/drivers/all"
	"github.com/mlflow-bulk/mlflow-bulk/internal/testenv"
	"github.com/mlflow-bulk/mlflow-bulk/schema"
	"github.com/mlflow-bulk/mlflow-bulk/sinks"
	"github.com/mlflow-bulk/mlflow-bulk/sources"
)

// TestSQLStore runs the Store contract against sqlStore on every database: what is
// written is found again, as MLflow keeps it.
func TestSQLStore(t *testing.T) {
	for name, uri := range map[string]func(testing.TB) string{"sqlite": testenv.SQLite, "postgres": testenv.Postgres, "mariadb": testenv.MySQL} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			sink, tx, rev := newSchemaTx(t, uri(t))
			defer func() { _ = tx.Rollback(ctx) }()
			// As the import uses it: experiments held back until the next statement.
			held := newPendingTx(tx)
			storeContract(t, sqlStore{tx: func() sinks.Tx { return held }, rev: rev, dialect: sink.Dialect()}, func(query string, args ...any) {
				if _, err := held.Exec(ctx, query, args...); err != nil {
					t.Fatalf("%s: %v", query, err)
				}
			})
		})
	}
}

// newSchemaTx opens the database at uri (closed with the test) and a transaction that
// has created MLflow's newest schema in it.
func newSchemaTx(t *testing.T, uri string) (sinks.Sink, sinks.Tx, *schema.Revision) {
	t.Helper()
	ctx := context.Background()
	sink, err := all.Registry().Open(ctx, uri, sinks.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sink.Close() })
	tx, err := sink.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rev := schema.Newest()
	if err := live.Create(ctx, tx, sink.Dialect(), rev, live.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	return sink, tx, rev
}

// storeContract checks a Store on a new, empty MLflow target; exec writes a run row,
// which the importer writes in bulk rather than through the Store.
func storeContract(t *testing.T, s Store, exec func(query string, args ...any)) {
	ctx := context.Background()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	hasRuns, experiments, maxID, err := s.TargetState(ctx)
	must(err)
	if hasRuns || experiments != 1 || maxID != 0 {
		t.Errorf("a new target: runs %v, %d experiments up to id %d", hasRuns, experiments, maxID)
	}
	e := &sources.Experiment{Name: "exp-a", ArtifactLocation: "s3://b/7", LifecycleStage: sources.LifecycleActive}
	must(s.CreateExperiment(ctx, 7, e))
	id, stored, found, err := s.ExperimentByName(ctx, "default", "exp-a")
	must(err)
	if !found || id != 7 || stored != "exp-a" {
		t.Errorf("ExperimentByName: %d %q %v", id, stored, found)
	}
	if taken, err := s.ExperimentIDTaken(ctx, 7); err != nil || !taken {
		t.Errorf("ExperimentIDTaken(7): %v %v", taken, err)
	}
	if max, err := s.MaxExperimentID(ctx); err != nil || max != 7 {
		t.Errorf("MaxExperimentID: %d %v", max, err)
	}
	must(s.AddExperimentTag(ctx, 7, sources.Tag{Key: "team", Value: "a"}))
	if tags, err := s.ExperimentTags(ctx, 7); err != nil || len(tags) != 1 || tags[0].Key != "team" {
		t.Errorf("ExperimentTags: %v %v", tags, err)
	}
	created := int64(1700000000000)
	must(s.AdoptDefault(ctx, &sources.Experiment{ArtifactLocation: "s3://b/0", LifecycleStage: sources.LifecycleActive, CreationTime: &created, LastUpdateTime: &created}))

	d := &sources.Dataset{Name: "ds", Digest: "abc", SourceType: "local", Source: "{}"}
	must(s.CreateDataset(ctx, "0123456789abcdef0123456789abcdef", 7, d))
	if uuid, found, err := s.DatasetUUID(ctx, 7, "ds", "abc"); err != nil || !found || uuid != "0123456789abcdef0123456789abcdef" {
		t.Errorf("DatasetUUID: %q %v %v", uuid, found, err)
	}
	if taken, err := s.DatasetUUIDTaken(ctx, "0123456789abcdef0123456789abcdef"); err != nil || !taken {
		t.Errorf("DatasetUUIDTaken: %v %v", taken, err)
	}

	run, other, absent := "00000000000000000000000000000abc", "00000000000000000000000000000def", "00000000000000000000000000000fff"
	if p, err := s.RunsProgress(ctx, []string{run, absent}); err != nil || len(p) != 0 {
		t.Fatalf("RunsProgress before the runs: %v %v", p, err)
	}
	for _, id := range []string{run, other} {
		exec("INSERT INTO runs (run_uuid, name, source_type, status, start_time, lifecycle_stage, artifact_uri, experiment_id) VALUES (?, 'r', 'LOCAL', 'RUNNING', 1, 'active', 'x', 7)", id)
	}
	exec(`INSERT INTO params ("key", value, run_uuid) VALUES ('lr', '0.1', ?)`, run)
	exec(`INSERT INTO params ("key", value, run_uuid) VALUES ('lr', '0.2', ?)`, other)
	exec(`INSERT INTO tags ("key", value, run_uuid) VALUES ('team', NULL, ?)`, other)
	exec(`INSERT INTO metrics ("key", value, "timestamp", step, is_nan, run_uuid) VALUES ('loss', 0.5, 10, 1, ?, ?)`, false, run)
	exec(`INSERT INTO metrics ("key", value, "timestamp", step, is_nan, run_uuid) VALUES ('loss', 0.5, 11, 2, ?, ?)`, false, run)
	exec(`INSERT INTO metrics ("key", value, "timestamp", step, is_nan, run_uuid) VALUES ('acc', 0, 10, 1, ?, ?)`, true, other)
	exec(`INSERT INTO latest_metrics ("key", value, "timestamp", step, is_nan, run_uuid) VALUES ('loss', 0.5, 10, 1, ?, ?)`, false, run)
	exec(`INSERT INTO inputs (input_uuid, source_type, source_id, destination_type, destination_id) VALUES ('i1', 'DATASET', 'd1', 'RUN', ?)`, other)
	exec(`INSERT INTO inputs (input_uuid, source_type, source_id, destination_type, destination_id) VALUES ('i2', 'RUN_OUTPUT', ?, 'MODEL_OUTPUT', 'm-1')`, other)
	if hasRuns, _, _, err := s.TargetState(ctx); err != nil || !hasRuns {
		t.Errorf("TargetState with a run: %v %v", hasRuns, err)
	}
	end := int64(99)
	must(s.UpdateRun(ctx, run, []columnValue{{"status", "FINISHED"}, {"end_time", end}}))
	progress, err := s.RunsProgress(ctx, []string{run, other, absent})
	must(err)
	if p, found := progress[run]; len(progress) != 2 || !found || p.status == nil || *p.status != "FINISHED" || p.end == nil || *p.end != 99 || p.deleted != nil {
		t.Errorf("RunsProgress after UpdateRun: %+v", progress)
	}
	if p := progress[other]; p.status == nil || *p.status != "RUNNING" || p.end != nil {
		t.Errorf("RunsProgress of the run not updated: %+v", p)
	}
	kvs := map[string][]sources.Tag{}
	must(s.RunsKeyValues(ctx, "params", []string{run, other, absent}, func(id string, t sources.Tag) { kvs[id] = append(kvs[id], t) }))
	if len(kvs) != 2 || len(kvs[run]) != 1 || kvs[run][0] != (sources.Tag{Key: "lr", Value: "0.1"}) || kvs[other][0].Value != "0.2" {
		t.Errorf("RunsKeyValues(params): %v", kvs)
	}
	clear(kvs)
	must(s.RunsKeyValues(ctx, "tags", []string{run, other}, func(id string, t sources.Tag) { kvs[id] = append(kvs[id], t) }))
	if len(kvs) != 1 || len(kvs[other]) != 1 || kvs[other][0] != (sources.Tag{Key: "team"}) {
		t.Errorf("RunsKeyValues(tags), a NULL value: %v", kvs)
	}
	if counts, err := s.RunsMetricCounts(ctx, []string{run, other, absent}); err != nil || len(counts) != 2 || counts[run] != 2 || counts[other] != 1 {
		t.Errorf("RunsMetricCounts: %v %v", counts, err)
	}
	points := map[string][]rules.PointKey{}
	must(s.RunsMetrics(ctx, []string{run, other}, func(id string, k rules.PointKey) { points[id] = append(points[id], k) }))
	if len(points[run]) != 2 || points[run][0].Key != "loss" || len(points[other]) != 1 || !points[other][0].IsNaN {
		t.Errorf("RunsMetrics: %+v", points)
	}
	must(s.UpdateLatestMetric(ctx, run, rules.MetricPoint{Key: "loss", Value: 0.25, Timestamp: 20, Step: 2}))
	var latest []rules.MetricPoint
	must(s.RunsLatestMetrics(ctx, []string{run, other}, func(id string, p rules.MetricPoint) {
		if id != run {
			t.Errorf("RunsLatestMetrics: a row of run %s", id)
		}
		latest = append(latest, p)
	}))
	if len(latest) != 1 || latest[0] != (rules.MetricPoint{Key: "loss", Value: 0.25, Timestamp: 20, Step: 2}) {
		t.Errorf("RunsLatestMetrics after the update: %+v", latest)
	}
	edges := map[string][]inputEdge{}
	must(s.RunsInputEdges(ctx, []string{run, other}, func(id string, e inputEdge) { edges[id] = append(edges[id], e) }))
	if len(edges) != 1 || len(edges[other]) != 2 {
		t.Errorf("RunsInputEdges: the dataset used and the model produced by one run, none of the other: %+v", edges)
	}
	for _, empty := range []func() error{
		func() error { _, err := s.RunsProgress(ctx, nil); return err },
		func() error {
			return s.RunsMetrics(ctx, nil, func(string, rules.PointKey) { t.Error("a point of no run") })
		},
		func() error {
			return s.RunsInputEdges(ctx, nil, func(string, inputEdge) { t.Error("an input of no run") })
		},
	} {
		must(empty())
	}

	must(s.InsertRow(ctx, "registered_models", map[string]any{"name": "m", "creation_time": int64(1), "last_updated_time": int64(2)}))
	must(s.InsertRow(ctx, "model_versions", map[string]any{"name": "m", "version": int64(1), "source": "s3://m/1", "status": "READY", "current_stage": "None", "run_id": run}))
	must(s.InsertRow(ctx, "registered_model_tags", map[string]any{"key": "k", "value": "v", "name": "m"}))
	must(s.InsertRow(ctx, "registered_model_aliases", map[string]any{"alias": "champion", "version": int64(1), "name": "m"}))
	if name, ok, err := s.RegisteredModelName(ctx, "default", "m"); err != nil || !ok || name != "m" {
		t.Errorf("RegisteredModelName: %q %v %v", name, ok, err)
	}
	if v, err := s.ModelVersions(ctx, "default", "m"); err != nil || len(v) != 1 || v[1] == "" {
		t.Errorf("ModelVersions: %v %v", v, err)
	}
	if v, found, err := s.RegisteredModelTag(ctx, "default", "m", "k"); err != nil || !found || v == nil || *v != "v" {
		t.Errorf("RegisteredModelTag: %v %v %v", v, found, err)
	}
	if v, found, err := s.ModelAliasVersion(ctx, "default", "m", "champion"); err != nil || !found || v != 1 {
		t.Errorf("ModelAliasVersion: %d %v %v", v, found, err)
	}
	// Names are per workspace: another workspace's look-up finds nothing.
	if _, ok, err := s.RegisteredModelName(ctx, "team-b", "m"); err != nil || ok {
		t.Errorf("RegisteredModelName in another workspace: %v %v", ok, err)
	}
	if _, _, found, err := s.ExperimentByName(ctx, "team-b", "exp-a"); err != nil || found {
		t.Errorf("ExperimentByName in another workspace: %v %v", found, err)
	}
	must(s.CreateWorkspace(ctx, "team-b", "B's"))
	if d, found, err := s.Workspace(ctx, "team-b"); err != nil || !found || d == nil || *d != "B's" {
		t.Errorf("Workspace: %v %v %v", d, found, err)
	}
	if ok, err := s.Exists(ctx, "trace_info", "request_id", "tr-none"); err != nil || ok {
		t.Errorf("Exists of no trace: %v %v", ok, err)
	}
	if _, _, err := s.KeyWeight(ctx, "utf8mb4_general_ci", "k"); err != nil {
		t.Errorf("KeyWeight: %v", err)
	}
}
