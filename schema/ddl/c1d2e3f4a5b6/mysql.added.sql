-- What MLflow's revision c1d2e3f4a5b6 created: spans' index by experiment and start time, in place of the one by experiment alone.

CREATE INDEX index_spans_experiment_id_start_time ON spans (`experiment_id`, `start_time_unix_nano`);
