package schema

// DerivedStatements exposes the derivation of r's DDL from a held revision at or after
// it, so that tests can check a derivation that reaches a revision mlflow-bulk also holds.
func DerivedStatements(r, from *Revision, d Dialect) ([]string, error) { return derive(r, from, d) }
