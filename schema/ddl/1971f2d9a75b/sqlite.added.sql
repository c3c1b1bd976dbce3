-- What MLflow's revision 1971f2d9a75b created: the index trace archival scans traces by.

CREATE INDEX index_trace_info_timestamp_ms_request_id ON trace_info (timestamp_ms, request_id);
