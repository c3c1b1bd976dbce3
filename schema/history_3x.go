package schema

import "strings"

// What MLflow 3's revisions changed, after 0584bdc529eb (2.18 – 2.22) up to b7e4c1a90f23
// (3.14): taken back from the held DDL of c3d6457b6d8a, 7d34483879f0 and b7e4c1a90f23.
// Where a migration's effect differs by dialect the texts say so; the earlier forms come
// from the held DDL of 0584bdc529eb and from databases MLflow 3.1 and 3.8 created.
var steps3x = []step{
	{"400f98739977", []change{addedTables{"logged_models", "logged_model_metrics", "logged_model_params", "logged_model_tags"}}},
	{"6953534de441", []change{columns("inputs", "step")}},
	{"bda7b8c39065", []change{changedColumn{"model_version_tags", "value", all("VARCHAR(5000)")}}},
	{"cbc13b556ace", []change{columns("trace_info", "client_request_id", "request_preview", "response_preview")}},
	{"770bee3ae1dd", []change{addedTables{"assessments"}}},
	{"a1b2c3d4e5f6", []change{addedTables{"spans"}}},
	{"de4033877273", []change{addedTables{"entity_associations"}}},
	{"1a0cddfcaa16", []change{addedTables{"webhooks", "webhook_events"}}},
	{"534353b11cbc", []change{addedTables{"scorers", "scorer_versions"}}},
	{"71994744cf8e", []change{addedTables{"evaluation_datasets", "evaluation_dataset_tags", "evaluation_dataset_records"}}},
	{"3da73c924c2f", []change{columns("evaluation_dataset_records", "outputs")}},
	{"bf29a5ff90ea", []change{addedTables{"jobs"}}},
	{"1bd49d398cd23", []change{addedTables{"secrets", "endpoints", "model_definitions", "endpoint_model_mappings", "endpoint_bindings", "endpoint_tags"}}},
	{"b7c8d9e0f1a2", []change{addedTables{"trace_metrics"}}},
	{"5d2d30f0abce", []change{
		droppedIndex{"index_jobs_function_status_creation_time", "jobs", indexTexts("index_jobs_function_status_creation_time", "jobs", "function_fullname", "status", "creation_time")},
		renamedColumn{"jobs", "function_fullname", "job_name", all("VARCHAR(500) NOT NULL")},
		addedIndexes{"index_jobs_name_status_creation_time"},
	}},
	{"c9d4e5f6a7b8", []change{
		columns("endpoints", "routing_strategy", "fallback_config_json"),
		droppedIndex{"unique_endpoint_model_mapping", "endpoint_model_mappings", uniqueIndexTexts("unique_endpoint_model_mapping", "endpoint_model_mappings", "endpoint_id", "model_definition_id")},
		columns("endpoint_model_mappings", "linkage_type", "fallback_order"),
		addedIndexes{"unique_endpoint_model_linkage_mapping"},
	}},
	{"2c33131f4dae", []change{addedTables{"online_scoring_configs"}}},
	{"d3e4f5a6b7c8", []change{columns("endpoint_bindings", "display_name")}},
	{"d0e1f2a3b4c5", []change{columns("endpoints", "experiment_id", "usage_tracking"), addedLine{"endpoints", "fk_endpoints_experiment_id"}}},
	{"c8d9e0f1a2b3", []change{addedTables{"span_metrics"}, columns("spans", "dimension_attributes")}},
	{"1b5f0d9ad7c1", workspaceChanges()},
	{"e1f2a3b4c5d6", []change{addedTables{"budget_policies"}}},
	{"76601a5f987d", []change{addedTables{"issues"}}},
	{"c3d6457b6d8a", []change{columns("jobs", "status_details")}},
	{"a5b4c3d2e1f0", []change{addedIndexes{"index_metrics_run_uuid_key_step"}}},
	{"ae8bbe7743c9", []change{addedTables{"guardrails", "guardrail_configs"}}},
	{"7d34483879f0", []change{addedIndexes{"idx_model_version_tags_workspace_name_version", "idx_registered_model_tags_workspace_name"}}},
	{"da6fb0208061", []change{columns("workspaces", "trace_archival_location", "trace_archival_retention"), columns("trace_info", "db_payload_generation")}},
	{"89d3d66ed43f", []change{addedTables{"label_schemas"}}},
	{"b7e4c1a90f23", []change{addedTables{"review_queues", "review_queue_items", "review_queue_label_schemas", "review_queue_users"}}},
}

// workspaceChanges is 1b5f0d9ad7c1 (MLflow 3.10): a workspace column on twelve tables,
// names unique per workspace, the model registry keyed by workspace, and the workspaces
// table.
func workspaceChanges() []change {
	var out []change
	out = append(out,
		droppedIndex{"index_jobs_name_status_creation_time", "jobs", indexTexts("index_jobs_name_status_creation_time", "jobs", "job_name", "status", "creation_time")},
		addedIndexes{"index_jobs_name_status_creation_time"},
	)
	for _, t := range []string{"experiments", "registered_models", "model_versions", "registered_model_tags", "model_version_tags",
		"registered_model_aliases", "evaluation_datasets", "webhooks", "secrets", "endpoints", "model_definitions", "jobs"} {
		out = append(out, columns(t, "workspace"))
	}
	out = append(out,
		changedLine{"experiments", "uq_experiments_workspace_name", texts{
			SQLite: "UNIQUE (name)", Postgres: "CONSTRAINT experiments_name_key UNIQUE (name)", MySQL: "UNIQUE (`name`)"}},
		changedLine{"registered_models", "PRIMARY KEY", keyTexts("registered_model_pk", "name")},
		droppedLine{"registered_models", "PRIMARY KEY", texts{SQLite: "UNIQUE (name)", MySQL: "UNIQUE (`name`)", "": ""}},
		changedLine{"model_versions", "PRIMARY KEY", keyTexts("model_version_pk", "name", "version")},
		changedLine{"model_versions", "fk_model_versions_registered_models", texts{
			SQLite:   "FOREIGN KEY(name) REFERENCES registered_models (name) ON UPDATE CASCADE",
			Postgres: "CONSTRAINT model_versions_name_fkey FOREIGN KEY(name) REFERENCES registered_models (name) ON UPDATE CASCADE",
			MySQL:    "FOREIGN KEY(`name`) REFERENCES registered_models (`name`) ON UPDATE CASCADE"}},
		changedLine{"registered_model_tags", "PRIMARY KEY", keyTexts("registered_model_tag_pk", "key", "name")},
		changedLine{"registered_model_tags", "fk_registered_model_tags_registered_models", texts{
			SQLite:   "FOREIGN KEY(name) REFERENCES registered_models (name) ON UPDATE CASCADE",
			Postgres: "CONSTRAINT registered_model_tags_name_fkey FOREIGN KEY(name) REFERENCES registered_models (name) ON UPDATE CASCADE",
			MySQL:    "FOREIGN KEY(`name`) REFERENCES registered_models (`name`) ON UPDATE CASCADE"}},
		changedLine{"model_version_tags", "PRIMARY KEY", keyTexts("model_version_tag_pk", "key", "name", "version")},
		changedLine{"model_version_tags", "fk_model_version_tags_model_versions", texts{
			SQLite:   "FOREIGN KEY(name, version) REFERENCES model_versions (name, version) ON UPDATE CASCADE",
			Postgres: "CONSTRAINT model_version_tags_name_version_fkey FOREIGN KEY(name, version) REFERENCES model_versions (name, version) ON UPDATE CASCADE",
			MySQL:    "FOREIGN KEY(`name`, `version`) REFERENCES model_versions (`name`, `version`) ON UPDATE CASCADE"}},
		changedLine{"registered_model_aliases", "PRIMARY KEY", keyTexts("registered_model_alias_pk", "name", "alias")},
		changedLine{"registered_model_aliases", "fk_registered_model_aliases_registered_models", texts{
			MySQL: "CONSTRAINT registered_model_alias_name_fkey FOREIGN KEY(`name`) REFERENCES registered_models (`name`) ON DELETE CASCADE ON UPDATE CASCADE",
			"":    "CONSTRAINT registered_model_alias_name_fkey FOREIGN KEY(name) REFERENCES registered_models (name) ON DELETE CASCADE ON UPDATE CASCADE"}},
	)
	// Names of secrets, endpoints and model definitions were unique indexes before.
	for _, u := range []struct{ table, column, index, constraint string }{
		{"secrets", "secret_name", "unique_secret_name", "uq_secrets_workspace_secret_name"},
		{"endpoints", "name", "unique_endpoint_name", "uq_endpoints_workspace_name"},
		{"model_definitions", "name", "unique_model_definition_name", "uq_model_definitions_workspace_name"},
	} {
		out = append(out, droppedIndex{u.index, u.table, uniqueIndexTexts(u.index, u.table, u.column)}, addedLine{u.table, u.constraint})
	}
	out = append(out, addedTables{"workspaces"}, addedIndexes{"idx_experiments_workspace", "idx_registered_models_workspace",
		"idx_experiments_workspace_creation_time", "idx_evaluation_datasets_workspace", "idx_webhooks_workspace",
		"idx_secrets_workspace", "idx_endpoints_workspace", "idx_model_definitions_workspace"})
	return out
}

// keyTexts is a named primary key as each dialect's DDL writes it (MySQL drops the name).
func keyTexts(name string, cols ...string) texts {
	return texts{
		MySQL: "PRIMARY KEY (" + backquoted(cols) + ")",
		"":    "CONSTRAINT " + name + " PRIMARY KEY (" + strings.Join(cols, ", ") + ")",
	}
}

func indexTexts(name, table string, cols ...string) texts {
	return texts{
		MySQL: "CREATE INDEX " + name + " ON " + table + " (" + backquoted(cols) + ")",
		"":    "CREATE INDEX " + name + " ON " + table + " (" + strings.Join(cols, ", ") + ")",
	}
}

func uniqueIndexTexts(name, table string, cols ...string) texts {
	t := indexTexts(name, table, cols...)
	for d, s := range t {
		t[d] = strings.Replace(s, "CREATE INDEX", "CREATE UNIQUE INDEX", 1)
	}
	return t
}

func backquoted(cols []string) string {
	q := make([]string, len(cols))
	for i, c := range cols {
		q[i] = "`" + c + "`"
	}
	return strings.Join(q, ", ")
}
