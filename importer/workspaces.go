package importer

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/mlflow-bulk/mlflow-bulk/importer/rules"
	"github.com/mlflow-bulk/mlflow-bulk/remedy"
	"github.com/mlflow-bulk/mlflow-bulk/schema"
	"github.com/mlflow-bulk/mlflow-bulk/sources"
	"github.com/mlflow-bulk/mlflow-bulk/tablerows"
)

// Workspaces (MLflow 3.10 on) scope experiments and registered models, and the names
// MLflow keeps unique, to a team. An import keeps each source row's workspace, or puts
// everything into the one --workspace names; experiments and models merge by name
// within a workspace, never across. Into a target without workspaces, a source's
// workspaces can only be merged into its one namespace, which the user must ask for.

// workspaceState is what the import knows of the target's workspaces.
type workspaceState struct {
	// ready: workspaces the target holds a row of (checked or created).
	ready map[string]bool
	// firstFrom: for a target workspace and experiment name, the source workspace the
	// first experiment of that name came from (to report merges across workspaces).
	firstFrom mergeSources
	// of: the target workspace each imported experiment went to, where that is not the
	// default one.
	of map[expKey]string
	// moved counts, per target workspace, the artifact locations put under it.
	moved map[string]int64
}

// workspaceOf is the target workspace of an entity the source has in workspace source
// (rules.TargetWorkspace).
func (m *experimentMapper) workspaceOf(source string) string {
	return rules.TargetWorkspace(m.targetHasWorkspaces(), m.opts.Workspace, source)
}

// checkSourceWorkspace refuses a source's workspace name MLflow would not accept, where
// the import would write it (no --workspace replaces it, and the target has workspaces).
func (m *experimentMapper) checkSourceWorkspace(name string) error {
	if m.opts.Workspace != "" || !m.targetHasWorkspaces() {
		return nil
	}
	return rules.CheckSourceWorkspace(name)
}

// sourceWorkspace names a source's workspace for messages.
func sourceWorkspace(ws string) string {
	if ws == "" {
		return rules.DefaultWorkspace
	}
	return ws
}

// ensureWorkspace makes sure the target holds the row of workspace ws, creating it (with
// --workspace-description for the workspace --workspace names) where it is missing.
func (m *experimentMapper) ensureWorkspace(ctx context.Context, ws string) error {
	if ws == "" || m.workspaces.ready[ws] || m.targetTables["workspaces"] == nil {
		return nil
	}
	description, found, err := m.store.Workspace(ctx, ws)
	if err != nil {
		return err
	}
	want := m.opts.WorkspaceDescription
	switch {
	case !found:
		var value any
		switch {
		case ws == m.opts.Workspace && want != "":
			value = want
		case ws == rules.DefaultWorkspace:
			value = schema.DefaultWorkspaceDescription // as MLflow creates it
		}
		if err := m.store.CreateWorkspace(ctx, ws, value); err != nil {
			return err
		}
		m.report.Notices = append(m.report.Notices, fmt.Sprintf("workspace %q created", ws))
	case ws == m.opts.Workspace && want != "" && (description == nil || *description != want):
		m.report.Notices = append(m.report.Notices, fmt.Sprintf("workspace %q exists; its description was kept (%s is for a workspace the import creates)", ws, remedy.Mention(OptionWorkspaceDescription)))
	}
	if m.workspaces.ready == nil {
		m.workspaces.ready = map[string]bool{}
	}
	m.workspaces.ready[ws] = true
	return nil
}

// mergeScope is a target workspace's experiments, or its registered models.
type mergeScope struct{ kind, target string }

// mergeSources keeps, for every name of a scope, the source workspace its first entity
// came from: by the index of that workspace's name, since an import of many
// experiments holds one entry each and most come from one or two workspaces.
type mergeSources struct {
	labels  []string
	labelOf map[string]int32
	first   map[mergeScope]map[string]int32
}

// note records the source workspace of a name, and returns the first one that name
// came from, if one came before.
func (ms *mergeSources) note(scope mergeScope, name, from string) (string, bool) {
	label, ok := ms.labelOf[from]
	if !ok {
		if ms.labelOf == nil {
			ms.labelOf, ms.first = map[string]int32{}, map[mergeScope]map[string]int32{}
		}
		label = int32(len(ms.labels))
		ms.labels = append(ms.labels, from)
		ms.labelOf[from] = label
	}
	names := ms.first[scope]
	if names == nil {
		names = map[string]int32{}
		ms.first[scope] = names
	}
	if first, seen := names[name]; seen {
		return ms.labels[first], true
	}
	names[name] = label
	return "", false
}

// noteWorkspaceMerge reports a name that experiments (or registered models) of two
// source workspaces share and that one target workspace (--workspace, or a target
// without workspaces) now holds once: what they hold is merged into one.
func (m *experimentMapper) noteWorkspaceMerge(kind, target, name, sourceWS string) {
	from := sourceWorkspace(sourceWS)
	first, seen := m.workspaces.firstFrom.note(mergeScope{kind, target}, name, from)
	if !seen {
		return
	}
	if first != from {
		where := fmt.Sprintf("workspace %q", target)
		if target == "" {
			where = "the target, which has no workspaces"
		}
		m.report.Notices = append(m.report.Notices, fmt.Sprintf("%s %q of source workspaces %q and %q is one %s in %s: the two were merged into it", kind, name, first, from, kind, where))
	}
}

// workspaceLocation puts an artifact location where the target workspace's server
// serves it (rules.WorkspaceArtifact), counting what it moved for the report.
func (m *experimentMapper) workspaceLocation(ws, location string) string {
	mapped, moved := rules.WorkspaceArtifact(location, ws)
	if moved {
		if m.workspaces.moved == nil {
			m.workspaces.moved = map[string]int64{}
		}
		m.workspaces.moved[ws]++
	}
	return mapped
}

// experimentWorkspace is the target workspace of a source experiment's entities.
func (m *experimentMapper) experimentWorkspace(exp expKey) string { return m.workspaces.of[exp] }

// reportWorkspaceLocations says what workspaceLocation did, so that the user moves the
// artifact files the same way.
func (m *experimentMapper) reportWorkspaceLocations() {
	names := make([]string, 0, len(m.workspaces.moved))
	for ws := range m.workspaces.moved {
		names = append(names, ws)
	}
	sort.Strings(names)
	for _, ws := range names {
		m.report.Notices = append(m.report.Notices, fmt.Sprintf("%d artifact locations served by MLflow (mlflow-artifacts:/…) were put under mlflow-artifacts:/workspaces/%s/, where a workspace-enabled server serves workspace %q's artifacts: "+
			"move those files under the server's artifacts destination the same way (locations elsewhere, s3:// or a path, are kept as they are)", m.workspaces.moved[ws], ws, ws))
	}
}

// workspaceUnsupported tells, of what a source holds that the target cannot, the rows
// that --workspace merges into one workspace and so are not missing.
func (m *experimentMapper) workspaceUnsupported(u sources.Unsupported) bool {
	return m.opts.Workspace != "" && (u.Column == "workspace" || u.Table == "workspaces")
}

// workspaceRows rewrites the workspace column of rows copied as they are (jobs, gateway
// endpoints, …) to --workspace; the source's workspaces rows themselves are not copied
// then, as the one workspace was created by the import.
func (m *experimentMapper) workspaceRows(table string, columns []string, rows [][]any) ([][]any, bool) {
	if m.opts.Workspace == "" {
		return rows, true
	}
	placed, copied := tablerows.PlaceInWorkspace(table, columns, rows, m.opts.Workspace)
	if !copied && !m.notedOnce["workspaces rows"] {
		m.notedOnce["workspaces rows"] = true
		m.report.Notices = append(m.report.Notices, fmt.Sprintf("the source's workspaces were merged into workspace %q (%s); their own rows were not copied", m.opts.Workspace, remedy.Mention(OptionWorkspace)))
	}
	return placed, copied
}

// checkWorkspaceOptions refuses --workspace names MLflow would not accept.
func checkWorkspaceOptions(o Options) error {
	if o.Workspace == "" {
		return nil
	}
	if err := rules.CheckWorkspaceName(o.Workspace); err != nil {
		return remedy.Value(OptionWorkspace, o.Workspace, err)
	}
	return nil
}

// bareWorkspace reports whether a target's row of the workspaces table is one an import
// created: a name and nothing else.
func bareWorkspace(table string, names []string, held []any) bool {
	if table != "workspaces" {
		return false
	}
	for i, c := range names {
		if c != "name" && held[i] != nil {
			return false
		}
	}
	return true
}

// fillWorkspace gives a bare workspace row the source's values.
func (m *experimentMapper) fillWorkspace(ctx context.Context, names []string, row []any) error {
	var set []string
	var args []any
	var name any
	for i, c := range names {
		if c == "name" {
			name = row[i]
			continue
		}
		set = append(set, m.dialect.Quote(c)+" = ?")
		args = append(args, row[i])
	}
	if len(set) == 0 {
		return nil
	}
	if _, err := m.tx.Exec(ctx, "UPDATE workspaces SET "+strings.Join(set, ", ")+" WHERE name = ?", append(args, name)...); err != nil {
		return fmt.Errorf("fill workspace %v: %w", name, err)
	}
	return nil
}
