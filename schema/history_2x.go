package schema

// What MLflow 2.x's revisions changed, after 97727af70f4d (1.29 – 2.2) up to 0584bdc529eb
// (2.18 – 2.22): taken back from the held DDL of acf3f17fdcc7 and 0584bdc529eb.
var steps2x = []step{
	{"3500859a5d39", []change{addedTables{"registered_model_aliases"}}},
	{"7f2a7d5fae7d", []change{addedTables{"datasets", "inputs", "input_tags"}}},
	{"2d6e25af4d3e", []change{changedColumn{"params", "value", all("VARCHAR(500) NOT NULL")}}},
	{"acf3f17fdcc7", []change{columns("model_versions", "storage_location")}},
	{"867495a8f9d4", []change{addedTables{"trace_info", "trace_tags", "trace_request_metadata"}}},
	{"5b0e9adcef9c", []change{
		changedLine{"trace_tags", "CONSTRAINT fk_trace_tags_request_id ", texts{
			MySQL: "CONSTRAINT fk_trace_tags_request_id FOREIGN KEY(`request_id`) REFERENCES trace_info (`request_id`)",
			"":    "CONSTRAINT fk_trace_tags_request_id FOREIGN KEY(request_id) REFERENCES trace_info (request_id)",
		}},
		changedLine{"trace_request_metadata", "CONSTRAINT fk_trace_request_metadata_request_id ", texts{
			MySQL: "CONSTRAINT fk_trace_request_metadata_request_id FOREIGN KEY(`request_id`) REFERENCES trace_info (`request_id`)",
			"":    "CONSTRAINT fk_trace_request_metadata_request_id FOREIGN KEY(request_id) REFERENCES trace_info (request_id)",
		}},
	}},
	// MySQL only: a dataset's schema outgrew TEXT.
	{"4465047574b1", []change{changedColumn{"datasets", "dataset_schema", texts{MySQL: "TEXT", "": ""}}}},
	{"f5a4f2784254", []change{changedColumn{"tags", "value", all("VARCHAR(5000)")}}},
	{"0584bdc529eb", []change{changedLine{"datasets", "fk_datasets_experiment_id_experiments", texts{
		SQLite:   "FOREIGN KEY(experiment_id) REFERENCES experiments (experiment_id)",
		Postgres: "CONSTRAINT datasets_experiment_id_fkey FOREIGN KEY(experiment_id) REFERENCES experiments (experiment_id)",
		MySQL:    "FOREIGN KEY(`experiment_id`) REFERENCES experiments (`experiment_id`)",
	}}}},
}
