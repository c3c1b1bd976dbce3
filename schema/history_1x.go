package schema

// What MLflow 1.x's revisions changed, from the first (451aebb31d03) up to 97727af70f4d
// (1.29 – 2.2): taken back from the held DDL of 97727af70f4d down to the tables MLflow
// 0.9.1 created before the first revision. Where an effect depended on the versions of
// SQLAlchemy and alembic installed beside MLflow (CHECK constraints of Boolean columns),
// the texts follow the versions MLflow's own schema dumps were taken with.
var steps1x = []step{
	{"451aebb31d03", []change{
		columns("metrics", "step"),
		changedLine{"metrics", "PRIMARY KEY", keyTexts("metric_pk", "key", "timestamp", "run_uuid")},
	}},
	{"90e64c465722", nil}, // moves data only
	{"181f10493468", []change{
		changedColumn{"metrics", "value", texts{MySQL: "FLOAT NOT NULL", "": ""}},
		columns("metrics", "is_nan"),
		changedLine{"metrics", "PRIMARY KEY", keyTexts("metric_pk", "key", "timestamp", "step", "run_uuid", "value")},
	}},
	{"df50e92ffc5e", []change{addedTables{"experiment_tags"}}},
	{"7ac759974ad8", []change{changedColumn{"tags", "value", all("VARCHAR(250)")}}},
	{"89d4b8295536", []change{addedTables{"latest_metrics"}}},
	{"2b4d017a5e9b", []change{addedTables{"registered_models", "model_versions"}}},
	// The status column became an enum of five values, checked under a new constraint.
	{"cfd24bdc0731", []change{
		changedColumn{"runs", "status", all("VARCHAR(20)")},
		changedLine{"runs", "'KILLED'", texts{
			SQLite:   "CONSTRAINT status CHECK (status IN ('SCHEDULED', 'FAILED', 'FINISHED', 'RUNNING'))",
			Postgres: "CONSTRAINT status CHECK ((status IN ('SCHEDULED', 'FAILED', 'FINISHED', 'RUNNING')))",
			MySQL:    "CONSTRAINT status CHECK ((`status` in (_utf8mb4'SCHEDULED',_utf8mb4'FAILED',_utf8mb4'FINISHED',_utf8mb4'RUNNING')))",
		}},
	}},
	// Drops a duplicate CHECK that only MLflow 1.5's first version of cfd24bdc0731 left.
	{"0a8213491aaa", nil},
	{"728d730b5ebd", []change{addedTables{"registered_model_tags"}}},
	{"27a6a02d2cf1", []change{addedTables{"model_version_tags"}}},
	{"84291f40a231", []change{columns("model_versions", "run_link")}},
	{"a8c4a736bde6", []change{changedColumn{"model_versions", "run_id", all("VARCHAR(32) NOT NULL")}}},
	// is_nan became a Boolean with its CHECK: SQLite and MySQL show one (PostgreSQL has a
	// native boolean), and MySQL's MODIFY lost the column's default.
	{"39d1c3be5f05", []change{
		onlyOn{[]Dialect{SQLite}, addedLine{"latest_metrics", "CHECK (is_nan IN (0, 1))"}},
		onlyOn{[]Dialect{SQLite}, addedLine{"metrics", "CHECK (is_nan IN (0, 1))"}},
		onlyOn{[]Dialect{MySQL}, addedLine{"latest_metrics", "latest_metrics_chk_1"}},
		onlyOn{[]Dialect{MySQL}, addedLine{"metrics", "metrics_chk_1"}},
		changedColumn{"metrics", "is_nan", texts{MySQL: "TINYINT(1) DEFAULT '0' NOT NULL", "": ""}},
	}},
	// MySQL only: the default back, with a second CHECK.
	{"c48cb773bb87", []change{
		changedColumn{"metrics", "is_nan", texts{MySQL: "TINYINT(1) NOT NULL", "": ""}},
		onlyOn{[]Dialect{MySQL}, addedLine{"metrics", "metrics_chk_2"}},
	}},
	{"bd07f7e963c5", []change{addedIndexes{"index_params_run_uuid", "index_metrics_run_uuid", "index_latest_metrics_run_uuid", "index_tags_run_uuid"}}},
	{"0c779009ac13", []change{columns("runs", "deleted_time")}},
	{"cc1f77228345", []change{changedColumn{"params", "value", all("VARCHAR(250) NOT NULL")}}},
	{"97727af70f4d", []change{columns("experiments", "creation_time", "last_update_time")}},
}
