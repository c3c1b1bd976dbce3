package schema

// The tables mlflow-bulk writes (tracking, model registry, logged models), with the
// revision each table and column appeared in and the history of their widths. The importer asks a Revision for the
// columns to write and the widths to check; nothing else in the code knows revisions.

type width struct {
	since string
	chars int
}

type column struct {
	name   string
	since  string  // "" = present since the tables MLflow created before the first revision
	widths []width // character limits over time, oldest first; nil = no limit (numbers, TEXT)
}

type table struct {
	name    string
	since   string
	columns []column
}

func w(chars int) []width { return []width{{"", chars}} }

var trackingTables = []table{
	{name: "experiments", columns: []column{
		{name: "experiment_id"},
		{name: "name", widths: w(256)},
		{name: "artifact_location", widths: w(256)},
		{name: "lifecycle_stage", widths: w(32)},
		{name: "creation_time", since: "97727af70f4d"},
		{name: "last_update_time", since: "97727af70f4d"},
		{name: "workspace", since: "1b5f0d9ad7c1", widths: w(63)},
	}},
	{name: "experiment_tags", since: "df50e92ffc5e", columns: []column{
		{name: "key", widths: w(250)},
		{name: "value", widths: []width{{"", 5000}, {"17e22815139b", 0}}},
		{name: "experiment_id"},
	}},
	{name: "runs", columns: []column{
		{name: "run_uuid", widths: w(32)},
		{name: "name", widths: w(250)},
		{name: "source_type", widths: w(20)},
		{name: "source_name", widths: w(500)},
		{name: "entry_point_name", widths: w(50)},
		{name: "user_id", widths: w(256)},
		{name: "status", widths: []width{{"", 20}, {"cfd24bdc0731", 9}}},
		{name: "start_time"},
		{name: "end_time"},
		{name: "source_version", widths: w(50)},
		{name: "lifecycle_stage", widths: w(20)},
		{name: "artifact_uri", widths: w(200)},
		{name: "experiment_id"},
		{name: "deleted_time", since: "0c779009ac13"},
	}},
	{name: "params", columns: []column{
		{name: "key", widths: w(250)},
		{name: "value", widths: []width{{"", 250}, {"cc1f77228345", 500}, {"2d6e25af4d3e", 8000}}},
		{name: "run_uuid", widths: w(32)},
	}},
	{name: "tags", columns: []column{
		{name: "key", widths: w(250)},
		{name: "value", widths: []width{{"", 250}, {"7ac759974ad8", 5000}, {"f5a4f2784254", 8000}}},
		{name: "run_uuid", widths: w(32)},
	}},
	{name: "metrics", columns: []column{
		{name: "key", widths: w(250)},
		{name: "value"},
		{name: "timestamp"},
		{name: "run_uuid", widths: w(32)},
		{name: "step", since: "451aebb31d03"},
		{name: "is_nan", since: "181f10493468"},
	}},
	{name: "latest_metrics", since: "89d4b8295536", columns: []column{
		{name: "key", widths: w(250)},
		{name: "value"},
		{name: "timestamp"},
		{name: "step"},
		{name: "is_nan"},
		{name: "run_uuid", widths: w(32)},
	}},
	{name: "datasets", since: "7f2a7d5fae7d", columns: []column{
		{name: "dataset_uuid", widths: w(36)},
		{name: "experiment_id"},
		{name: "name", widths: w(500)},
		{name: "digest", widths: w(36)},
		{name: "dataset_source_type", widths: w(36)},
		{name: "dataset_source"},
		{name: "dataset_schema"},
		{name: "dataset_profile"},
	}},
	{name: "inputs", since: "7f2a7d5fae7d", columns: []column{
		{name: "input_uuid", widths: w(36)},
		{name: "source_type", widths: w(36)},
		{name: "source_id", widths: w(36)},
		{name: "destination_type", widths: w(36)},
		{name: "destination_id", widths: w(36)},
		{name: "step", since: "6953534de441"},
	}},
	{name: "input_tags", since: "7f2a7d5fae7d", columns: []column{
		{name: "input_uuid", widths: w(36)},
		{name: "name", widths: w(255)},
		{name: "value", widths: w(500)},
	}},
	// The model registry (MLflow 1.4 on). Its rows are keyed by model name and version.
	{name: "registered_models", since: "2b4d017a5e9b", columns: []column{
		{name: "name", widths: w(256)},
		{name: "creation_time"},
		{name: "last_updated_time"},
		{name: "description", widths: w(5000)},
		{name: "workspace", since: "1b5f0d9ad7c1", widths: w(63)},
	}},
	{name: "model_versions", since: "2b4d017a5e9b", columns: []column{
		{name: "name", widths: w(256)},
		{name: "version"},
		{name: "creation_time"},
		{name: "last_updated_time"},
		{name: "description", widths: w(5000)},
		{name: "user_id", widths: w(256)},
		{name: "current_stage", widths: w(20)},
		{name: "source", widths: w(500)},
		{name: "run_id", widths: w(32)},
		{name: "status", widths: w(20)},
		{name: "status_message", widths: w(500)},
		{name: "run_link", since: "84291f40a231", widths: w(500)},
		{name: "storage_location", since: "acf3f17fdcc7", widths: w(500)},
		{name: "workspace", since: "1b5f0d9ad7c1", widths: w(63)},
	}},
	{name: "registered_model_tags", since: "728d730b5ebd", columns: []column{
		{name: "key", widths: w(250)},
		{name: "value", widths: w(5000)},
		{name: "name", widths: w(256)},
		{name: "workspace", since: "1b5f0d9ad7c1", widths: w(63)},
	}},
	{name: "model_version_tags", since: "27a6a02d2cf1", columns: []column{
		{name: "key", widths: w(250)},
		{name: "value", widths: []width{{"", 5000}, {"bda7b8c39065", 0}}},
		{name: "name", widths: w(256)},
		{name: "version"},
		{name: "workspace", since: "1b5f0d9ad7c1", widths: w(63)},
	}},
	{name: "registered_model_aliases", since: "3500859a5d39", columns: []column{
		{name: "alias", widths: w(256)},
		{name: "version"},
		{name: "name", widths: w(256)},
		{name: "workspace", since: "1b5f0d9ad7c1", widths: w(63)},
	}},
	// Logged models (MLflow 3).
	{name: "logged_models", since: "400f98739977", columns: []column{
		{name: "model_id", widths: w(36)},
		{name: "experiment_id"},
		{name: "name", widths: w(500)},
		{name: "artifact_location", widths: w(1000)},
		{name: "creation_timestamp_ms"},
		{name: "last_updated_timestamp_ms"},
		{name: "status"},
		{name: "lifecycle_stage", widths: w(32)},
		{name: "model_type", widths: w(500)},
		{name: "source_run_id", widths: w(32)},
		{name: "status_message", widths: w(1000)},
	}},
	{name: "logged_model_params", since: "400f98739977", columns: []column{
		{name: "model_id", widths: w(36)},
		{name: "experiment_id"},
		{name: "param_key", widths: w(255)},
		{name: "param_value"},
	}},
	{name: "logged_model_tags", since: "400f98739977", columns: []column{
		{name: "model_id", widths: w(36)},
		{name: "experiment_id"},
		{name: "tag_key", widths: w(255)},
		{name: "tag_value"},
	}},
	{name: "logged_model_metrics", since: "400f98739977", columns: []column{
		{name: "model_id", widths: w(36)},
		{name: "metric_name", widths: w(500)},
		{name: "metric_timestamp_ms"},
		{name: "metric_step"},
		{name: "metric_value"},
		{name: "experiment_id"},
		{name: "run_id", widths: w(32)},
		{name: "dataset_uuid", widths: w(36)},
		{name: "dataset_name", widths: w(500)},
		{name: "dataset_digest", widths: w(36)},
	}},
}

// modelled are the tables mlflow-bulk reads and writes with MLflow's rules (experiments,
// runs, the registry, logged models, traces); every other table of MLflow's is copied as
// rows, by the columns the databases have.
var modelled = map[string]bool{
	"alembic_version": true,
	"experiments":     true, "experiment_tags": true,
	"runs": true, "params": true, "tags": true, "metrics": true, "latest_metrics": true,
	"datasets": true, "inputs": true, "input_tags": true,
	"registered_models": true, "model_versions": true, "registered_model_tags": true, "model_version_tags": true, "registered_model_aliases": true,
	"logged_models": true, "logged_model_params": true, "logged_model_tags": true, "logged_model_metrics": true,
	"trace_info": true, "trace_tags": true, "trace_request_metadata": true, "assessments": true, "spans": true, "trace_metrics": true, "span_metrics": true,
}

// Modelled reports whether mlflow-bulk reads and writes a table with rules of its own
// rather than copying it as rows.
func Modelled(table string) bool { return modelled[table] }

func findTable(name string) *table {
	for i := range trackingTables {
		if trackingTables[i].name == name {
			return &trackingTables[i]
		}
	}
	panic("schema: unknown tracking table " + name)
}

func (r *Revision) has(since string) bool { return since == "" || r.AtLeast(since) }

// HasTable reports whether the tracking table exists at this revision.
func (r *Revision) HasTable(name string) bool { return r.has(findTable(name).since) }

// HasColumn reports whether the column of a tracking table exists at this revision.
func (r *Revision) HasColumn(tableName, columnName string) bool {
	t := findTable(tableName)
	if !r.has(t.since) {
		return false
	}
	for _, c := range t.columns {
		if c.name == columnName {
			return r.has(c.since)
		}
	}
	return false
}

// IsNaNColumn is what a query selects for a metrics row's is_nan: the column, or FALSE before
// MLflow 1.1 added it (such a database holds no NaN).
func (r *Revision) IsNaNColumn() string {
	if r.HasColumn("metrics", "is_nan") {
		return "is_nan"
	}
	return "FALSE"
}

// Columns lists the columns of a tracking table at this revision, in table order;
// nil when the table does not exist yet.
func (r *Revision) Columns(tableName string) []string {
	t := findTable(tableName)
	if !r.has(t.since) {
		return nil
	}
	var out []string
	for _, c := range t.columns {
		if r.has(c.since) {
			out = append(out, c.name)
		}
	}
	return out
}

// MaxChars is the declared character width of a column at this revision, 0 when it has
// none (numbers, TEXT). Whether the database enforces it depends on the dialect.
func (r *Revision) MaxChars(tableName, columnName string) int {
	for _, c := range findTable(tableName).columns {
		if c.name != columnName {
			continue
		}
		chars := 0
		for _, w := range c.widths {
			if r.has(w.since) {
				chars = w.chars
			}
		}
		return chars
	}
	panic("schema: unknown column " + tableName + "." + columnName)
}

// TrackingTables names the tables mlflow-bulk writes with rules, in creation order.
func TrackingTables() []string {
	names := make([]string, len(trackingTables))
	for i, t := range trackingTables {
		names[i] = t.name
	}
	return names
}
