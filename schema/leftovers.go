package schema

// MLflow's 3.10 migration (1b5f0d9ad7c1) re-keys the registry's tag tables by workspace
// and drops their old foreign keys, but on MySQL the indexes those keys had made for
// themselves stay: every MLflow database on MySQL from 3.10 on has an index named name
// on registered_model_tags (name) and on model_version_tags (name, version). No dump
// shows them (the dumps list no indexes); a database MLflow's migrations made on MariaDB
// does. Before 3.10 the foreign keys' own indexes are these, made by the server.
func leftoverStatements(r *Revision, d Dialect) []string {
	if d != MySQL || !r.AtLeast("1b5f0d9ad7c1") {
		return nil
	}
	return []string{
		"CREATE INDEX name ON registered_model_tags (`name`)",
		"CREATE INDEX name ON model_version_tags (`name`, `version`)",
	}
}
