package verify

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/mlflow-bulk/mlflow-bulk/schema/live"
	"github.com/mlflow-bulk/mlflow-bulk/sources"
)

// A run's inputs name datasets by their ids, which the import maps (a dataset the target
// already held under another id is that one): edges are compared by what they join, a
// dataset by its name and digest, a logged model or run by its id, each with its step and
// its tags, both ways.

// datasetIdentity is a dataset as edges compare it.
func datasetIdentity(name, digest string) string {
	return "dataset " + name + " (digest " + digest + ")"
}

// edgeText names an edge: its source and destination, as a person reads them.
func edgeText(sourceType, source, destType, destID string) string {
	if sourceType != "DATASET" {
		source = strings.ToLower(sourceType) + " " + source
	}
	return source + " -> " + strings.ToLower(destType) + " " + destID
}

// inputEdge is an edge as compared: its step and tags.
type inputEdge struct {
	step int64
	tags string
}

// compareInputs compares the run's inputs and outputs with the target's.
func (v *verifier) compareInputs(ctx context.Context, r *sources.Run) error {
	if v.tables["inputs"] == nil || r.MetricsOnly {
		return nil
	}
	want := map[string]inputEdge{}
	for _, in := range r.Inputs {
		modelEdge := strings.HasPrefix(in.SourceType, "MODEL_") || strings.HasPrefix(in.DestinationType, "MODEL_")
		if modelEdge && v.tables["logged_models"] == nil {
			continue // a logged model's edge, left out with its table (the import said so)
		}
		source := in.SourceID
		if in.SourceType == "DATASET" {
			d, ok := v.datasetNames[r.ExperimentSourceID+"\x00"+in.SourceID]
			if !ok {
				continue // a dataset the source does not hold: the import rejected the run
			}
			source = d
		}
		want[edgeText(in.SourceType, source, in.DestinationType, in.DestinationID)] = inputEdge{step: in.Step, tags: tagText(in.Tags)}
	}
	held, err := v.targetInputs(ctx, r.RunID)
	if err != nil {
		return err
	}
	for edge, w := range want {
		h, ok := held[edge]
		switch {
		case !ok:
			v.differ(r.RunID, "input missing", edge, "the target has no input "+edge)
		case h.tags != w.tags:
			v.differ(r.RunID, "input differs", edge, fmt.Sprintf("input %s has tags %s in the target, %s in the source", edge, h.tags, w.tags))
		case v.tables["inputs"].Column("step") != nil && h.step != w.step:
			v.differ(r.RunID, "input differs", edge, fmt.Sprintf("input %s is at step %d in the target, %d in the source", edge, h.step, w.step))
		}
	}
	for edge := range held {
		if _, ok := want[edge]; !ok {
			v.extra(r.RunID, "input extra", edge, "the target has input "+edge+", which the source does not")
		}
	}
	v.checked["inputs"] += int64(len(want))
	return nil
}

// targetInputs reads the edges that name a run, with their datasets and tags.
func (v *verifier) targetInputs(ctx context.Context, runID string) (map[string]inputEdge, error) {
	step := "0"
	if v.tables["inputs"].Column("step") != nil {
		step = "i.step"
	}
	query := fmt.Sprintf(`SELECT i.input_uuid, i.source_type, i.source_id, i.destination_type, i.destination_id, %s, d.name, d.digest
		FROM inputs i LEFT JOIN datasets d ON i.source_type = 'DATASET' AND d.dataset_uuid = i.source_id
		WHERE i.destination_id = ? OR i.source_id = ?`, step)
	held := map[string]inputEdge{}
	byUUID := map[string]string{}
	err := live.EachRow(ctx, v.tx, query, []any{runID, runID}, func(scan func(...any) error) error {
		var uuid, st, sid, dt, did string
		var n int64
		var name, digest *string
		if err := scan(&uuid, &st, &sid, &dt, &did, &n, &name, &digest); err != nil {
			return err
		}
		source := sid
		if st == "DATASET" && name != nil && digest != nil {
			source = datasetIdentity(*name, *digest)
		}
		edge := edgeText(st, source, dt, did)
		held[edge] = inputEdge{step: n}
		byUUID[uuid] = edge
		return nil
	})
	if err != nil || len(byUUID) == 0 || v.tables["input_tags"] == nil {
		return held, err
	}
	ids := make([]any, 0, len(byUUID))
	for id := range byUUID {
		ids = append(ids, id)
	}
	tags := map[string][]sources.Tag{}
	query = "SELECT input_uuid, name, value FROM input_tags WHERE input_uuid IN (" + strings.TrimSuffix(strings.Repeat("?, ", len(ids)), ", ") + ")"
	err = live.EachRow(ctx, v.tx, query, ids, func(scan func(...any) error) error {
		var id, k, val string
		if err := scan(&id, &k, &val); err != nil {
			return err
		}
		tags[id] = append(tags[id], sources.Tag{Key: k, Value: val})
		return nil
	})
	for id, edge := range byUUID {
		e := held[edge]
		e.tags = tagText(tags[id])
		held[edge] = e
	}
	return held, err
}

// tagText is a set of tags as one comparable text.
func tagText(tags []sources.Tag) string {
	parts := make([]string, len(tags))
	for i, t := range tags {
		parts[i] = fmt.Sprintf("%q=%q", t.Key, t.Value)
	}
	sort.Strings(parts)
	return "{" + strings.Join(parts, ", ") + "}"
}
