// Package schema is MLflow's SQL schema as mlflow-bulk knows it: the alembic revision
// chain, which tracking tables and columns each revision has and how wide they are, the
// DDL to create a complete database of a revision per dialect, and each database's
// descriptor. All of it is facts, read by no connection: schema/live reads and creates a
// live database with them. Sinks and the importer ask, never branch on revision ids
// themselves.
package schema

import (
	"fmt"
	"strings"
)

// Revision is one alembic revision of MLflow's tracking store.
type Revision struct {
	ID string
	// Releases are the MLflow releases whose schema head this revision is ("1.29 – 2.2"),
	// empty for revisions that were never a release head.
	Releases string
	Summary  string
	index    int
}

// chain is MLflow's linear revision chain, oldest first (root 451aebb31d03). Release
// heads follow MLflow's changelog; docs/REVISIONS.md says how they were derived.
var chain = []Revision{
	{ID: "451aebb31d03", Summary: "metrics.step"},
	{ID: "90e64c465722", Releases: "1.0", Summary: "mlflow.user tags from runs.user_id"},
	{ID: "181f10493468", Releases: "1.1", Summary: "metrics.is_nan, double-precision values"},
	{ID: "df50e92ffc5e", Summary: "experiment_tags"},
	{ID: "7ac759974ad8", Releases: "1.2", Summary: "tags.value 5000"},
	{ID: "89d4b8295536", Releases: "1.3", Summary: "latest_metrics"},
	{ID: "2b4d017a5e9b", Releases: "1.4", Summary: "model registry"},
	{ID: "cfd24bdc0731", Releases: "1.5", Summary: "run status KILLED"},
	{ID: "0a8213491aaa", Releases: "1.6 – 1.9", Summary: "MySQL status check clean-up"},
	{ID: "728d730b5ebd", Summary: "registered_model_tags"},
	{ID: "27a6a02d2cf1", Releases: "1.10", Summary: "model_version_tags"},
	{ID: "84291f40a231", Releases: "1.11 – 1.12", Summary: "model_versions.run_link"},
	{ID: "a8c4a736bde6", Releases: "1.13 – 1.14", Summary: "model_versions.run_id nullable"},
	{ID: "39d1c3be5f05", Releases: "1.15", Summary: "is_nan check constraints"},
	{ID: "c48cb773bb87", Releases: "1.16 – 1.24", Summary: "MySQL is_nan default"},
	{ID: "bd07f7e963c5", Releases: "1.25 – 1.27", Summary: "run_uuid indexes"},
	{ID: "0c779009ac13", Summary: "runs.deleted_time"},
	{ID: "cc1f77228345", Releases: "1.28", Summary: "params.value 500"},
	{ID: "97727af70f4d", Releases: "1.29 – 2.2", Summary: "experiment creation and update times"},
	{ID: "3500859a5d39", Releases: "2.3", Summary: "registered_model_aliases"},
	{ID: "7f2a7d5fae7d", Releases: "2.4 – 2.7", Summary: "datasets, inputs, input_tags"},
	{ID: "2d6e25af4d3e", Summary: "params.value 8000"},
	{ID: "acf3f17fdcc7", Releases: "2.8 – 2.12", Summary: "model_versions.storage_location"},
	{ID: "867495a8f9d4", Releases: "2.13.0", Summary: "tracing tables"},
	{ID: "5b0e9adcef9c", Releases: "2.14", Summary: "trace cascades"},
	{ID: "4465047574b1", Releases: "2.15 – 2.16", Summary: "MySQL dataset_schema MEDIUMTEXT"},
	{ID: "f5a4f2784254", Releases: "2.17", Summary: "tags.value 8000"},
	{ID: "0584bdc529eb", Releases: "2.18 – 2.22", Summary: "datasets cascade"},
	{ID: "400f98739977", Summary: "logged models"},
	{ID: "6953534de441", Releases: "3.0 – 3.1.0", Summary: "inputs.step"},
	{ID: "bda7b8c39065", Releases: "3.1.1 – 3.1.4", Summary: "model_version_tags.value TEXT"},
	{ID: "cbc13b556ace", Summary: "trace_info V3"},
	{ID: "770bee3ae1dd", Releases: "3.2", Summary: "assessments"},
	{ID: "a1b2c3d4e5f6", Summary: "spans"},
	{ID: "de4033877273", Summary: "entity_associations"},
	{ID: "1a0cddfcaa16", Releases: "3.3", Summary: "webhooks"},
	{ID: "534353b11cbc", Summary: "scorers"},
	{ID: "71994744cf8e", Releases: "3.4", Summary: "evaluation datasets"},
	{ID: "3da73c924c2f", Summary: "evaluation_dataset_records.outputs"},
	{ID: "bf29a5ff90ea", Releases: "3.5 – 3.7", Summary: "jobs"},
	{ID: "1bd49d398cd23", Releases: "3.8", Summary: "gateway tables"},
	{ID: "b7c8d9e0f1a2", Summary: "trace_metrics"},
	{ID: "5d2d30f0abce", Summary: "jobs changes"},
	{ID: "c9d4e5f6a7b8", Summary: "endpoint routing"},
	{ID: "2c33131f4dae", Summary: "online_scoring_configs"},
	{ID: "d3e4f5a6b7c8", Releases: "3.9", Summary: "endpoint_bindings.display_name"},
	{ID: "d0e1f2a3b4c5", Summary: "endpoints.experiment_id"},
	{ID: "c8d9e0f1a2b3", Summary: "span_metrics"},
	{ID: "1b5f0d9ad7c1", Releases: "3.10", Summary: "workspaces"},
	{ID: "e1f2a3b4c5d6", Summary: "budget_policies"},
	{ID: "76601a5f987d", Summary: "issues"},
	{ID: "c3d6457b6d8a", Releases: "3.11", Summary: "jobs.status_details"},
	{ID: "a5b4c3d2e1f0", Summary: "metrics (run_uuid, key, step) index"},
	{ID: "ae8bbe7743c9", Summary: "guardrails"},
	{ID: "7d34483879f0", Releases: "3.12", Summary: "registry tag indexes"},
	{ID: "da6fb0208061", Releases: "3.13", Summary: "workspaces trace archival, trace_info.db_payload_generation"},
	{ID: "89d3d66ed43f", Summary: "label_schemas"},
	{ID: "b7e4c1a90f23", Releases: "3.14", Summary: "review queues"},
	// After 3.14 the chain is read from migration files without MLflow's history;
	// docs/REVISIONS.md gives the evidence for each link and release head. mlflow-bulk
	// holds no DDL of these: databases at them are read and written by what they hold.
	{ID: "a8b9c0d1e2f3", Summary: "MCP server registry"},
	{ID: "c1d2e3f4a5b6", Summary: "spans (experiment_id, start_time_unix_nano) index"},
	{ID: "c3d9e7f1a2b4", Summary: "budget_policies.target_value"},
	{ID: "6f8d9c3b2a1e", Releases: "3.15", Summary: "trace_info experiment cascade"},
	{ID: "1971f2d9a75b", Summary: "trace archival index"},
	{ID: "17e22815139b", Summary: "experiment_tags.value TEXT"},
	{ID: "b7e2c1a4d9f3", Releases: "3.16", Summary: "jobs.creator"},
	{ID: "75868b020152", Releases: "3.17", Summary: "trace analytics columns and rollup tables"},
	{ID: "dc11669786a5", Summary: "job executor persistence"},
	{ID: "e8f9a0b1c2d3", Summary: "spans.service_name"},
}

// newestDescribed is the newest revision whose complete schema mlflow-bulk holds (its
// DDL under schema/ddl, its tables' columns in tables.go).
const newestDescribed = "b7e4c1a90f23"

var byID = func() map[string]*Revision {
	m := make(map[string]*Revision, len(chain))
	for i := range chain {
		chain[i].index = i
		m[chain[i].ID] = &chain[i]
	}
	return m
}()

// Lookup returns the revision with the given id, or false when mlflow-bulk does not know it.
func Lookup(id string) (*Revision, bool) {
	r, ok := byID[id]
	return r, ok
}

// Newest is the newest revision whose schema mlflow-bulk holds, which it creates by
// default and writes a newer database as (by what that database holds).
func Newest() *Revision { return byID[newestDescribed] }

// Head is the newest revision of MLflow's chain that mlflow-bulk knows of.
func Head() *Revision { return &chain[len(chain)-1] }

// Described reports whether mlflow-bulk holds the complete schema of r: one newer than
// that is read and written by what the database holds.
func (r *Revision) Described() bool { return r.index <= byID[newestDescribed].index }

// DescribedBase is r, or for a revision newer than mlflow-bulk's schema the newest it
// holds: the schema a database at r is compared with.
func (r *Revision) DescribedBase() *Revision {
	if r.Described() {
		return r
	}
	return Newest()
}

// Oldest is the first revision of the chain.
func Oldest() *Revision { return &chain[0] }

// AtLeast reports whether r is id or a later revision. It panics on an unknown id: ids
// used in code are constants of the chain.
func (r *Revision) AtLeast(id string) bool {
	other, ok := byID[id]
	if !ok {
		panic("schema: unknown revision " + id)
	}
	return r.index >= other.index
}

// String is "<id> (MLflow <releases>)" or just the id.
func (r *Revision) String() string {
	if r.Releases == "" {
		return r.ID
	}
	return fmt.Sprintf("%s (MLflow %s)", r.ID, r.Releases)
}

// OpenedBy says which MLflow releases open a database at this revision as it is: the
// releases whose newest revision it is, or, for a revision between releases (a
// development version's), the releases around it.
func (r *Revision) OpenedBy() string {
	if r.Releases != "" {
		return "MLflow " + r.Releases
	}
	before, after := "", ""
	for i := r.index - 1; i >= 0 && before == ""; i-- {
		before = chain[i].Releases
	}
	for i := r.index + 1; i < len(chain) && after == ""; i++ {
		after = chain[i].Releases
	}
	switch {
	case before != "" && after != "":
		return fmt.Sprintf("no release's own revision: it lies between MLflow %s and %s (a development version's); MLflow %s opens it after `mlflow db upgrade`", before, after, after)
	case after != "":
		return fmt.Sprintf("no release's own revision; MLflow %s opens it after `mlflow db upgrade`", after)
	}
	return fmt.Sprintf("newer than MLflow %s, no release's own revision that mlflow-bulk knows", before)
}

// SupportedReleases names the MLflow releases whose databases mlflow-bulk writes into,
// for messages about unknown revisions.
func SupportedReleases() string {
	first, last := "", ""
	for _, r := range chain {
		if r.Releases == "" {
			continue
		}
		if first == "" {
			first = strings.Split(r.Releases, " ")[0]
		}
		last = r.Releases
	}
	return fmt.Sprintf("MLflow %s to %s (alembic %s to %s)", first, last, Oldest().ID, Head().ID)
}

// Chain lists every revision mlflow-bulk knows, oldest first.
func Chain() []*Revision {
	out := make([]*Revision, len(chain))
	for i := range chain {
		out[i] = &chain[i]
	}
	return out
}
