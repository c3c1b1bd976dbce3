-- What MLflow's revision 75868b020152 (MLflow 3.17's SQL trace analytics) created besides the
-- columns it added: four rollup tables, empty until MLflow builds them, and nine indexes.

CREATE TABLE sql_trace_metric_daily_rollups (
	`id` BIGINT NOT NULL AUTO_INCREMENT,
	`experiment_id` INTEGER NOT NULL,
	`rollup_day` DATE NOT NULL,
	`metric_name` VARCHAR(250) NOT NULL,
	`grouping_set` VARCHAR(50) NOT NULL,
	`trace_status` VARCHAR(50),
	`sample_count` BIGINT NOT NULL,
	`sum_value` DOUBLE,
	`min_value` DOUBLE,
	`max_value` DOUBLE,
	`p50_value` DOUBLE,
	`p90_value` DOUBLE,
	`p99_value` DOUBLE,
	PRIMARY KEY (`id`)
);

CREATE TABLE sql_span_cost_daily_rollups (
	`id` BIGINT NOT NULL AUTO_INCREMENT,
	`experiment_id` INTEGER NOT NULL,
	`rollup_day` DATE NOT NULL,
	`metric_name` VARCHAR(250) NOT NULL,
	`grouping_set` VARCHAR(50) NOT NULL,
	`model_name` VARCHAR(500),
	`model_provider` VARCHAR(500),
	`sample_count` BIGINT NOT NULL,
	`sum_value` DOUBLE,
	`min_value` DOUBLE,
	`max_value` DOUBLE,
	PRIMARY KEY (`id`)
);

CREATE TABLE sql_assessment_daily_rollups (
	`id` BIGINT NOT NULL AUTO_INCREMENT,
	`experiment_id` INTEGER NOT NULL,
	`rollup_day` DATE NOT NULL,
	`metric_name` VARCHAR(250) NOT NULL,
	`grouping_set` VARCHAR(50) NOT NULL,
	`sample_count` BIGINT NOT NULL,
	`sum_value` DOUBLE,
	`min_value` DOUBLE,
	`max_value` DOUBLE,
	PRIMARY KEY (`id`)
);

CREATE TABLE sql_trace_rollup_rebuild_queue (
	`experiment_id` INTEGER NOT NULL,
	`rollup_day` DATE NOT NULL,
	`rollup_family` VARCHAR(50) NOT NULL,
	PRIMARY KEY (`experiment_id`, `rollup_day`, `rollup_family`)
);

CREATE INDEX index_trace_info_experiment_id_session_id ON trace_info (`experiment_id`, `session_id`);

CREATE INDEX idx_trace_rollups_lookup ON sql_trace_metric_daily_rollups (`experiment_id`, `rollup_day`, `metric_name`, `grouping_set`, `trace_status`);

CREATE INDEX idx_span_cost_rollups_lookup ON sql_span_cost_daily_rollups (`experiment_id`, `rollup_day`, `metric_name`, `grouping_set`, `model_name`(64), `model_provider`(64));

CREATE INDEX idx_assessment_rollups_lookup ON sql_assessment_daily_rollups (`experiment_id`, `rollup_day`, `metric_name`, `grouping_set`);

CREATE INDEX idx_spans_cost_trace_time_cover ON spans (`trace_id`, `start_time_unix_nano`);

CREATE INDEX idx_spans_cost_exp_time_cover ON spans (`experiment_id`, `start_time_unix_nano`);

CREATE INDEX idx_assessments_exp_trace_ts ON assessments (`experiment_id`, `trace_timestamp_ms`);

CREATE INDEX idx_assessments_exp_trace_ts_name ON assessments (`experiment_id`, `trace_timestamp_ms`, `name`);

CREATE INDEX idx_assessments_exp_name_valid ON assessments (`experiment_id`, `name`, `valid`);
