package importer

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/mlflow-bulk/mlflow-bulk/artifacts"
	"github.com/mlflow-bulk/mlflow-bulk/importer/rules"
	"github.com/mlflow-bulk/mlflow-bulk/remedy"
	"github.com/mlflow-bulk/mlflow-bulk/sources"
)

// experimentMapper maps the sources' experiments, their datasets and workspaces to the
// target's, creating what the target lacks.
type experimentMapper struct {
	base
	locations *locations
	// expIDs is the target experiment each source experiment went to; datasets the
	// target dataset each source dataset went to; filtered the source experiments the
	// filters left out.
	expIDs   map[expKey]int64
	datasets map[datasetKey]string
	filtered map[expKey]bool
	// cache is the target's experiments (expcache.go); cacheOff: ask the database
	// instead. created: the id sequence must move before commit.
	cache             *experimentCache
	cacheOff, created bool
	// freshDefault: the Default experiment was created by this import, so the first
	// source Default merged into it lends it its attributes, as if MLflow had made it.
	freshDefault bool
	// workspaces is what the import knows of the target's workspaces (workspaces.go).
	workspaces workspaceState
	// matched counts the experiments the filters took; passedOver names some that the
	// experiment names asked for did not match, for the error when none did.
	matched    int
	passedOver []string
	// mover copies artifact files, when the import copies them (artifacts.go).
	mover *artifactMover
}

func newExperimentMapper(b base, l *locations) *experimentMapper {
	return &experimentMapper{base: b, locations: l, expIDs: map[expKey]int64{}, datasets: map[datasetKey]string{}, filtered: map[expKey]bool{}}
}

// maxPassedOver bounds the names an unmatched --experiment error lists.
const maxPassedOver = 12

// ErrNoExperimentMatched stops an import whose experiment names (Filter.Experiments)
// match no experiment of the sources: nothing would be imported, most likely by mistake.
var ErrNoExperimentMatched = errors.New("no experiment of the sources matches the experiments asked for")

// checkMatched is ErrNoExperimentMatched, naming what the sources hold (and a name that
// differs only in case), when experiment names were asked for and none matched.
func (m *experimentMapper) checkMatched() error {
	asked := m.opts.Filter.Experiments
	if len(asked) == 0 || m.matched > 0 {
		return nil
	}
	detail := fmt.Sprintf("%s %q", remedy.Mention(rules.OptionExperiments), asked)
	if len(m.passedOver) == 0 {
		return nil // the sources hold no experiment: there is nothing new, not a mistake
	}
	detail += fmt.Sprintf("; the sources hold %q", m.passedOver)
	for _, name := range m.passedOver {
		for _, a := range asked {
			if strings.EqualFold(name, a) && name != a {
				detail += fmt.Sprintf(" (names compare with case: %q is there)", name)
			}
		}
	}
	return fmt.Errorf("%w: %s", ErrNoExperimentMatched, detail)
}

// experiment maps a source experiment to the target. Names are unique in MLflow, so an
// experiment whose name the target has is merged into it; any other is created, keeping
// its source id when the target's column holds it and no experiment has it.
func (m *experimentMapper) experiment(ctx context.Context, source int, e *sources.Experiment) error {
	key := expKey{source, e.SourceID}
	m.committed.of(entityExperiments).Read++
	ok, why := m.opts.Filter.TakesExperiment(e)
	if ok {
		m.matched++
	} else if len(m.passedOver) < maxPassedOver && !slices.Contains(m.passedOver, e.Name) {
		m.passedOver = append(m.passedOver, e.Name)
	}
	if !ok {
		m.filtered[key] = true
		m.committed.of(entityExperiments).Skipped++
		m.noteFiltered(fmt.Sprintf("experiment %q left out: %s", e.Name, why))
		return nil
	}
	if newName, ok := m.opts.Filter.Rename[e.Name]; ok {
		renamed := *e
		renamed.Name = newName
		e = &renamed
	}
	if mapped, ok := m.locations.mapLocation(e.ArtifactLocation); ok {
		remapped := *e
		remapped.ArtifactLocation = mapped
		e = &remapped
	}
	if m.opts.TargetExperiment != "" {
		renamed := *e
		renamed.Name, renamed.Tags = m.opts.TargetExperiment, nil
		e = &renamed
	}
	if err := m.checkExperiment(e); err != nil {
		m.committed.of(entityExperiments).Rejected++
		return m.invalid(&sources.InputError{File: e.Origin.File, Err: err})
	}
	ws := m.workspaceOf(e.Workspace)
	if ws != "" || e.Workspace != "" {
		m.noteWorkspaceMerge("experiment", ws, e.Name, e.Workspace)
		placed := *e
		placed.Workspace, placed.ArtifactLocation = ws, m.workspaceLocation(ws, e.ArtifactLocation)
		e = &placed
	}
	if err := m.ensureWorkspace(ctx, ws); err != nil {
		return err
	}
	if ws != "" && ws != rules.DefaultWorkspace { // the default places everything as no workspace does
		if m.workspaces.of == nil {
			m.workspaces.of = map[expKey]string{}
		}
		m.workspaces.of[key] = ws
	}
	mapping := ExperimentMapping{Source: m.sourceName, SourceID: e.SourceID, Name: e.Name, Workspace: ws}
	id, found, err := m.experimentByName(ctx, ws, e.Name)
	var colliding *collidingNameError
	if errors.As(err, &colliding) {
		m.committed.of(entityExperiments).Rejected++
		return m.invalid(&sources.InputError{File: e.Origin.File, Err: err})
	}
	if err != nil {
		return err
	}
	if found {
		mapping.Action = "merged"
		m.committed.of(entityExperiments).Merged++
		if id == 0 && m.freshDefault && (ws == "" || ws == rules.DefaultWorkspace) {
			if err := m.adoptDefault(ctx, e); err != nil {
				return err
			}
		}
	} else {
		if id, err = m.createExperiment(ctx, e); err != nil {
			return err
		}
		mapping.Action = "created"
		m.batch.of(entityExperiments).Created++
	}
	mapping.TargetID = id
	mapping.IDChanged = strconv.FormatInt(id, 10) != e.SourceID
	m.expIDs[key] = id
	m.report.Experiments = append(m.report.Experiments, mapping)
	return m.experimentTags(ctx, id, e.Tags, !found, e.Origin.File)
}

func (m *experimentMapper) checkExperiment(e *sources.Experiment) error {
	if e.Name == "" {
		return fmt.Errorf("experiment %s has no name", e.SourceID)
	}
	what := fmt.Sprintf("experiment %s", e.SourceID)
	if err := m.asm.CheckText("experiments", "name", what+" name", e.Name); err != nil {
		return err
	}
	if err := m.asm.CheckText("experiments", "artifact_location", what+" artifact_location", e.ArtifactLocation); err != nil {
		return err
	}
	if err := rules.CheckArtifactLocation(e.ArtifactLocation); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if err := m.checkSourceWorkspace(e.Workspace); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if !m.rev.HasTable("experiment_tags") {
		return nil
	}
	for _, t := range e.Tags {
		if err := m.asm.CheckText("experiment_tags", "key", what+" tag key "+strconv.Quote(t.Key), t.Key); err != nil {
			return err
		}
		if err := m.asm.CheckText("experiment_tags", "value", what+" tag "+strconv.Quote(t.Key)+" value", t.Value); err != nil {
			return err
		}
		// MLflow rejects, never truncates, long experiment tag values, whatever the database.
		if limit := m.rev.Limits().ExperimentTagValue; len(t.Value) > limit && utf8.RuneCountInString(t.Value) > limit {
			return fmt.Errorf("%s tag %q value is %d characters; MLflow refuses experiment tag values over %d", what, t.Key, utf8.RuneCountInString(t.Value), limit)
		}
	}
	return nil
}

// experimentByName finds the target's experiment of a name. The database compares by
// its collation: where that makes another name equal ("Case-Exp" and "case-exp",
// "résumé" and "resume", "trail" and "trail " on MariaDB's usual ones), the two cannot
// both exist there, and merging them would put two experiments' runs in one: that is
// an error naming both.
func (m *experimentMapper) experimentByName(ctx context.Context, ws, name string) (int64, bool, error) {
	cache, err := m.experimentCache(ctx)
	if err != nil {
		return 0, false, err
	}
	if cache != nil {
		id, found := cache.byName[workspaceName(ws, name)]
		return id, found, nil // names compare exactly: no other spelling can match
	}
	id, stored, found, err := m.store.ExperimentByName(ctx, ws, name)
	if err == nil && found && stored != name {
		return 0, false, remedy.With(&collidingNameError{name: name, stored: stored, id: id, collation: m.collation.Name},
			remedy.Remedy{Option: OptionRename, Value: strconv.Quote(name + "=NEW"), Does: "to import it under another name"})
	}
	return id, found, err
}

// collidingNameError is an experiment name the target's collation makes equal to the
// name of another experiment.
type collidingNameError struct {
	name, stored string
	id           int64
	collation    string
}

func (e *collidingNameError) Error() string {
	return fmt.Sprintf("experiment %q is the same name as the target's experiment %d %q under the target's collation %s, so the database cannot hold both and MLflow "+
		"would merge them", e.name, e.id, e.stored, e.collation)
}

func (m *experimentMapper) createExperiment(ctx context.Context, e *sources.Experiment) (int64, error) {
	id, err := m.chooseExperimentID(ctx, e.SourceID)
	if err != nil {
		return 0, err
	}
	if m.mover != nil {
		// Its runs' files are copied under the location MLflow would give it.
		placed := *e
		placed.ArtifactLocation = m.workspaceLocation(e.Workspace, m.mover.experimentLocation(id))
		e = &placed
	}
	if err := m.store.CreateExperiment(ctx, id, e); err != nil {
		return 0, err
	}
	m.noteCreatedExperiment(id, workspaceName(e.Workspace, e.Name))
	return id, nil
}

// chooseExperimentID keeps the source id when it is an integer the target's column
// holds and no experiment uses; otherwise it takes the next id after the largest.
func (m *experimentMapper) chooseExperimentID(ctx context.Context, sourceID string) (int64, error) {
	cache, err := m.experimentCache(ctx)
	if err != nil {
		return 0, err
	}
	if id, err := strconv.ParseInt(sourceID, 10, 64); err == nil && id >= 0 && id <= m.dialect.MaxExperimentID() {
		var taken bool
		if cache != nil {
			taken = cache.ids.has(id)
		} else if taken, err = m.store.ExperimentIDTaken(ctx, id); err != nil {
			return 0, err
		}
		if !taken {
			return id, nil
		}
	}
	var maxID int64
	if cache != nil {
		maxID = cache.maxID
	} else if maxID, err = m.store.MaxExperimentID(ctx); err != nil {
		return 0, err
	}
	if maxID >= m.dialect.MaxExperimentID() {
		return 0, errors.New("no experiment id left in the target: its largest id is the column's maximum")
	}
	return maxID + 1, nil
}

// experimentTags writes a source experiment's tags. Into an experiment that already
// existed only keys it lacks are added: an import never overwrites the target's tags.
func (m *experimentMapper) experimentTags(ctx context.Context, id int64, tags []sources.Tag, created bool, origin string) error {
	count := m.committed.of(entityExperimentTags)
	count.Read += int64(len(tags))
	if len(tags) == 0 {
		return nil
	}
	if !m.rev.HasTable("experiment_tags") {
		count.Skipped += int64(len(tags))
		return m.lacking(origin, "experiment_tags", "", int64(len(tags)), "experiment tags")
	}
	// Keys are compared as the target compares them, so a collation that folds case
	// cannot turn an existing key into a duplicate-key error.
	existing := map[string]sources.Tag{}
	if !created {
		stored, err := m.store.ExperimentTags(ctx, id)
		if err != nil {
			return err
		}
		for _, t := range stored { // folded after the read: see storedKeyValues
			existing[m.keys.fold(t.Key)] = t
		}
	}
	for _, t := range tags {
		if first, ok := existing[m.keys.fold(t.Key)]; ok {
			switch {
			case first.Key != t.Key:
				count.Skipped++
				m.noteSkipped("", fmt.Sprintf("experiment %d: tag %q left out: the experiment has %q, the same key under the target's collation %s", id, t.Key, first.Key, m.collation.Name))
			case first.Value != t.Value:
				count.Skipped++
				m.noteSkipped("", fmt.Sprintf("experiment %d: tag %q = %q left out: the experiment has it as %q, and an import keeps the target's tags", id, t.Key, t.Value, first.Value))
			default:
				count.Merged++
			}
			continue
		}
		if err := m.store.AddExperimentTag(ctx, id, t); err != nil {
			return fmt.Errorf("experiment %d: %w", id, err)
		}
		existing[m.keys.fold(t.Key)] = t
		m.batch.of(entityExperimentTags).Created++
	}
	return nil
}

// dataset maps a source dataset to the target's row for (experiment, name, digest),
// creating it when missing, as MLflow's log_inputs does.
func (m *experimentMapper) dataset(ctx context.Context, source int, d *sources.Dataset) error {
	count := m.committed.of(entityDatasets)
	count.Read++
	exp := expKey{source, d.ExperimentSourceID}
	expID, ok := m.expIDs[exp]
	if !ok {
		count.Skipped++
		return nil
	}
	if !m.rev.HasTable("datasets") {
		count.Skipped++
		return m.lacking(d.Origin.File, "datasets", "", 1, "datasets")
	}
	what := fmt.Sprintf("dataset %q", d.Name)
	if err := m.asm.CheckRecord(what, d); err != nil {
		count.Rejected++
		return m.invalid(&sources.InputError{File: d.Origin.File, Err: err})
	}
	for _, c := range []struct{ column, value string }{{"name", d.Name}, {"digest", d.Digest}, {"dataset_source_type", d.SourceType}} {
		if err := m.asm.CheckText("datasets", c.column, what+" "+c.column, c.value); err != nil {
			return m.invalid(&sources.InputError{File: d.Origin.File, Err: err})
		}
	}
	uuid, found, err := m.store.DatasetUUID(ctx, expID, d.Name, d.Digest)
	if err != nil {
		return err
	}
	if found {
		count.Merged++
	} else {
		uuid = d.UUID
		if uuid == "" {
			uuid = newUUID()
		} else if taken, err := m.store.DatasetUUIDTaken(ctx, uuid); err != nil {
			return err
		} else if taken {
			uuid = newUUID()
		}
		if err := m.store.CreateDataset(ctx, uuid, expID, d); err != nil {
			return err
		}
		m.batch.of(entityDatasets).Created++
	}
	m.datasets[datasetKey{exp, d.Key}] = uuid
	return nil
}

func optionalText(s *string) any {
	if s == nil {
		return nil
	}
	return *s
}

// adoptDefault gives the Default experiment this import created the attributes of the
// source's Default: the target then holds what the source's MLflow made.
func (m *experimentMapper) adoptDefault(ctx context.Context, e *sources.Experiment) error {
	m.freshDefault = false
	if m.mover != nil {
		placed := *e
		placed.ArtifactLocation = m.workspaceLocation(e.Workspace, m.mover.experimentLocation(0))
		e = &placed
	}
	return m.store.AdoptDefault(ctx, e)
}

// noteFiltered records an experiment the filter left out.
func (m *experimentMapper) noteFiltered(reason string) {
	m.report.Notices = append(m.report.Notices, reason)
}

func (m *experimentMapper) filteredExp(source int, id string) bool {
	return m.filtered[expKey{source, id}]
}

// sameTargetExperiment tells whether two experiments of one source go into the same
// experiment of the target (an export that holds one experiment twice, under
// bulk/experiments and bulk/models/experiments): a run in both is one run.
func (m *experimentMapper) sameTargetExperiment(source int, a, b string) bool {
	ta, okA := m.expIDs[expKey{source, a}]
	tb, okB := m.expIDs[expKey{source, b}]
	return okA && okB && ta == tb
}

// placedLocation is an artifact location of an entity of experiment exp as the target
// keeps it: rewritten by --artifact-root-map, then under the experiment's workspace
// where the server serves it from there.
func (m *experimentMapper) placedLocation(exp expKey, location string) string {
	if m.mover != nil {
		return location // the copy writes the location (copiedLocation)
	}
	if mapped, ok := m.locations.mapLocation(location); ok {
		location = mapped
	}
	return m.workspaceLocation(m.experimentWorkspace(exp), location)
}

// copiedLocation is where the copy puts an entity of experiment exp: under the location
// MLflow gives the target experiment, whether the import created it or merged into it,
// at parts (run id and "artifacts", say).
func (m *experimentMapper) copiedLocation(exp expKey, parts ...string) string {
	root := m.workspaceLocation(m.experimentWorkspace(exp), m.mover.experimentLocation(m.expIDs[exp]))
	return artifacts.Below(root, parts...)
}
