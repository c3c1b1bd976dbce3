package rules

import (
	"strings"
	"testing"
)

// TestArtifactLocationsStayInTheirRoot: a served location whose path climbs with ".." is
// refused; others (and ".." in a key of another store) are not MLflow-served paths.
func TestArtifactLocationsStayInTheirRoot(t *testing.T) {
	for _, bad := range []string{"mlflow-artifacts:/../../workspaces/team-c/1", "mlflow-artifacts:/workspaces/../evil/0", "mlflow-artifacts://host:5000/1/..", `mlflow-artifacts:/1\..\..\x`} {
		if err := CheckArtifactLocation(bad); err == nil || !strings.Contains(err.Error(), "climbs out") {
			t.Errorf("%s: %v", bad, err)
		}
	}
	for _, good := range []string{"mlflow-artifacts:/1/abc/artifacts", "mlflow-artifacts:/workspaces/team-a/1", "s3://b/../x", "/tmp/mlruns/1", "mlflow-artifacts:/1/a..b"} {
		if err := CheckArtifactLocation(good); err != nil {
			t.Errorf("%s: %v", good, err)
		}
	}
}

// TestSourceWorkspaceNames: a source's workspace follows MLflow's rules for names, as
// --workspace does; none and the default one pass.
func TestSourceWorkspaceNames(t *testing.T) {
	for _, bad := range []string{"../evil", "Team_A", "api", "x"} {
		if err := CheckSourceWorkspace(bad); err == nil {
			t.Errorf("%q was taken", bad)
		}
	}
	for _, good := range []string{"", "default", "team-a"} {
		if err := CheckSourceWorkspace(good); err != nil {
			t.Errorf("%q: %v", good, err)
		}
	}
}

// TestWorkspaceArtifactKeepsPathsOutsideWorkspaces: a location under another workspace
// moves into this one; a path named workspaces/<name> without anything under it is not a
// workspace's and is kept whole under this one.
func TestWorkspaceArtifactKeepsPathsOutsideWorkspaces(t *testing.T) {
	for location, want := range map[string]string{
		"mlflow-artifacts:/workspaces/proj-one":     "mlflow-artifacts:/workspaces/team-a/workspaces/proj-one",
		"mlflow-artifacts:/workspaces/team-b/7/abc": "mlflow-artifacts:/workspaces/team-a/7/abc",
		"mlflow-artifacts:/7":                       "mlflow-artifacts:/workspaces/team-a/7",
		"s3://bucket/7":                             "s3://bucket/7",
	} {
		if got, _ := WorkspaceArtifact(location, "team-a"); got != want {
			t.Errorf("%s: %s, want %s", location, got, want)
		}
	}
}
