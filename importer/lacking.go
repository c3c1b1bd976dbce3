package importer

import (
	"fmt"

	"github.com/mlflow-bulk/mlflow-bulk/remedy"
	"github.com/mlflow-bulk/mlflow-bulk/sources"
)

// One rule for data a source holds that the target has no place for, whatever the
// source: a database's is named before anything is written (checkUnsupported); what
// other sources hold is met while they are read, and is handled here the same way. Under
// --skip-unsupported it is left out and listed in the report; without it the import stops.

// lacking handles rows of table (column, where only a column is missing) that the target
// cannot hold, what saying which in words; file is where they were read.
func (b base) lacking(file, table, column string, rows int64, what string) error {
	if !b.opts.SkipUnsupported {
		return remedy.With(fmt.Errorf("%w: %s: %s: the target at revision %s has no place for them. Create the target with a newer schema "+
			"('mlflow-bulk schema init' on an empty database), or upgrade it with 'mlflow db upgrade'", ErrUnsupported, file, what, b.rev.ID), skipUnsupported)
	}
	b.noteOnce(fmt.Sprintf("%s left out: the target's revision %s has no place for them (%s)", what, b.rev.ID, remedy.Mention(OptionSkipUnsupported)))
	for i, u := range b.report.Unsupported {
		if u.Source == b.sourceName && u.Table == table && u.Column == column {
			if i >= b.countedBeforeWriting { // else counted before writing, when the source could tell
				b.report.Unsupported[i].Rows += rows
			}
			return nil
		}
	}
	b.report.Unsupported = append(b.report.Unsupported, UnsupportedData{Source: b.sourceName, Unsupported: sources.Unsupported{Table: table, Column: column, Rows: rows}})
	return nil
}
