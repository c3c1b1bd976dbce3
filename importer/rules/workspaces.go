package rules

import (
	"fmt"
	"regexp"
	"strings"
)

// MLflow 3.10 added workspaces: one server and database for many teams, each team's
// experiments, registered models and other named resources scoped to a workspace, the
// names unique within it. The rules below are MLflow's own for workspace names and for
// where a workspace's artifacts live.

// DefaultWorkspace is the workspace every row of a database without workspaces is in.
const DefaultWorkspace = "default"

var workspaceName = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

// reservedWorkspaces are names MLflow's server routes use.
var reservedWorkspaces = map[string]bool{"workspaces": true, "api": true, "ajax-api": true, "static-files": true}

// CheckWorkspaceName applies MLflow's rules for a workspace name (those of a Kubernetes
// namespace): 2 to 63 lower-case letters, digits and inner hyphens, not a reserved word.
func CheckWorkspaceName(name string) error {
	switch {
	case len(name) < 2 || len(name) > 63:
		return fmt.Errorf("workspace name %q must be 2 to 63 characters", name)
	case !workspaceName.MatchString(name):
		return fmt.Errorf("workspace name %q must be lower-case letters, digits and hyphens, starting and ending with a letter or digit", name)
	case reservedWorkspaces[name]:
		return fmt.Errorf("workspace name %q is reserved by MLflow", name)
	}
	return nil
}

// CheckSourceWorkspace applies MLflow's rules for workspace names to a source's, which
// the import writes as it is where --workspace does not replace it: none ("") and the
// default one pass.
func CheckSourceWorkspace(name string) error {
	if name == "" || name == DefaultWorkspace {
		return nil
	}
	if err := CheckWorkspaceName(name); err != nil {
		return fmt.Errorf("the source's %w", err)
	}
	return nil
}

// CheckArtifactLocation refuses a location the server serves (mlflow-artifacts:) whose
// path climbs out of where it starts with "..": MLflow's server refuses such paths, and
// placed under a workspace it would name another workspace's files.
func CheckArtifactLocation(location string) error {
	rest, ok := strings.CutPrefix(location, proxiedScheme)
	if !ok {
		return nil
	}
	for _, segment := range strings.FieldsFunc(rest, func(r rune) bool { return r == '/' || r == '\\' }) {
		if segment == ".." {
			return fmt.Errorf("artifact location %q climbs out of the server's artifact root (..): MLflow serves no such location", location)
		}
	}
	return nil
}

// TargetWorkspace is the target workspace of a row a source holds in workspace source
// ("" for a source without workspaces): the one the import names (--workspace), else
// the source's own, else the default one; "" where the target has no workspaces. The
// import and verify both place rows by it.
func TargetWorkspace(targetHasWorkspaces bool, named, source string) string {
	switch {
	case !targetHasWorkspaces:
		return ""
	case named != "":
		return named
	case source == "":
		return DefaultWorkspace
	}
	return source
}

// proxiedScheme is the scheme of artifacts an MLflow server serves itself
// (--serve-artifacts).
const proxiedScheme = "mlflow-artifacts:"

// WorkspaceArtifact is where a workspace-enabled MLflow server serves an artifact
// location of an experiment (or a run's, a logged model's) in workspace ws: a location
// the server proxies (mlflow-artifacts:) must lie under workspaces/<ws>/ for any
// workspace but the default one, which MLflow checks on every artifact request; other
// locations (s3://, a path) are used as they are. It returns the location and whether
// it changed.
func WorkspaceArtifact(location, ws string) (string, bool) {
	rest, ok := strings.CutPrefix(location, proxiedScheme)
	if !ok || ws == "" || ws == DefaultWorkspace {
		return location, false
	}
	// mlflow-artifacts://host:port/path names a server; the path starts after it.
	host := ""
	if after, isHost := strings.CutPrefix(rest, "//"); isHost {
		h, p, _ := strings.Cut(after, "/")
		host, rest = "//"+h, p
	}
	path := strings.TrimPrefix(rest, "/")
	if other, ok := strings.CutPrefix(path, "workspaces/"); ok {
		// Already a workspace's (workspaces/<name>/…): that of another workspace moves
		// to this one. A path workspaces/<name> alone is not under a workspace, as the
		// server reads it, and is kept whole.
		if _, inside, found := strings.Cut(other, "/"); found {
			path = inside
		}
	}
	mapped := proxiedScheme + host + "/workspaces/" + ws + "/" + path
	return mapped, mapped != location
}
