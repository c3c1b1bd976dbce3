package dump

import (
	"github.com/mlflow-bulk/mlflow-bulk/schema"
	"github.com/mlflow-bulk/mlflow-bulk/sources"
)

// Conversions between the records and the dump's wire types, both ways.

func tagsToWire(tags []sources.Tag) []wireTag {
	if tags == nil {
		return nil
	}
	out := make([]wireTag, len(tags))
	for i, t := range tags {
		out[i] = wireTag(t)
	}
	return out
}

func tagsOf(tags []wireTag) []sources.Tag {
	if tags == nil {
		return nil
	}
	out := make([]sources.Tag, len(tags))
	for i, t := range tags {
		out[i] = sources.Tag(t)
	}
	return out
}

// Line is the line of a dump that holds a record: its wire type, which export writes as
// JSON; false for a record a dump keeps elsewhere (metrics) or not at all.
func Line(r sources.Record) (any, bool) {
	switch x := r.(type) {
	case *sources.Experiment:
		return wireExperiment{ID: x.SourceID, Name: x.Name, ArtifactLocation: x.ArtifactLocation, LifecycleStage: string(x.LifecycleStage),
			CreationTime: x.CreationTime, LastUpdateTime: x.LastUpdateTime, Tags: tagsToWire(x.Tags), Workspace: x.Workspace}, true
	case *sources.Dataset:
		return wireDataset{ExperimentID: x.ExperimentSourceID, Key: x.Key, UUID: x.UUID, Name: x.Name, Digest: x.Digest,
			SourceType: x.SourceType, Source: x.Source, Schema: x.Schema, Profile: x.Profile}, true
	case *sources.Run:
		return runToWire(x), true
	case *sources.LoggedModel:
		return loggedModelToWire(x), true
	case *sources.RegisteredModel:
		return registeredModelToWire(x), true
	case *sources.Trace:
		w := wireTrace{RequestID: x.RequestID, ExperimentID: x.ExperimentSourceID}
		for _, t := range x.Tables {
			w.Tables = append(w.Tables, wireTableRows(t))
		}
		return w, true
	case *sources.TableChunk:
		return wireTableChunk{Table: tableInfoToWire(x.Table), Columns: x.Columns, Rows: x.Rows}, true
	}
	return nil, false
}

func runToWire(r *sources.Run) wireRun {
	w := wireRun{RunID: r.RunID, ExperimentID: r.ExperimentSourceID, Name: r.Name, SourceType: string(r.SourceType), SourceName: r.SourceName,
		EntryPointName: r.EntryPointName, SourceVersion: r.SourceVersion, UserID: r.UserID, Status: string(r.Status),
		StartTime: r.StartTime, EndTime: r.EndTime, DeletedTime: r.DeletedTime, LifecycleStage: string(r.LifecycleStage), ArtifactURI: r.ArtifactURI,
		Params: tagsToWire(r.Params), Tags: tagsToWire(r.Tags), Verbatim: r.Verbatim, MetricsOnly: r.MetricsOnly}
	for _, in := range r.Inputs {
		w.Inputs = append(w.Inputs, wireInput{UUID: in.UUID, SourceType: in.SourceType, SourceID: in.SourceID, DestinationType: in.DestinationType,
			DestinationID: in.DestinationID, Step: in.Step, Tags: tagsToWire(in.Tags)})
	}
	return w
}

func (w wireRun) record() *sources.Run {
	r := &sources.Run{RunID: w.RunID, ExperimentSourceID: w.ExperimentID, Name: w.Name, SourceType: sources.SourceType(w.SourceType), SourceName: w.SourceName,
		EntryPointName: w.EntryPointName, SourceVersion: w.SourceVersion, UserID: w.UserID, Status: sources.RunStatus(w.Status),
		StartTime: w.StartTime, EndTime: w.EndTime, DeletedTime: w.DeletedTime, LifecycleStage: sources.Lifecycle(w.LifecycleStage), ArtifactURI: w.ArtifactURI,
		Params: tagsOf(w.Params), Tags: tagsOf(w.Tags), Verbatim: w.Verbatim, MetricsOnly: w.MetricsOnly}
	for _, in := range w.Inputs {
		r.Inputs = append(r.Inputs, sources.Input{UUID: in.UUID, SourceType: in.SourceType, SourceID: in.SourceID, DestinationType: in.DestinationType,
			DestinationID: in.DestinationID, Step: in.Step, Tags: tagsOf(in.Tags)})
	}
	return r
}

func loggedModelToWire(m *sources.LoggedModel) wireLoggedModel {
	w := wireLoggedModel{ModelID: m.ModelID, ExperimentID: m.ExperimentSourceID, Name: m.Name, ArtifactLocation: m.ArtifactLocation,
		CreationTimestamp: m.CreationTimestamp, LastUpdatedTimestamp: m.LastUpdatedTimestamp, Status: m.Status, LifecycleStage: m.LifecycleStage,
		ModelType: m.ModelType, SourceRunID: m.SourceRunID, StatusMessage: m.StatusMessage, Params: tagsToWire(m.Params), Tags: tagsToWire(m.Tags)}
	for _, mm := range m.Metrics {
		w.Metrics = append(w.Metrics, wireModelMetric{ExperimentID: mm.ExperimentSourceID, Name: mm.Name, Timestamp: mm.Timestamp, Step: mm.Step,
			Value: mm.Value, RunID: mm.RunID, DatasetUUID: mm.DatasetUUID, DatasetName: mm.DatasetName, DatasetDigest: mm.DatasetDigest})
	}
	return w
}

func (w wireLoggedModel) record() *sources.LoggedModel {
	m := &sources.LoggedModel{ModelID: w.ModelID, ExperimentSourceID: w.ExperimentID, Name: w.Name, ArtifactLocation: w.ArtifactLocation,
		CreationTimestamp: w.CreationTimestamp, LastUpdatedTimestamp: w.LastUpdatedTimestamp, Status: w.Status, LifecycleStage: w.LifecycleStage,
		ModelType: w.ModelType, SourceRunID: w.SourceRunID, StatusMessage: w.StatusMessage, Params: tagsOf(w.Params), Tags: tagsOf(w.Tags)}
	for _, mm := range w.Metrics {
		m.Metrics = append(m.Metrics, sources.ModelMetric{ExperimentSourceID: mm.ExperimentID, Name: mm.Name, Timestamp: mm.Timestamp, Step: mm.Step,
			Value: mm.Value, RunID: mm.RunID, DatasetUUID: mm.DatasetUUID, DatasetName: mm.DatasetName, DatasetDigest: mm.DatasetDigest})
	}
	return m
}

func registeredModelToWire(m *sources.RegisteredModel) wireRegisteredModel {
	w := wireRegisteredModel{Name: m.Name, CreationTime: m.CreationTime, LastUpdatedTime: m.LastUpdatedTime, Description: m.Description,
		Tags: tagsToWire(m.Tags), Workspace: m.Workspace}
	for _, v := range m.Versions {
		w.Versions = append(w.Versions, wireModelVersion{Version: v.Version, CreationTime: v.CreationTime, LastUpdatedTime: v.LastUpdatedTime,
			Description: v.Description, UserID: v.UserID, CurrentStage: v.CurrentStage, Source: v.Source, RunID: v.RunID, Status: v.Status,
			StatusMessage: v.StatusMessage, RunLink: v.RunLink, StorageLocation: v.StorageLocation, Tags: tagsToWire(v.Tags)})
	}
	for _, a := range m.Aliases {
		w.Aliases = append(w.Aliases, wireModelAlias(a))
	}
	return w
}

func (w wireRegisteredModel) record() *sources.RegisteredModel {
	m := &sources.RegisteredModel{Name: w.Name, CreationTime: w.CreationTime, LastUpdatedTime: w.LastUpdatedTime, Description: w.Description,
		Tags: tagsOf(w.Tags), Workspace: w.Workspace}
	for _, v := range w.Versions {
		m.Versions = append(m.Versions, sources.ModelVersion{Version: v.Version, CreationTime: v.CreationTime, LastUpdatedTime: v.LastUpdatedTime,
			Description: v.Description, UserID: v.UserID, CurrentStage: v.CurrentStage, Source: v.Source, RunID: v.RunID, Status: v.Status,
			StatusMessage: v.StatusMessage, RunLink: v.RunLink, StorageLocation: v.StorageLocation, Tags: tagsOf(v.Tags)})
	}
	for _, a := range w.Aliases {
		m.Aliases = append(m.Aliases, sources.ModelAlias(a))
	}
	return m
}

func tableInfoToWire(t *schema.TableInfo) *wireTableInfo {
	if t == nil {
		return nil
	}
	w := &wireTableInfo{Name: t.Name, PrimaryKey: t.PrimaryKey}
	for _, c := range t.Columns {
		w.Columns = append(w.Columns, wireColumnInfo(c))
	}
	for _, fk := range t.ForeignKeys {
		w.ForeignKeys = append(w.ForeignKeys, wireForeignKey(fk))
	}
	return w
}

func (w *wireTableInfo) info() *schema.TableInfo {
	if w == nil {
		return nil
	}
	t := &schema.TableInfo{Name: w.Name, PrimaryKey: w.PrimaryKey}
	for _, c := range w.Columns {
		t.Columns = append(t.Columns, schema.ColumnInfo(c))
	}
	for _, fk := range w.ForeignKeys {
		t.ForeignKeys = append(t.ForeignKeys, schema.ForeignKey(fk))
	}
	return t
}

// recordOf decodes a line of an entity file into its record: the wire type, then the
// record it stands for.
func recordOf(entity string, decode func(any) *sources.InputError) (sources.Record, *sources.InputError) {
	switch entity {
	case "experiments":
		var w wireExperiment
		if err := decode(&w); err != nil {
			return nil, err
		}
		return &sources.Experiment{SourceID: w.ID, Name: w.Name, ArtifactLocation: w.ArtifactLocation, LifecycleStage: sources.Lifecycle(w.LifecycleStage),
			CreationTime: w.CreationTime, LastUpdateTime: w.LastUpdateTime, Tags: tagsOf(w.Tags), Workspace: w.Workspace}, nil
	case "datasets":
		var w wireDataset
		if err := decode(&w); err != nil {
			return nil, err
		}
		return &sources.Dataset{ExperimentSourceID: w.ExperimentID, Key: w.Key, UUID: w.UUID, Name: w.Name, Digest: w.Digest,
			SourceType: w.SourceType, Source: w.Source, Schema: w.Schema, Profile: w.Profile}, nil
	case "runs":
		var w wireRun
		if err := decode(&w); err != nil {
			return nil, err
		}
		return w.record(), nil
	case "logged_models":
		var w wireLoggedModel
		if err := decode(&w); err != nil {
			return nil, err
		}
		return w.record(), nil
	case "registered_models":
		var w wireRegisteredModel
		if err := decode(&w); err != nil {
			return nil, err
		}
		return w.record(), nil
	case "traces":
		var w wireTrace
		if err := decode(&w); err != nil {
			return nil, err
		}
		tr := &sources.Trace{RequestID: w.RequestID, ExperimentSourceID: w.ExperimentID}
		for _, t := range w.Tables {
			tr.Tables = append(tr.Tables, sources.TableRows(t))
		}
		return tr, nil
	case "tables":
		var w wireTableChunk
		if err := decode(&w); err != nil {
			return nil, err
		}
		return &sources.TableChunk{Table: w.Table.info(), Columns: w.Columns, Rows: w.Rows}, nil
	}
	return nil, nil
}
