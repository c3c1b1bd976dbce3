package artifacts

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"gocloud.dev/blob"
	"gocloud.dev/gcp"

	// The object stores a location may name, registered with blob's URL mux.
	"gocloud.dev/blob/azureblob"
	"gocloud.dev/blob/gcsblob"
	_ "gocloud.dev/blob/s3blob"
)

// Place is a location resolved: the store that holds it (named by bucketURL, "" for the
// local file system) and the key prefix of its folder in that store.
type Place struct {
	// Kind is "local", "s3", "gs" or "azure".
	Kind string
	// Bucket names the bucket or container ("" for local).
	Bucket string
	// Prefix is the folder's key in the store: for local, its absolute path with no
	// leading slash.
	Prefix string
	// azure is the account of a wasbs:// location.
	azure azureAccount
}

// String is the location as MLflow writes it for a folder of this kind.
func (p Place) String() string {
	switch p.Kind {
	case "local":
		return "file:///" + p.Prefix
	case "served":
		if p.Bucket != "" {
			return "mlflow-artifacts://" + p.Bucket + "/" + p.Prefix
		}
		return "mlflow-artifacts:/" + p.Prefix
	case "azure":
		if p.azure.name != "" {
			return "wasbs://" + p.Bucket + "@" + p.azure.name + "." + p.azure.domain + "/" + p.Prefix
		}
		return "azure://" + p.Bucket + "/" + p.Prefix
	default:
		return p.Kind + "://" + p.Bucket + "/" + p.Prefix
	}
}

// Join is the place of a folder below p.
func (p Place) Join(parts ...string) Place {
	for _, part := range parts {
		part = strings.Trim(part, "/")
		if part == "" {
			continue
		}
		if p.Prefix == "" {
			p.Prefix = part
		} else {
			p.Prefix += "/" + part
		}
	}
	return p
}

// Within tells whether q lies in p's folder (or is p), and the path of q below it.
func (p Place) Within(q Place) (string, bool) {
	if p.Kind != q.Kind || p.Bucket != q.Bucket || p.azure != q.azure {
		return "", false
	}
	if p.Prefix == "" {
		return q.Prefix, true
	}
	if q.Prefix == p.Prefix {
		return "", true
	}
	rest, ok := strings.CutPrefix(q.Prefix, p.Prefix+"/")
	return rest, ok
}

// Parse resolves a location as MLflow keeps it: a local path (absolute, relative to the
// working folder, or file://), s3://bucket/path, gs://bucket/path,
// wasbs://container@account.blob.core.windows.net/path (MLflow's Azure form) or
// azure://container/path. Other kinds are ErrUnsupported.
func Parse(location string) (Place, error) {
	if location == "" {
		return Place{}, fmt.Errorf("%w: an empty location", ErrUnsupported)
	}
	scheme, rest, hasScheme := strings.Cut(location, "://")
	if !hasScheme || len(scheme) == 1 { // a Windows drive letter is no scheme
		if rest, ok := strings.CutPrefix(location, "mlflow-artifacts:"); ok {
			return Place{Kind: "served", Prefix: cleanKey(rest)}, nil
		}
		if strings.HasPrefix(location, "file:") {
			return localPlace(strings.TrimPrefix(location, "file:"))
		}
		if strings.Contains(location, ":") && !filepath.IsAbs(location) && !strings.HasPrefix(location, ".") {
			return Place{}, fmt.Errorf("%w: %q", ErrUnsupported, location)
		}
		return localPlace(location)
	}
	switch strings.ToLower(scheme) {
	case "mlflow-artifacts":
		host, key, _ := strings.Cut(rest, "/")
		return Place{Kind: "served", Bucket: host, Prefix: cleanKey(key)}, nil
	case "file":
		u, err := url.Parse(location)
		if err != nil {
			return Place{}, fmt.Errorf("artifact location %q: %w", location, err)
		}
		if u.Host != "" && u.Host != "localhost" {
			return Place{}, fmt.Errorf("%w: %q names another host", ErrUnsupported, location)
		}
		return localPlace(u.Path)
	case "s3", "s3a", "gs":
		bucket, key, _ := strings.Cut(rest, "/")
		if bucket == "" {
			return Place{}, fmt.Errorf("artifact location %q names no bucket", location)
		}
		kind := "s3"
		if scheme == "gs" {
			kind = "gs"
		}
		return Place{Kind: kind, Bucket: bucket, Prefix: cleanKey(key)}, nil
	case "azure":
		container, key, _ := strings.Cut(rest, "/")
		if container == "" {
			return Place{}, fmt.Errorf("artifact location %q names no container", location)
		}
		return Place{Kind: "azure", Bucket: container, Prefix: cleanKey(key)}, nil
	case "wasbs", "wasb":
		hostPart, key, _ := strings.Cut(rest, "/")
		container, host, ok := strings.Cut(hostPart, "@")
		account, domain, ok2 := strings.Cut(host, ".blob.")
		if !ok || !ok2 || container == "" || account == "" {
			return Place{}, fmt.Errorf("artifact location %q is not wasbs://<container>@<account>.blob.core.windows.net/<path>", location)
		}
		return Place{Kind: "azure", Bucket: container, Prefix: cleanKey(key), azure: azureAccount{name: account, domain: "blob." + domain}}, nil
	}
	return Place{}, fmt.Errorf("%w: %q (mlflow-bulk reads and writes local folders, s3://, gs://, wasbs:// and azure:// locations)", ErrUnsupported, location)
}

func localPlace(p string) (Place, error) {
	abs, err := filepath.Abs(filepath.FromSlash(p))
	if err != nil {
		return Place{}, err
	}
	return Place{Kind: "local", Prefix: strings.TrimPrefix(filepath.ToSlash(abs), "/")}, nil
}

func cleanKey(k string) string { return strings.Trim(k, "/") }

// azureAccount is the account a wasbs:// location names (azure:// takes it from the
// environment).
type azureAccount struct {
	name, domain string
}

// Stores opens each store once and keeps it for the places that name it.
type Stores struct {
	mu     sync.Mutex
	stores map[string]Store
	// servers read mlflow-artifacts: locations, by the host they name ("" for the one
	// tracking server that is a source).
	servers map[string]Store
	// writableRoot is the one local folder that may be written: the destination.
	writableRoot string
}

// NewStores opens stores on demand; writableRoot, when not "", is the local folder a
// copy writes into (every other local store is read-only).
func NewStores(writableRoot string) *Stores {
	return &Stores{stores: map[string]Store{}, servers: map[string]Store{}, writableRoot: writableRoot}
}

// Serve reads mlflow-artifacts: locations through st, a tracking server's artifact API:
// those that name host, and those that name none.
func (s *Stores) Serve(host string, st Store) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.servers[host] = st
	if _, ok := s.servers[""]; !ok {
		s.servers[""] = st
	}
}

// Readable tells why p cannot be read, nil when it can be tried.
func (s *Stores) Readable(p Place) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p.Kind == "served" && s.servers[p.Bucket] == nil {
		return fmt.Errorf("%w: %s is served by an MLflow tracking server: give that server as the source to copy its files", ErrUnsupported, p)
	}
	return nil
}

// Of is the store holding p, and p's key prefix in it.
func (s *Stores) Of(ctx context.Context, p Place) (Store, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p.Kind == "local" {
		root := strings.TrimPrefix(filepath.ToSlash(s.writableRoot), "/")
		if s.writableRoot != "" {
			if rest, ok := (Place{Kind: "local", Prefix: root}).Within(p); ok {
				// The root is made by the first file written: a dry run makes nothing.
				st, err := s.open(ctx, "local-dest", func() (Store, error) { return newLocalStore(s.writableRoot, true), nil })
				return st, rest, err
			}
		}
		st, err := s.open(ctx, "local", func() (Store, error) { return newLocalStore("/", false), nil })
		return st, p.Prefix, err
	}
	if p.Kind == "served" {
		if st := s.servers[p.Bucket]; st != nil {
			return st, p.Prefix, nil
		}
		return nil, "", fmt.Errorf("%w: %s: no tracking server among the sources serves it", ErrUnsupported, p)
	}
	u, err := p.bucketURL()
	if err != nil {
		return nil, "", err
	}
	st, err := s.open(ctx, u, func() (Store, error) {
		b, err := openBucket(ctx, p, u)
		if err != nil {
			return nil, fmt.Errorf("opening %s://%s: %w", p.Kind, p.Bucket, err)
		}
		return &bucketStore{bucket: b}, nil
	})
	return st, p.Prefix, err
}

func (s *Stores) open(_ context.Context, key string, make func() (Store, error)) (Store, error) {
	if st, ok := s.stores[key]; ok {
		return st, nil
	}
	st, err := make()
	if err != nil {
		return nil, err
	}
	s.stores[key] = st
	return st, nil
}

// Close closes every store opened.
func (s *Stores) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var first error
	for k, st := range s.stores {
		if err := st.Close(); err != nil && first == nil {
			first = err
		}
		delete(s.stores, k)
	}
	return first
}

// bucketURL is the gocloud.dev URL of p's bucket, with what MLflow's own environment
// variables say about the endpoint: MLFLOW_S3_ENDPOINT_URL for an S3-compatible server
// (path-style addressing, as MLflow's client uses with it).
func (p Place) bucketURL() (string, error) {
	q := url.Values{}
	switch p.Kind {
	case "s3":
		if ep := os.Getenv("MLFLOW_S3_ENDPOINT_URL"); ep != "" {
			q.Set("endpoint", ep)
			q.Set("use_path_style", "true")
			if os.Getenv("AWS_REGION") == "" && os.Getenv("AWS_DEFAULT_REGION") == "" {
				q.Set("region", "us-east-1")
			}
		}
		if r := os.Getenv("AWS_DEFAULT_REGION"); r != "" && os.Getenv("AWS_REGION") == "" {
			q.Set("region", r)
		}
		return (&url.URL{Scheme: "s3", Host: p.Bucket, RawQuery: q.Encode()}).String(), nil
	case "gs":
		return (&url.URL{Scheme: "gs", Host: p.Bucket}).String(), nil
	case "azure":
		if p.azure.name != "" && os.Getenv("AZURE_STORAGE_CONNECTION_STRING") == "" {
			q.Set("storage_account", p.azure.name)
			q.Set("domain", p.azure.domain)
		}
		return (&url.URL{Scheme: "azblob", Host: p.Bucket, RawQuery: q.Encode()}).String(), nil
	}
	return "", fmt.Errorf("%w: %s", ErrUnsupported, p.Kind)
}

// openBucket opens p's bucket through its gocloud.dev URL, but for Google Cloud Storage
// with no emulator: its URL opener prints a warning on stdout when no credentials are
// found, which would spoil --json, so the credentials are looked up here and their
// absence is an error.
func openBucket(ctx context.Context, p Place, u string) (*blob.Bucket, error) {
	if conn := os.Getenv("AZURE_STORAGE_CONNECTION_STRING"); p.Kind == "azure" && conn != "" {
		// MLflow's own variable; its endpoint (an emulator's, a sovereign cloud's) is the
		// connection string's, whatever a URL would say.
		client, err := container.NewClientFromConnectionString(conn, p.Bucket, nil)
		if err != nil {
			return nil, fmt.Errorf("AZURE_STORAGE_CONNECTION_STRING: %w", err)
		}
		return azureblob.OpenBucket(ctx, client, nil)
	}
	if p.Kind != "gs" || os.Getenv("STORAGE_EMULATOR_HOST") != "" {
		return blob.OpenBucket(ctx, u)
	}
	creds, err := gcp.DefaultCredentials(ctx)
	if err != nil {
		return nil, fmt.Errorf("no Google Cloud credentials (GOOGLE_APPLICATION_CREDENTIALS, gcloud auth application-default login, or the instance's): %w", err)
	}
	client, err := gcp.NewHTTPClient(gcp.DefaultTransport(), gcp.CredentialsTokenSource(creds))
	if err != nil {
		return nil, err
	}
	return gcsblob.OpenBucket(ctx, client, p.Bucket, nil)
}
