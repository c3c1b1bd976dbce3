package artifacts

import (
	"fmt"
	"strconv"
	"strings"
)

// Layout is where a copy puts files and the locations it writes for them, laid out as
// MLflow lays out a new experiment's files: <root>/<experiment id>/<run id>/artifacts,
// <root>/<experiment id>/models/<model id>/artifacts and
// <root>/<experiment id>/traces/<trace id>/artifacts.
type Layout struct {
	// Root is where the files go.
	Root Place
	// Served is the location written for Root: Root itself, or the prefix under which a
	// tracking server serves it (mlflow-artifacts:/ when Root is the server's
	// --artifacts-destination).
	Served string
}

// NewLayout is the layout of a copy into dest, written as servedAs ("" for dest itself).
func NewLayout(dest, servedAs string) (Layout, error) {
	root, err := Parse(dest)
	if err != nil {
		return Layout{}, fmt.Errorf("artifact destination %q: %w", dest, err)
	}
	if root.Kind == "served" {
		return Layout{}, fmt.Errorf("%w: files are copied where a tracking server keeps them (its artifacts destination), and mlflow-artifacts:/ is then the prefix the copies' locations are written with", ErrUnsupported)
	}
	served := strings.TrimSuffix(root.String(), "/")
	if servedAs != "" {
		if !strings.Contains(servedAs, ":") {
			return Layout{}, fmt.Errorf("artifact location prefix %q is not a URI (for a tracking server's artifacts, mlflow-artifacts:/)", servedAs)
		}
		served = strings.TrimSuffix(servedAs, "/")
	}
	return Layout{Root: root, Served: served}, nil
}

// ExperimentLocation is the artifact location of a new experiment with this id.
func (l Layout) ExperimentLocation(id int64) string {
	return l.Served + "/" + strconv.FormatInt(id, 10)
}

// Below is a location under a stored location (an experiment's): parts joined.
func Below(location string, parts ...string) string {
	location = strings.TrimSuffix(location, "/")
	for _, p := range parts {
		location += "/" + strings.Trim(p, "/")
	}
	return location
}

// Physical is where the files of a location the copy wrote live; ok is false for a
// location outside the layout.
func (l Layout) Physical(location string) (Place, bool) {
	rest, ok := strings.CutPrefix(location, l.Served)
	if !ok || rest != "" && !strings.HasPrefix(rest, "/") {
		return Place{}, false
	}
	rest = strings.Trim(rest, "/")
	for _, seg := range strings.Split(rest, "/") {
		if seg == ".." || seg == "." {
			return Place{}, false
		}
	}
	return l.Root.Join(rest), true
}

// Relocate is a location that points into an entity's copied files (a model version's
// source inside its run's artifacts: <anything>/<run id>/artifacts/model) moved to the
// copy: marker is the entity's own tail ("/<run id>/artifacts", or
// "/models/<model id>/artifacts") and copied the location the copy wrote for the entity.
// ok is false for a location that does not point there.
func Relocate(location, marker, copied string) (string, bool) {
	i := strings.Index(location, marker)
	if i < 0 || marker == "" || copied == "" {
		return location, false
	}
	rest := location[i+len(marker):]
	if rest != "" && !strings.HasPrefix(rest, "/") {
		return location, false
	}
	return strings.TrimSuffix(copied, "/") + rest, true
}

// RunMarker and ModelMarker are the tails Relocate finds a run's or a logged model's
// files by.
func RunMarker(runID string) string     { return "/" + runID + "/artifacts" }
func ModelMarker(modelID string) string { return "/models/" + modelID + "/artifacts" }

// ModelIDIn is the logged model a location names in MLflow's layout
// (…/models/<model id>/artifacts…), "" for none.
func ModelIDIn(location string) string {
	_, rest, ok := strings.Cut(location, "/models/")
	if !ok {
		return ""
	}
	id, tail, ok := strings.Cut(rest, "/")
	if !ok || !strings.HasPrefix(tail, "artifacts") || !strings.HasPrefix(id, "m-") {
		return ""
	}
	return id
}

// Stored looks up the location a target holds for a run (model false) or a logged
// model (true): "" when it holds none, or none the copy wrote.
type Stored func(model bool, id string) (string, error)

// RelocateVersion moves a model version's source and storage location to the copies
// of the files they point into: a source inside its run's files (runID), a location in
// a logged model's (models: the target has logged models). Others stay as they are.
func RelocateVersion(source, storage, runID *string, models bool, stored Stored) (*string, *string, error) {
	move := func(p *string, model bool, id, marker string) (*string, error) {
		if p == nil || id == "" {
			return p, nil
		}
		copied, err := stored(model, id)
		if err != nil || copied == "" {
			return p, err
		}
		if moved, ok := Relocate(*p, marker, copied); ok {
			return &moved, nil
		}
		return p, nil
	}
	var err error
	if runID != nil {
		if source, err = move(source, false, *runID, RunMarker(*runID)); err != nil {
			return source, storage, err
		}
	}
	if !models {
		return source, storage, nil
	}
	for _, p := range []**string{&source, &storage} {
		if *p == nil {
			continue
		}
		id := ModelIDIn(**p)
		if *p, err = move(*p, true, id, ModelMarker(id)); err != nil {
			return source, storage, err
		}
	}
	return source, storage, nil
}
