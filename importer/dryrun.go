package importer

import (
	"context"
	"fmt"
	"time"

	"github.com/mlflow-bulk/mlflow-bulk/schema"
	"github.com/mlflow-bulk/mlflow-bulk/sinks"
	"github.com/mlflow-bulk/mlflow-bulk/sources"
)

// DryRunInScratch runs a dry run into an empty MySQL/MariaDB database, which cannot roll
// back the schema a dry run needs, in a scratch database of the same character set and
// collation on the same server: the schema is created there, the import is rolled
// back, the scratch database dropped. The target is not touched.
func DryRunInScratch(ctx context.Context, target sinks.Sink, targetURI, password string, srcs []sources.Source, opts Options) (*Report, error) {
	u, err := sinks.ParseURI(targetURI)
	if err != nil || u.URL == nil {
		return nil, fmt.Errorf("a dry run into %s: %w", sinks.Redact(targetURI), ErrDryRunNeedsSchema)
	}
	tx, err := target.Begin(ctx)
	if err != nil {
		return nil, err
	}
	var charset, collation string
	err = schema.EachRow(ctx, tx, "SELECT DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = DATABASE()", nil,
		func(scan func(...any) error) error { return scan(&charset, &collation) })
	name := fmt.Sprintf("mlflow_bulk_dry_run_%d", time.Now().UnixNano())
	if err == nil {
		_, err = tx.Exec(ctx, fmt.Sprintf("CREATE DATABASE `%s` CHARACTER SET %s COLLATE %s", name, charset, collation))
	}
	if rbErr := tx.Rollback(ctx); err == nil {
		err = rbErr
	}
	if err != nil {
		return nil, fmt.Errorf("a dry run into the empty %s needs a scratch database for MLflow's schema, as MariaDB cannot roll back DDL, and creating one failed: %w; "+
			"run 'mlflow-bulk schema init' first, or import for real", target.Describe(), err)
	}
	defer func() {
		drop, dropErr := target.Begin(context.WithoutCancel(ctx))
		if dropErr == nil {
			_, _ = drop.Exec(context.WithoutCancel(ctx), "DROP DATABASE `"+name+"`") // our own scratch database
			_ = drop.Rollback(context.WithoutCancel(ctx))
		}
	}()
	scratchURL := *u.URL
	scratchURL.Path = "/" + name
	scratch, err := sinks.Default().Open(ctx, scratchURL.String(), sinks.Options{Password: password})
	if err != nil {
		return nil, err
	}
	defer scratch.Close()
	opts.ScratchTarget = true
	report, err := Import(ctx, scratch, srcs, opts)
	if report != nil {
		report.Target = target.Describe()
		report.Notices = append(report.Notices, "the dry run created MLflow's schema in a scratch database on the same server ("+name+
			"), dropped afterwards, since MariaDB cannot roll back DDL; the target was not touched")
	}
	return report, err
}
