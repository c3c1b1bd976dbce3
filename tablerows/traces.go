package tablerows

import (
	"github.com/mlflow-bulk/mlflow-bulk/importer/rules"
	"github.com/mlflow-bulk/mlflow-bulk/sources"
)

// TraceArtifactTag is the trace tag that holds where a trace's spans are.
const TraceArtifactTag = "mlflow.artifactLocation"

// MapTraceArtifactTag rewrites the location of a trace's spans by --artifact-root-map.
func MapTraceArtifactTag(maps []rules.ArtifactMapping, tr *sources.Trace) *sources.Trace {
	return MapTraceArtifact(tr, func(location string) (string, bool) { return rules.MapArtifact(maps, location) })
}

// MapTraceArtifact rewrites the location of a trace's spans with mapLocation; the trace
// given is not changed.
func MapTraceArtifact(tr *sources.Trace, mapLocation func(string) (string, bool)) *sources.Trace {
	out := *tr
	out.Tables = append([]sources.TableRows{}, tr.Tables...)
	for ti, t := range out.Tables {
		key, value := IndexOf(t.Columns, "key"), IndexOf(t.Columns, "value")
		if t.Table != "trace_tags" || key < 0 || value < 0 {
			continue
		}
		rows := make([][]any, len(t.Rows))
		for i, row := range t.Rows {
			rows[i] = row
			location, isText := row[value].(string)
			if row[key] != TraceArtifactTag || !isText {
				continue
			}
			if mapped, ok := mapLocation(location); ok {
				rows[i] = append([]any{}, row...)
				rows[i][value] = mapped
			}
		}
		out.Tables[ti].Rows = rows
	}
	return &out
}
