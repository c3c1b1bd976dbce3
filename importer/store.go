package importer

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/mlflow-bulk/mlflow-bulk/importer/rules"
	"github.com/mlflow-bulk/mlflow-bulk/schema/live"

	"github.com/mlflow-bulk/mlflow-bulk/schema"
	"github.com/mlflow-bulk/mlflow-bulk/sinks"
	"github.com/mlflow-bulk/mlflow-bulk/sources"
)

// Store is the target as the importer's rules see it: MLflow's entities, looked up and
// written inside the transaction the import holds open. The rules (which experiment a
// source's maps to, what a merge adds, the latest-metric rule, limits, conflicts) stay
// in the importer; a Store only answers and writes. sqlStore implements it once for
// every SQL database; a target that is not SQL (an MLflow tracking server's REST API)
// would implement the same methods. The bulk paths (rows buffered and copied, tables
// copied as rows) write through the sink's transaction directly.
type Store interface {
	// TargetState says whether the target holds runs, and how many experiments with
	// which largest id.
	TargetState(ctx context.Context) (hasRuns bool, experiments, maxExperimentID int64, err error)

	// ExperimentByName finds an experiment of a workspace ("" where the target has
	// none) by name, as the database compares names; storedName is the name as stored.
	ExperimentByName(ctx context.Context, workspace, name string) (id int64, storedName string, found bool, err error)
	ExperimentIDTaken(ctx context.Context, id int64) (bool, error)
	MaxExperimentID(ctx context.Context) (int64, error)
	// Experiments lists the experiments by workspaceName(workspace, name) and every
	// experiment id, or nil names when there are more than limit experiments.
	Experiments(ctx context.Context, limit int) (names map[string]int64, ids []int64, err error)
	// CreateExperiment writes an experiment with the id given (over an import's
	// transaction, with the statement after it: pendingTx), in e.Workspace where the
	// target has workspaces. The importer moves the database's id generator past it
	// before the batch commits.
	CreateExperiment(ctx context.Context, id int64, e *sources.Experiment) error
	// Workspace finds a workspace's row; CreateWorkspace writes one.
	Workspace(ctx context.Context, name string) (description *string, found bool, err error)
	CreateWorkspace(ctx context.Context, name string, description any) error
	// AdoptDefault gives the Default experiment (id 0) the attributes of e.
	AdoptDefault(ctx context.Context, e *sources.Experiment) error
	// ExperimentTags are an experiment's tags, a NULL value as "".
	ExperimentTags(ctx context.Context, id int64) ([]sources.Tag, error)
	AddExperimentTag(ctx context.Context, id int64, t sources.Tag) error

	// DatasetUUID finds an experiment's dataset by name and digest.
	DatasetUUID(ctx context.Context, experimentID int64, name, digest string) (uuid string, found bool, err error)
	DatasetUUIDTaken(ctx context.Context, uuid string) (bool, error)
	CreateDataset(ctx context.Context, uuid string, experimentID int64, d *sources.Dataset) error

	// The run reads take many runs at once, so that a re-import asks once per window
	// of runs rather than once per run (readahead.go). A run the target lacks has no entry.
	// RunsProgress is how far stored runs are: status, end time, lifecycle, deletion.
	RunsProgress(ctx context.Context, ids []string) (map[string]storedRun, error)
	// UpdateRun sets columns of a stored run.
	UpdateRun(ctx context.Context, id string, set []columnValue) error
	// RunsKeyValues hands over stored runs' params or tags ("params", "tags").
	RunsKeyValues(ctx context.Context, table string, ids []string, each func(runID string, t sources.Tag)) error
	// RunsMetricCounts is how many metric points each stored run has.
	RunsMetricCounts(ctx context.Context, ids []string) (map[string]int64, error)
	// RunsMetrics hands over every stored metric point of the runs.
	RunsMetrics(ctx context.Context, ids []string, each func(runID string, k rules.PointKey)) error
	// RunsLatestMetrics hands over the runs' stored latest metrics.
	RunsLatestMetrics(ctx context.Context, ids []string, each func(runID string, p rules.MetricPoint)) error
	// RunsInputEdges hands over the inputs rows that name the runs.
	RunsInputEdges(ctx context.Context, ids []string, each func(runID string, e inputEdge)) error
	UpdateLatestMetric(ctx context.Context, runID string, p rules.MetricPoint) error

	// StoredLocation is the artifact location the target holds for a run
	// (locationOfRun) or a logged model (locationOfModel).
	StoredLocation(ctx context.Context, of locationOwner, id string) (location string, found bool, err error)
	// Exists reports whether an entity the importer writes whole (a logged model, a
	// trace) is stored, by the key column of its table.
	Exists(ctx context.Context, table, keyColumn, id string) (bool, error)
	// RegisteredModelName finds a registered model of a workspace ("" where the target
	// has none) as the target compares names, and returns the name it holds (on a
	// case-insensitive collation, perhaps another spelling).
	RegisteredModelName(ctx context.Context, workspace, name string) (stored string, found bool, err error)
	ModelVersions(ctx context.Context, workspace, name string) (map[int64]string, error)
	// RegisteredModelTag is a registered model's tag value (nil for NULL).
	RegisteredModelTag(ctx context.Context, workspace, name, key string) (value *string, found bool, err error)
	ModelAliasVersion(ctx context.Context, workspace, name, alias string) (version int64, found bool, err error)
	// InsertRow writes one row of the registry or of a logged model, the columns the
	// target's revision has.
	InsertRow(ctx context.Context, table string, values map[string]any) error

	// KeyWeight is what the target's collation compares a key as (equal for keys it
	// makes one); false where the target compares keys exactly.
	KeyWeight(ctx context.Context, collation, key string) (weight string, ok bool, err error)
}

// storedRun is how far a stored run has got.
type storedRun struct {
	status, lifecycle *string
	end, deleted      *int64
	experiment        *int64
}

// columnValue is one column to set.
type columnValue struct {
	column string
	value  any
}

// sqlStore is Store over an SQL database's transaction, the one open at each call.
type sqlStore struct {
	tx      func() sinks.Tx
	rev     *schema.Revision
	dialect schema.Dialect
}

func (s sqlStore) queryRow(ctx context.Context, dest []any, query string, args ...any) (bool, error) {
	found := false
	err := live.EachRow(ctx, s.tx(), query, args, func(scan func(...any) error) error {
		if found {
			return nil
		}
		found = true
		return scan(dest...)
	})
	if err != nil {
		return false, fmt.Errorf("query target: %w", err)
	}
	return found, nil
}

func (s sqlStore) count(ctx context.Context, query string, args ...any) (bool, error) {
	var n int64
	_, err := s.queryRow(ctx, []any{&n}, query, args...)
	return n > 0, err
}

func (s sqlStore) exec(ctx context.Context, query string, args ...any) error {
	_, err := s.tx().Exec(ctx, query, args...)
	return err
}

// inWorkspace restricts a look-up to a workspace where the target has workspaces
// (names are unique per workspace there): a condition to append and its argument.
func (s sqlStore) inWorkspace(args []any, workspace string) (string, []any) {
	if workspace == "" || !s.rev.HasColumn("experiments", "workspace") {
		return "", args
	}
	return " AND workspace = ?", append(args, workspace)
}

// workspaceName keys an experiment name within its workspace.
func workspaceName(workspace, name string) string { return workspace + "\x00" + name }

func (s sqlStore) TargetState(ctx context.Context) (bool, int64, int64, error) {
	hasRuns, err := s.count(ctx, "SELECT COUNT(*) FROM (SELECT 1 FROM runs LIMIT 1) AS r")
	if err != nil || hasRuns {
		return hasRuns, 0, 0, err
	}
	var experiments, maxID int64
	_, err = s.queryRow(ctx, []any{&experiments, &maxID}, "SELECT COUNT(*), COALESCE(MAX(experiment_id), 0) FROM experiments")
	return false, experiments, maxID, err
}

func (s sqlStore) ExperimentByName(ctx context.Context, workspace, name string) (int64, string, bool, error) {
	var id int64
	var stored string
	cond, args := s.inWorkspace([]any{name}, workspace)
	found, err := s.queryRow(ctx, []any{&id, &stored}, "SELECT experiment_id, name FROM experiments WHERE name = ?"+cond, args...)
	return id, stored, found, err
}

func (s sqlStore) Workspace(ctx context.Context, name string) (*string, bool, error) {
	var description *string
	found, err := s.queryRow(ctx, []any{&description}, "SELECT description FROM workspaces WHERE name = ?", name)
	return description, found, err
}

func (s sqlStore) CreateWorkspace(ctx context.Context, name string, description any) error {
	if err := s.exec(ctx, "INSERT INTO workspaces (name, description) VALUES (?, ?)", name, description); err != nil {
		return fmt.Errorf("create workspace %q: %w", name, err)
	}
	return nil
}

func (s sqlStore) ExperimentIDTaken(ctx context.Context, id int64) (bool, error) {
	return s.count(ctx, "SELECT COUNT(*) FROM experiments WHERE experiment_id = ?", id)
}

func (s sqlStore) MaxExperimentID(ctx context.Context) (int64, error) {
	var maxID int64
	_, err := s.queryRow(ctx, []any{&maxID}, "SELECT COALESCE(MAX(experiment_id), 0) FROM experiments")
	return maxID, err
}

func (s sqlStore) CreateExperiment(ctx context.Context, id int64, e *sources.Experiment) error {
	cols := []string{"experiment_id", "name", "artifact_location", "lifecycle_stage"}
	args := []any{id, e.Name, e.ArtifactLocation, string(e.LifecycleStage)}
	if s.rev.HasColumn("experiments", "creation_time") {
		cols = append(cols, "creation_time", "last_update_time")
		args = append(args, optional(e.CreationTime), optional(e.LastUpdateTime))
	}
	if s.rev.HasColumn("experiments", "workspace") && e.Workspace != "" {
		cols = append(cols, "workspace")
		args = append(args, e.Workspace)
	}
	what := fmt.Sprintf("experiment %q", e.Name)
	if later, ok := s.tx().(*pendingTx); ok {
		later.insertLater("experiments", what, cols, args)
		return nil
	}
	query := fmt.Sprintf("INSERT INTO experiments (%s) VALUES (%s)", strings.Join(cols, ", "), strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", "))
	if err := s.exec(ctx, query, args...); err != nil {
		return fmt.Errorf("create %s: %w", what, err)
	}
	return nil
}

func (s sqlStore) Experiments(ctx context.Context, limit int) (map[string]int64, []int64, error) {
	var n int64
	if _, err := s.queryRow(ctx, []any{&n}, "SELECT COUNT(*) FROM experiments"); err != nil || n > int64(limit) {
		return nil, nil, err
	}
	var ids []int64
	names := map[string]int64{}
	workspace := "''"
	if s.rev.HasColumn("experiments", "workspace") {
		workspace = "workspace"
	}
	err := live.EachRow(ctx, s.tx(), "SELECT experiment_id, name, "+workspace+" FROM experiments", nil,
		func(scan func(...any) error) error {
			var id int64
			var name, ws string
			if err := scan(&id, &name, &ws); err != nil {
				return err
			}
			ids = append(ids, id)
			names[workspaceName(ws, name)] = id
			return nil
		})
	if err != nil {
		return nil, nil, fmt.Errorf("read experiments: %w", err)
	}
	return names, ids, nil
}

func (s sqlStore) AdoptDefault(ctx context.Context, e *sources.Experiment) error {
	set := "artifact_location = ?, lifecycle_stage = ?"
	args := []any{e.ArtifactLocation, string(e.LifecycleStage)}
	if s.rev.HasColumn("experiments", "creation_time") {
		set += ", creation_time = ?, last_update_time = ?"
		args = append(args, optional(e.CreationTime), optional(e.LastUpdateTime))
	}
	if err := s.exec(ctx, "UPDATE experiments SET "+set+" WHERE experiment_id = 0", args...); err != nil {
		return fmt.Errorf("update the Default experiment: %w", err)
	}
	return nil
}

func (s sqlStore) ExperimentTags(ctx context.Context, id int64) ([]sources.Tag, error) {
	var tags []sources.Tag
	err := live.EachRow(ctx, s.tx(), `SELECT "key", value FROM experiment_tags WHERE experiment_id = ?`, []any{id}, func(scan func(...any) error) error {
		var k string
		var v sql.NullString
		if err := scan(&k, &v); err != nil {
			return err
		}
		tags = append(tags, sources.Tag{Key: k, Value: v.String})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read experiment tags: %w", err)
	}
	return tags, nil
}

func (s sqlStore) AddExperimentTag(ctx context.Context, id int64, t sources.Tag) error {
	if err := s.exec(ctx, `INSERT INTO experiment_tags ("key", value, experiment_id) VALUES (?, ?, ?)`, t.Key, t.Value, id); err != nil {
		return fmt.Errorf("write experiment tag %q: %w", t.Key, err)
	}
	return nil
}

func (s sqlStore) DatasetUUID(ctx context.Context, experimentID int64, name, digest string) (string, bool, error) {
	var uuid string
	found, err := s.queryRow(ctx, []any{&uuid}, "SELECT dataset_uuid FROM datasets WHERE experiment_id = ? AND name = ? AND digest = ?", experimentID, name, digest)
	return uuid, found, err
}

func (s sqlStore) DatasetUUIDTaken(ctx context.Context, uuid string) (bool, error) {
	return s.count(ctx, "SELECT COUNT(*) FROM datasets WHERE dataset_uuid = ?", uuid)
}

func (s sqlStore) CreateDataset(ctx context.Context, uuid string, experimentID int64, d *sources.Dataset) error {
	err := s.exec(ctx, "INSERT INTO datasets (dataset_uuid, experiment_id, name, digest, dataset_source_type, dataset_source, dataset_schema, dataset_profile) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
		uuid, experimentID, d.Name, d.Digest, d.SourceType, d.Source, optionalText(d.Schema), optionalText(d.Profile))
	if err != nil {
		return fmt.Errorf("create dataset %q: %w", d.Name, err)
	}
	return nil
}

// placeholders is a list of n query parameters, for an IN clause.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// idArgs are run ids as query arguments, repeated times over (once per IN clause).
func idArgs(ids []string, repeated int) []any {
	args := make([]any, 0, len(ids)*repeated)
	for range repeated {
		for _, id := range ids {
			args = append(args, id)
		}
	}
	return args
}

func (s sqlStore) RunsProgress(ctx context.Context, ids []string) (map[string]storedRun, error) {
	out := map[string]storedRun{}
	if len(ids) == 0 {
		return out, nil
	}
	deleted := "NULL"
	if s.rev.HasColumn("runs", "deleted_time") {
		deleted = "deleted_time"
	}
	err := live.EachRow(ctx, s.tx(), "SELECT run_uuid, status, end_time, lifecycle_stage, "+deleted+", experiment_id FROM runs WHERE run_uuid IN ("+placeholders(len(ids))+")", idArgs(ids, 1),
		func(scan func(...any) error) error {
			var id string
			var p storedRun
			if err := scan(&id, &p.status, &p.end, &p.lifecycle, &p.deleted, &p.experiment); err != nil {
				return err
			}
			out[id] = p
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("read runs of the target: %w", err)
	}
	return out, nil
}

func (s sqlStore) UpdateRun(ctx context.Context, id string, set []columnValue) error {
	if len(set) == 0 {
		return nil
	}
	parts := make([]string, len(set))
	args := make([]any, len(set), len(set)+1)
	for i, c := range set {
		parts[i], args[i] = c.column+" = ?", c.value
	}
	return s.exec(ctx, "UPDATE runs SET "+strings.Join(parts, ", ")+" WHERE run_uuid = ?", append(args, id)...)
}

func (s sqlStore) RunsKeyValues(ctx context.Context, table string, ids []string, each func(runID string, t sources.Tag)) error {
	if len(ids) == 0 {
		return nil
	}
	err := live.EachRow(ctx, s.tx(), `SELECT run_uuid, "key", value FROM `+table+` WHERE run_uuid IN (`+placeholders(len(ids))+`)`, idArgs(ids, 1),
		func(scan func(...any) error) error {
			var id string
			var t sources.Tag
			var v *string
			if err := scan(&id, &t.Key, &v); err != nil {
				return err
			}
			if v != nil {
				t.Value = *v
			}
			each(id, t)
			return nil
		})
	if err != nil {
		return fmt.Errorf("read %s of runs of the target: %w", table, err)
	}
	return nil
}

func (s sqlStore) RunsMetricCounts(ctx context.Context, ids []string) (map[string]int64, error) {
	out := map[string]int64{}
	if len(ids) == 0 {
		return out, nil
	}
	err := live.EachRow(ctx, s.tx(), "SELECT run_uuid, COUNT(*) FROM metrics WHERE run_uuid IN ("+placeholders(len(ids))+") GROUP BY run_uuid", idArgs(ids, 1),
		func(scan func(...any) error) error {
			var id string
			var n int64
			if err := scan(&id, &n); err != nil {
				return err
			}
			out[id] = n
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("count metrics of runs of the target: %w", err)
	}
	return out, nil
}

func (s sqlStore) RunsMetrics(ctx context.Context, ids []string, each func(runID string, k rules.PointKey)) error {
	if len(ids) == 0 {
		return nil
	}
	err := live.EachRow(ctx, s.tx(), `SELECT run_uuid, "key", value, "timestamp", step, `+s.rev.IsNaNColumn()+` FROM metrics WHERE run_uuid IN (`+placeholders(len(ids))+`)`, idArgs(ids, 1),
		func(scan func(...any) error) error {
			var id string
			var k rules.PointKey
			if err := scan(&id, &k.Key, &k.Value, &k.Timestamp, &k.Step, &k.IsNaN); err != nil {
				return err
			}
			each(id, k)
			return nil
		})
	if err != nil {
		return fmt.Errorf("read metrics of runs of the target: %w", err)
	}
	return nil
}

func (s sqlStore) RunsLatestMetrics(ctx context.Context, ids []string, each func(runID string, p rules.MetricPoint)) error {
	if len(ids) == 0 {
		return nil
	}
	err := live.EachRow(ctx, s.tx(), `SELECT run_uuid, "key", value, "timestamp", step, is_nan FROM latest_metrics WHERE run_uuid IN (`+placeholders(len(ids))+`)`, idArgs(ids, 1),
		func(scan func(...any) error) error {
			var id string
			var p rules.MetricPoint
			var ts *int64
			if err := scan(&id, &p.Key, &p.Value, &ts, &p.Step, &p.IsNaN); err != nil {
				return err
			}
			if ts != nil {
				p.Timestamp = *ts
			}
			each(id, p)
			return nil
		})
	if err != nil {
		return fmt.Errorf("read latest metrics of runs of the target: %w", err)
	}
	return nil
}

func (s sqlStore) RunsInputEdges(ctx context.Context, ids []string, each func(runID string, e inputEdge)) error {
	if len(ids) == 0 {
		return nil
	}
	want := make(map[string]bool, len(ids))
	for _, id := range ids {
		want[id] = true
	}
	in := placeholders(len(ids))
	err := live.EachRow(ctx, s.tx(), "SELECT source_type, source_id, destination_type, destination_id FROM inputs WHERE destination_id IN ("+in+") OR source_id IN ("+in+")", idArgs(ids, 2),
		func(scan func(...any) error) error {
			var e inputEdge
			if err := scan(&e.sourceType, &e.sourceID, &e.destType, &e.destID); err != nil {
				return err
			}
			// An edge names its run on one side: the dataset or model it uses, or the
			// model it produced, is on the other.
			if want[e.destID] {
				each(e.destID, e)
			}
			if want[e.sourceID] && e.sourceID != e.destID {
				each(e.sourceID, e)
			}
			return nil
		})
	if err != nil {
		return fmt.Errorf("read inputs of runs of the target: %w", err)
	}
	return nil
}

func (s sqlStore) UpdateLatestMetric(ctx context.Context, runID string, p rules.MetricPoint) error {
	err := s.exec(ctx, `UPDATE latest_metrics SET value = ?, "timestamp" = ?, step = ?, is_nan = ? WHERE run_uuid = ? AND "key" = ?`,
		p.Value, p.Timestamp, p.Step, p.IsNaN, runID, p.Key)
	if err != nil {
		return fmt.Errorf("update latest metric %q of run %s: %w", p.Key, runID, err)
	}
	return nil
}

// locationOwner names what has an artifact location, from a closed list.
type locationOwner int

const (
	locationOfRun locationOwner = iota
	locationOfModel
)

func (s sqlStore) StoredLocation(ctx context.Context, of locationOwner, id string) (string, bool, error) {
	query := "SELECT artifact_uri FROM runs WHERE run_uuid = ?"
	if of == locationOfModel {
		query = "SELECT artifact_location FROM logged_models WHERE model_id = ?"
	}
	var location *string
	found, err := s.queryRow(ctx, []any{&location}, query, id)
	if location == nil {
		return "", false, err
	}
	return *location, found, err
}

func (s sqlStore) Exists(ctx context.Context, table, keyColumn, id string) (bool, error) {
	return s.count(ctx, "SELECT COUNT(*) FROM "+table+" WHERE "+keyColumn+" = ?", id)
}

func (s sqlStore) RegisteredModelName(ctx context.Context, workspace, name string) (string, bool, error) {
	var stored string
	cond, args := s.inWorkspace([]any{name}, workspace)
	found, err := s.queryRow(ctx, []any{&stored}, "SELECT name FROM registered_models WHERE name = ?"+cond, args...)
	return stored, found, err
}

func (s sqlStore) ModelVersions(ctx context.Context, workspace, name string) (map[int64]string, error) {
	out := map[int64]string{}
	cond, args := s.inWorkspace([]any{name}, workspace)
	err := live.EachRow(ctx, s.tx(), "SELECT version, source, run_id, status, current_stage FROM model_versions WHERE name = ?"+cond, args,
		func(scan func(...any) error) error {
			var v sources.ModelVersion
			if err := scan(&v.Version, &v.Source, &v.RunID, &v.Status, &v.CurrentStage); err != nil {
				return err
			}
			out[v.Version] = versionSignature(v)
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("read versions of registered model %q: %w", name, err)
	}
	return out, nil
}

func (s sqlStore) RegisteredModelTag(ctx context.Context, workspace, name, key string) (*string, bool, error) {
	var have *string
	cond, args := s.inWorkspace([]any{key, name}, workspace)
	found, err := s.queryRow(ctx, []any{&have}, `SELECT value FROM registered_model_tags WHERE "key" = ? AND name = ?`+cond, args...)
	return have, found, err
}

func (s sqlStore) ModelAliasVersion(ctx context.Context, workspace, name, alias string) (int64, bool, error) {
	var v int64
	cond, args := s.inWorkspace([]any{alias, name}, workspace)
	found, err := s.queryRow(ctx, []any{&v}, "SELECT version FROM registered_model_aliases WHERE alias = ? AND name = ?"+cond, args...)
	return v, found, err
}

func (s sqlStore) InsertRow(ctx context.Context, table string, values map[string]any) error {
	var cols []string
	var args []any
	for _, c := range s.rev.Columns(table) {
		if v, ok := values[c]; ok {
			cols = append(cols, `"`+c+`"`)
			args = append(args, v)
		}
	}
	query := fmt.Sprintf("INSERT INTO %s (%s) VALUES (%s)", table, strings.Join(cols, ", "), strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", "))
	stored, err := s.tx().Exec(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("insert into %s: %w", table, err)
	}
	return checkStored(table, 1, stored)
}

func (s sqlStore) KeyWeight(ctx context.Context, collation, key string) (string, bool, error) {
	weight := s.dialect.Database().KeyWeight
	if weight == nil {
		return "", false, nil
	}
	var w string
	if _, err := s.queryRow(ctx, []any{&w}, "SELECT "+weight(collation), key); err != nil {
		return "", false, err
	}
	return w, true, nil
}
