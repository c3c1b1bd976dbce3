package schema

import (
	"fmt"
)

// MLflow 3.8 (1bd49d398cd23) guards the secrets table with a trigger: a secret's id and
// name are the associated data of its encryption, so an UPDATE that changes either is
// refused, on every database. Trigger bodies hold ';', so they live here rather than in
// the held DDL files, which are split at ';'. Each is dropped first, so that completing
// an interrupted creation (CreateOptions.Resume) can run them again.

const secretsTriggerMessage = "secret_id and secret_name are immutable (used as AAD in encryption)"

var secretsTrigger = map[Dialect][]string{
	SQLite: {
		"DROP TRIGGER IF EXISTS prevent_secrets_aad_mutation",
		"CREATE TRIGGER prevent_secrets_aad_mutation\nBEFORE UPDATE ON secrets\nFOR EACH ROW\n" +
			"WHEN OLD.secret_id != NEW.secret_id OR OLD.secret_name != NEW.secret_name\n" +
			"BEGIN\n    SELECT RAISE(ABORT, '" + secretsTriggerMessage + "');\nEND",
	},
	Postgres: {
		"CREATE OR REPLACE FUNCTION prevent_secrets_aad_mutation()\nRETURNS TRIGGER AS $$\nBEGIN\n" +
			"    IF OLD.secret_id != NEW.secret_id OR OLD.secret_name != NEW.secret_name THEN\n" +
			"        RAISE EXCEPTION '" + secretsTriggerMessage + "';\n    END IF;\n    RETURN NEW;\nEND;\n$$ LANGUAGE plpgsql",
		"DROP TRIGGER IF EXISTS prevent_secrets_aad_mutation ON secrets",
		"CREATE TRIGGER prevent_secrets_aad_mutation\nBEFORE UPDATE ON secrets\nFOR EACH ROW\nEXECUTE FUNCTION prevent_secrets_aad_mutation()",
	},
	MySQL: {
		"DROP TRIGGER IF EXISTS prevent_secrets_aad_mutation",
		"CREATE TRIGGER prevent_secrets_aad_mutation\nBEFORE UPDATE ON secrets\nFOR EACH ROW\nBEGIN\n" +
			"    IF OLD.secret_id != NEW.secret_id OR OLD.secret_name != NEW.secret_name THEN\n" +
			"        SIGNAL SQLSTATE '45000'\n        SET MESSAGE_TEXT = '" + secretsTriggerMessage + "';\n    END IF;\nEND",
	},
}

// triggerStatements are the triggers of a database at r; a dialect without a text of a
// trigger its revision has is an error, so that a new database cannot be created
// without it.
func triggerStatements(r *Revision, d Dialect) ([]string, error) {
	if !r.AtLeast("1bd49d398cd23") {
		return nil, nil
	}
	stmts, ok := secretsTrigger[d]
	if !ok {
		return nil, fmt.Errorf("mlflow-bulk has no %s form of MLflow's secrets trigger (prevent_secrets_aad_mutation), which revision %s has", d, r.ID)
	}
	return stmts, nil
}

// mlflowTriggers are the triggers MLflow's own migrations create.
var mlflowTriggers = map[string]bool{"prevent_secrets_aad_mutation": true}

// Trigger is a trigger (or a rule that rewrites writes) on a table of the database.
type Trigger struct{ Name, Table string }

func (t Trigger) String() string { return fmt.Sprintf("%s on %s", t.Name, t.Table) }

// MLflowTrigger reports whether a trigger of that name is one MLflow creates.
func MLflowTrigger(name string) bool { return mlflowTriggers[name] }
