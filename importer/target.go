package importer

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/mlflow-bulk/mlflow-bulk/importer/rules"
	"github.com/mlflow-bulk/mlflow-bulk/remedy"
	"github.com/mlflow-bulk/mlflow-bulk/schema/live"

	"github.com/mlflow-bulk/mlflow-bulk/schema"
	"github.com/mlflow-bulk/mlflow-bulk/sinks"
	"github.com/mlflow-bulk/mlflow-bulk/sources"
)

// prepareTarget detects the target's revision, creating the schema in an empty database.
func (im *importer) prepareTarget(ctx context.Context, srcs []sources.Source) error {
	tx, err := im.sink.Begin(ctx)
	if err != nil {
		return err
	}
	im.tx = newPendingTx(tx)
	// A newer MLflow's database (or a branch's), or a release's whose schema
	// mlflow-bulk does not hold, is written by what its tables have.
	rev, tables, notes, err := live.DetectOrFit(ctx, tx, im.dialect)
	resume := errors.Is(err, live.ErrPartialSchema)
	if resume {
		err = nil
	}
	im.report.Notices = append(im.report.Notices, notes...)
	if err != nil {
		return fmt.Errorf("%s: %w", im.sink.Describe(), err)
	}
	if rev == nil {
		if rev, err = im.createSchema(ctx, tx, resume, srcs); err != nil {
			return err
		}
		tables = nil // the tables are new: read them below
		if !rev.Described() {
			// A schema newer than the one mlflow-bulk holds is written by what its
			// tables hold, as it is on every later run.
			if rev, tables, notes, err = live.DetectOrFit(ctx, tx, im.dialect); err != nil {
				return fmt.Errorf("%s: %w", im.sink.Describe(), err)
			}
			im.report.Notices = append(im.report.Notices, notes...)
		}
	}
	if !im.opts.DryRun {
		// Also true when an earlier import into a new database was interrupted before
		// it built the keys: this one finishes that.
		if im.keysDeferred, err = live.KeysDeferred(ctx, tx, im.dialect); err != nil {
			return err
		}
		im.progress.KeysAfter = im.keysDeferred
	}
	if want := im.opts.SchemaRevision; want != nil && want != rev && !im.report.SchemaCreated {
		im.report.Notices = append(im.report.Notices, fmt.Sprintf("the target already holds MLflow's schema at %s: it was written as it is, not at %s (which is only created in an empty database)", rev, want))
	}
	im.rev = rev
	im.report.Revision = rev.String()
	im.store = wrapStore(sqlStore{tx: func() sinks.Tx { return im.tx }, rev: rev, dialect: im.dialect})
	if im.targetTables = tables; tables == nil {
		if im.targetTables, err = live.Inspect(ctx, tx, im.dialect); err != nil {
			return fmt.Errorf("%s: %w", im.sink.Describe(), err)
		}
	}
	im.noteSinglePrecision()
	if err := im.refreshTargetState(ctx); err != nil {
		return err
	}
	if err := im.indexForResume(ctx, tx); err != nil {
		return err
	}
	if im.collation, err = live.KeyCollation(ctx, tx, im.dialect); err != nil {
		return err
	}
	if err := im.checkTriggers(ctx, tx); err != nil {
		return err
	}
	im.keys = &keyFolder{target: im.session, ctx: ctx, weights: map[string]string{}}
	im.asm = rules.Assembler{Rev: rev, Db: im.dialect.Database(), Collation: im.collation, Collisions: im.opts.OnKeyCollision, Fold: im.keys.fold}
	if n, ok := im.sink.(sinks.Noticer); ok {
		im.report.Notices = append(im.report.Notices, n.Notices()...)
	}
	if !im.collation.Exact() {
		im.report.Notices = append(im.report.Notices, fmt.Sprintf("the target compares keys with collation %s (case-insensitive: %t, trailing spaces ignored: %t); keys that collide under it are handled by %s %s",
			im.collation.Name, im.collation.CaseInsensitive, im.collation.PadSpace, remedy.Mention(OptionOnKeyCollision), im.asm.Policy()))
	}
	im.runs.buf = newRunBuffers(rev)
	// Here, as MySQL commits DDL at once and leaves the session outside a transaction:
	// the commit below begins the import's first one.
	if err := im.stamps.prepare(ctx, srcs, im.runs.buf); err != nil {
		return err
	}
	// The schema is committed on its own: an import that fails later still leaves a
	// valid, empty MLflow database.
	return im.commit(ctx, true)
}

// createSchema creates MLflow's schema in an empty target, metrics' keys deferred for
// the bulk load: the schema asked for, or the newest of the sources' own where that is
// newer than the newest mlflow-bulk holds, or that.
func (im *importer) createSchema(ctx context.Context, tx sinks.Tx, resume bool, srcs []sources.Source) (*schema.Revision, error) {
	if im.opts.DryRun && !im.opts.ScratchTarget && !im.dialect.Database().TransactionalDDL {
		return nil, fmt.Errorf("%s is empty: %w, and "+im.dialect.Database().Name+" commits DDL at once; run 'mlflow-bulk schema init' first, or import for real", im.sink.Describe(), ErrDryRunNeedsSchema)
	}
	rev := im.opts.SchemaRevision
	if rev == nil {
		var notes []string
		rev, notes = sourcesRevision(srcs, im.dialect)
		im.report.Notices = append(im.report.Notices, notes...)
	}
	im.phase(PhaseSchema)
	if err := live.Create(ctx, tx, im.dialect, rev, live.CreateOptions{DefaultArtifactRoot: im.opts.DefaultArtifactRoot, Resume: resume}); err != nil {
		if ctx.Err() != nil && !im.dialect.Database().TransactionalDDL {
			return nil, fmt.Errorf("%w: %w", ErrSchemaPartlyCreated, err)
		}
		return nil, err
	}
	im.report.SchemaCreated = true
	// A new database is loaded in bulk: metrics' keys and indexes are built after
	// the load, which is much faster than keeping them up to date row by row.
	if drop, _ := schema.DeferKeys(im.dialect, rev); drop != nil && !im.opts.DryRun {
		for _, stmt := range drop {
			if _, err := tx.Exec(ctx, stmt); err != nil {
				return nil, fmt.Errorf("prepare the bulk load: %w", err)
			}
		}
	}
	return rev, nil
}

// sourcesRevision is the revision an empty target is created at when none is asked
// for: the newest schema mlflow-bulk holds, or a database source's own revision where
// that is newer and mlflow-bulk creates it (else the newest it creates before that). A
// source left newer than the schema created is named, with what to do.
func sourcesRevision(srcs []sources.Source, d schema.Dialect) (*schema.Revision, []string) {
	rev := schema.Newest()
	var from string
	type newer struct{ source, id string }
	var older []newer
	for _, src := range srcs {
		r, ok := src.(sources.Revisioned)
		if !ok {
			continue
		}
		id := r.SchemaRevision()
		known, ok := schema.Lookup(id)
		if ok && rev.AtLeast(id) {
			continue
		}
		if ok {
			if c := schema.NewestCreatableUpTo(known, d); c != nil && !rev.AtLeast(c.ID) {
				rev, from = c, src.Describe()
			}
		}
		older = append(older, newer{src.Describe(), id})
	}
	var notes []string
	if from != "" {
		notes = append(notes, fmt.Sprintf("the target was created at %s, the newest revision of the sources that mlflow-bulk creates (%s)", rev, from))
	}
	for _, o := range older {
		if _, known := schema.Lookup(o.id); known && rev.AtLeast(o.id) {
			continue // another source's newer revision was created
		}
		notes = append(notes, fmt.Sprintf("the target was created at %s, older than %s at %s, which mlflow-bulk does not create: "+
			"to hold all it has, create the target with that MLflow (`mlflow db upgrade` on the empty database) and import into it", rev, o.source, o.id))
	}
	return rev, notes
}

// noteSinglePrecision says when the target keeps metric values in single precision, as
// MLflow 1.0 created metrics.value on MySQL (FLOAT, until 1.1 made it DOUBLE): values are
// stored rounded to about 7 digits, as that MLflow stored them, and verify shows them.
func (im *importer) noteSinglePrecision() {
	for _, table := range []string{"metrics", "latest_metrics"} {
		if t := im.targetTables[table]; t != nil {
			if c := t.Column("value"); c != nil && im.dialect.SinglePrecision(c.Type) {
				im.report.Notices = append(im.report.Notices, fmt.Sprintf(
					"the target's %s.value is single-precision %s (MLflow 1.0's schema on this database): metric values are stored rounded to about 7 digits, as that MLflow stored them; verify reports them as differing", table, strings.ToUpper(c.Type)))
			}
		}
	}
}

// checkTriggers names, before anything is written, the triggers on the target's tables
// that MLflow does not create: one may drop, change or divert the rows the import
// writes while the report counts them as written.
func (im *importer) checkTriggers(ctx context.Context, tx sinks.Tx) error {
	foreign, err := live.ForeignTriggers(ctx, tx, im.dialect)
	if err != nil || len(foreign) == 0 {
		return err
	}
	names := make([]string, len(foreign))
	for i, t := range foreign {
		names[i] = t.String()
	}
	if !im.opts.AllowTriggers {
		return remedy.With(fmt.Errorf("%s: %w: %s. A trigger may drop, change or divert the rows mlflow-bulk writes; nothing was written. Remove them",
			im.sink.Describe(), ErrForeignTriggers, strings.Join(names, ", ")),
			remedy.Remedy{Option: OptionAllowTriggers, Does: "to write anyway (a write that stores fewer rows than it wrote still stops the import)"})
	}
	im.report.Notices = append(im.report.Notices, fmt.Sprintf("the target's tables have triggers MLflow does not create (%s); written with %s", strings.Join(names, ", "), remedy.Mention(OptionAllowTriggers)))
	return nil
}
