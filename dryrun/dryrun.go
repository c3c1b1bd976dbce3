// Package dryrun runs a dry run into an empty database that cannot roll back DDL
// (MariaDB, MySQL): the import goes into a scratch database on the same server.
package dryrun

import (
	"context"
	"errors"
	"fmt"

	"github.com/mlflow-bulk/mlflow-bulk/importer"
	"github.com/mlflow-bulk/mlflow-bulk/sinks"
	"github.com/mlflow-bulk/mlflow-bulk/sources"
)

// InScratch runs a dry run into an empty database that cannot roll back the
// schema a dry run needs (the target's sink is a sinks.Scratcher) in a scratch database
// on the same server: the schema is created there, the import is rolled back, the
// scratch database dropped. The target is not touched.
func InScratch(ctx context.Context, target sinks.Sink, password string, srcs []sources.Source, opts importer.Options) (report *importer.Report, err error) {
	scratcher, ok := target.(sinks.Scratcher)
	if !ok {
		return nil, fmt.Errorf("a dry run into %s: %w", target.Describe(), importer.ErrDryRunNeedsSchema)
	}
	scratch, name, drop, err := scratcher.Scratch(ctx, sinks.Options{Password: password})
	if err != nil {
		return nil, fmt.Errorf("a dry run into the empty %s needs a scratch database for MLflow's schema, as the database cannot roll back DDL: %w; "+
			"run 'mlflow-bulk schema init' first, or import for real", target.Describe(), err)
	}
	defer func() {
		closeErr := scratch.Close()
		if dropErr := drop(); dropErr != nil {
			err = errors.Join(err, closeErr, dropErr)
		}
	}()
	opts.ScratchTarget = true
	report, err = importer.Import(ctx, scratch, srcs, opts)
	if report != nil {
		report.Target = target.Describe()
		report.Notices = append(report.Notices, "the dry run created MLflow's schema in a scratch database on the same server ("+name+
			"), dropped afterwards, since the database cannot roll back DDL; the target was not touched")
	}
	return report, err
}
