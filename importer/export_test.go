package importer

import (
	"context"
	"sync/atomic"

	"github.com/mlflow-bulk/mlflow-bulk/importer/rules"

	"github.com/mlflow-bulk/mlflow-bulk/sources"
)

// SetReadAhead makes the windows of runs read ahead small, for the test's duration.
func SetReadAhead(runs, points int, storedPoints int64) (restore func()) {
	r, p, s := aheadRuns, aheadPoints, aheadStoredPoints
	aheadRuns, aheadPoints, aheadStoredPoints = runs, points, storedPoints
	return func() { aheadRuns, aheadPoints, aheadStoredPoints = r, p, s }
}

// CountRunReads counts the importer's reads of stored runs (each a query), until the
// returned function restores the plain store.
func CountRunReads() (reads *atomic.Int64, restore func()) {
	reads = &atomic.Int64{}
	wrapStore = func(s Store) Store { return runReadCounter{Store: s, reads: reads} }
	return reads, func() { wrapStore = func(s Store) Store { return s } }
}

type runReadCounter struct {
	Store
	reads *atomic.Int64
}

func (c runReadCounter) RunsProgress(ctx context.Context, ids []string) (map[string]storedRun, error) {
	c.reads.Add(1)
	return c.Store.RunsProgress(ctx, ids)
}

func (c runReadCounter) RunsKeyValues(ctx context.Context, table string, ids []string, each func(string, sources.Tag)) error {
	c.reads.Add(1)
	return c.Store.RunsKeyValues(ctx, table, ids, each)
}

func (c runReadCounter) RunsMetricCounts(ctx context.Context, ids []string) (map[string]int64, error) {
	c.reads.Add(1)
	return c.Store.RunsMetricCounts(ctx, ids)
}

func (c runReadCounter) RunsMetrics(ctx context.Context, ids []string, each func(string, rules.PointKey)) error {
	c.reads.Add(1)
	return c.Store.RunsMetrics(ctx, ids, each)
}

func (c runReadCounter) RunsLatestMetrics(ctx context.Context, ids []string, each func(string, rules.MetricPoint)) error {
	c.reads.Add(1)
	return c.Store.RunsLatestMetrics(ctx, ids, each)
}

func (c runReadCounter) RunsInputEdges(ctx context.Context, ids []string, each func(string, inputEdge)) error {
	c.reads.Add(1)
	return c.Store.RunsInputEdges(ctx, ids, each)
}
