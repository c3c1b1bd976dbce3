package trackingserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"strings"

	"github.com/mlflow-bulk/mlflow-bulk/artifacts"
)

// ArtifactStore reads the files the server serves under mlflow-artifacts:/ (its
// --artifacts-destination) through its artifact API, with the source's credentials,
// so that an import copying artifacts takes them along with the runs. host is the
// server's host[:port], for locations that name it (mlflow-artifacts://host/…).
func (s *server) ArtifactStore() (host string, st artifacts.Store) {
	return s.client.base.Host, &servedArtifacts{c: s.client}
}

// servedArtifacts is the server's artifact API as a read-only artifacts.Store.
type servedArtifacts struct {
	c *client
}

// artifactsAPI is where MLflow's server serves its artifacts destination.
const artifactsAPI = "/api/2.0/mlflow-artifacts/artifacts"

// artifactListing is the answer of a listing: names in the folder listed.
type artifactListing struct {
	Files []struct {
		Path     string     `json:"path"`
		IsDir    bool       `json:"is_dir"`
		FileSize int64Value `json:"file_size"`
	} `json:"files"`
}

func (a *servedArtifacts) List(ctx context.Context, prefix string, fn func(artifacts.Object) error) error {
	folders := []string{prefix}
	for len(folders) > 0 {
		dir := folders[len(folders)-1]
		folders = folders[:len(folders)-1]
		var listing artifactListing
		if err := a.c.get(ctx, artifactsAPI, url.Values{"path": {dir}}, &listing); err != nil {
			return err
		}
		for _, f := range listing.Files {
			name := path.Base(f.Path) // the server answers names within the folder
			if name == "." || name == ".." || name == "/" || name == "" {
				return fmt.Errorf("%s?path=%s: the server listed %q, not a name", artifactsAPI, dir, f.Path)
			}
			key := strings.TrimPrefix(dir+"/"+name, "/")
			if f.IsDir {
				folders = append(folders, key)
				continue
			}
			if err := fn(artifacts.Object{Key: key, Size: int64(f.FileSize)}); err != nil {
				return err
			}
		}
	}
	return nil
}

func (a *servedArtifacts) Stat(context.Context, string) (artifacts.Object, bool, error) {
	return artifacts.Object{}, false, errReadOnly
}

// Open streams one file; a refused connection or a server error before the file starts
// is retried as every request is.
func (a *servedArtifacts) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	u := *a.c.base
	u.Path = strings.TrimSuffix(u.Path, "/") + artifactsAPI + "/" + key
	wait := firstBackoff
	for attempt := 1; ; attempt++ {
		body, err := a.openOnce(ctx, u.String(), key)
		if err == nil || !retryable(err) || attempt == maxAttempts || ctx.Err() != nil {
			return body, err
		}
		if err := a.c.sleep(ctx, wait); err != nil {
			return nil, err
		}
		wait = min(2*wait, maxBackoff)
	}
}

func (a *servedArtifacts) openOnce(ctx context.Context, u, key string) (io.ReadCloser, error) {
	endpoint := "GET " + artifactsAPI + "/" + key
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", "mlflow-bulk")
	if a.c.workspace != "" {
		req.Header.Set("X-MLFLOW-WORKSPACE", a.c.workspace)
	}
	if a.c.auth != nil {
		if err := a.c.auth(req, nil); err != nil {
			return nil, fmt.Errorf("%s: %w", endpoint, err)
		}
	}
	resp, err := a.c.http.Do(req)
	if err != nil {
		return nil, &transportError{endpoint: endpoint, err: err}
	}
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		_ = resp.Body.Close()
		return nil, &statusError{endpoint: endpoint, status: resp.StatusCode, message: strings.TrimSpace(string(msg))}
	}
	return resp.Body, nil
}

func (a *servedArtifacts) Create(context.Context, string) (artifacts.Upload, error) {
	return nil, errReadOnly
}

func (a *servedArtifacts) Close() error { return nil }

var errReadOnly = errors.New("a tracking server's artifacts are a source: they are never written")
