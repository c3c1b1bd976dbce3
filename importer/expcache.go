package importer

import (
	"context"
	"fmt"

	"github.com/mlflow-bulk/mlflow-bulk/schema"
)

// Resolving each source experiment with its own queries (is the name there, is the id
// free, insert, move the id sequence) costs a few round trips per experiment: 100 k
// experiments into PostgreSQL took many minutes. Where the target compares names
// exactly (PostgreSQL, SQLite), the target's experiment names and ids are read once, in
// one query each, and kept up to date as the import creates experiments; the id
// sequence moves once per batch. A writer beside the import that creates an experiment
// of the same name meanwhile makes the batch fail on the name's unique key, never
// doubles it; the next run merges it. Under a collation that makes other names equal
// (MySQL/MariaDB's usual ones) the database is asked each time, as only it knows what
// it makes equal.

// maxCachedExperiments bounds the names held: beyond it, the database is asked.
const maxCachedExperiments = 2_000_000

// experimentCache is the target's experiments as this import knows them.
type experimentCache struct {
	byName map[string]int64 // by workspaceName(workspace, name)
	ids    idSet            // every experiment's id, all workspaces
	maxID  int64
}

// experimentCache returns the cache, reading it at first use; nil when the database
// must be asked (a collation that folds names, or too many experiments).
func (m *experimentMapper) experimentCache(ctx context.Context) (*experimentCache, error) {
	if m.cache != nil || m.cacheOff {
		return m.cache, nil
	}
	// Shards of one import create experiments side by side: each must ask the database.
	if !m.collation.Exact() || m.opts.Filter.ShardCount > 1 {
		m.cacheOff = true
		return nil, nil
	}
	names, ids, err := m.store.Experiments(ctx, maxCachedExperiments)
	if err != nil {
		return nil, fmt.Errorf("read the target's experiments: %w", err)
	}
	if names == nil {
		m.cacheOff = true
		return nil, nil
	}
	c := &experimentCache{byName: names}
	for _, id := range ids {
		c.ids.add(id)
		c.maxID = max(c.maxID, id)
	}
	m.cache = c
	return c, nil
}

// forgetExperiments drops the cache: another writer may have changed the target.
func (m *experimentMapper) forgetExperiments() { m.cache = nil }

// noteCreatedExperiment keeps the cache current and the id sequence to move; name is
// workspaceName(workspace, name).
func (m *experimentMapper) noteCreatedExperiment(id int64, name string) {
	m.created = true
	if c := m.cache; c != nil {
		c.byName[name] = id
		c.ids.add(id)
		c.maxID = max(c.maxID, id)
	}
}

// advanceExperimentIDs moves the database's id generator past the experiments created
// in the batch, before it commits: MLflow's next create_experiment must not collide.
func (m *experimentMapper) advanceExperimentIDs(ctx context.Context) error {
	// A dry run moves nothing: a sequence's move would outlive its rollback.
	if !m.created || m.opts.DryRun {
		return nil
	}
	m.created = false
	if q := schema.ExperimentIDSequenceReset(m.dialect); q != "" {
		if _, err := m.tx.Exec(ctx, q); err != nil {
			return fmt.Errorf("advance the experiment id sequence: %w", err)
		}
	}
	return nil
}
