package trackingserver_test

import (
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/mlflow-bulk/mlflow-bulk/importer"
	"github.com/mlflow-bulk/mlflow-bulk/internal/importtest"
	"github.com/mlflow-bulk/mlflow-bulk/internal/testenv"
	"github.com/mlflow-bulk/mlflow-bulk/sources/trackingserver"
)

// workspacePath is where Azure ML serves a workspace's MLflow API.
const workspacePath = "/mlflow/v1.0/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws"

// azureAD stands in for Azure AD: the tenant's OpenID metadata, and a token endpoint that
// issues token to the service principal app/secret for Azure Resource Manager's scope.
func azureAD(t *testing.T, secret, token string) *httptest.Server {
	aad := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/.well-known/openid-configuration"):
			base := "https://" + r.Host + "/tenant"
			fmt.Fprintf(w, `{"token_endpoint": "%s/oauth2/v2.0/token", "issuer": "%s/v2.0", "authorization_endpoint": "%s/oauth2/v2.0/authorize"}`, base, base, base)
		case strings.HasSuffix(r.URL.Path, "/oauth2/v2.0/token"):
			if err := r.ParseForm(); err != nil || r.FormValue("client_id") != "app" || r.FormValue("client_secret") != secret ||
				!strings.Contains(r.FormValue("scope"), "https://management.azure.com/.default") {
				http.Error(w, `{"error": "invalid_client", "error_description": "wrong client or scope"}`, http.StatusUnauthorized)
				return
			}
			fmt.Fprintf(w, `{"token_type": "Bearer", "expires_in": 3600, "access_token": %q}`, token)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(aad.Close)
	return aad
}

// TestAzureMLToken: an azureml:// tracking URI is read over https at the workspace's
// path, every request with an Azure AD token for Azure Resource Manager from the Azure
// SDK's credentials; the import ends equal to a direct one, and a credential Azure AD
// refuses stops it without showing the secret.
func TestAzureMLToken(t *testing.T) {
	t.Parallel() // each waits on its own MLflow server starting
	const issued = "aad-token-for-resource-manager"
	server, src := servedSample(t, "khangtt-zoomcamp-datasets-mlflow2/mlruns")
	u, err := url.Parse(server)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(u)
	gateway := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rest, ok := strings.CutPrefix(r.URL.Path, workspacePath)
		switch {
		case r.Header.Get("Authorization") != "Bearer "+issued:
			http.Error(w, `{"error_code": "UNAUTHENTICATED", "message": "no Azure AD token"}`, http.StatusUnauthorized)
		case !ok:
			http.NotFound(w, r)
		default:
			r.URL.Path = rest
			proxy.ServeHTTP(w, r)
		}
	}))
	t.Cleanup(gateway.Close)
	cert := filepath.Join(t.TempDir(), "gateway.pem")
	if err := os.WriteFile(cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: gateway.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	location := "azureml://" + strings.TrimPrefix(gateway.URL, "https://") + workspacePath
	getenv := env(map[string]string{"MLFLOW_TRACKING_SERVER_CERT_PATH": cert})
	credential := func(secret string) azcore.TokenCredential {
		aad := azureAD(t, "the-app-secret", issued)
		c, err := azidentity.NewClientSecretCredential("tenant", "app", secret, &azidentity.ClientSecretCredentialOptions{
			ClientOptions:            azcore.ClientOptions{Cloud: cloud.Configuration{ActiveDirectoryAuthorityHost: aad.URL + "/"}, Transport: aad.Client()},
			DisableInstanceDiscovery: true,
		})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	uri, _, err := importThrough(t, location, trackingserver.Options{Getenv: getenv, AzureCredential: credential("the-app-secret")})
	if err != nil {
		t.Fatalf("through Azure ML's gateway: %v", err)
	}
	direct := testenv.SQLite(t)
	if _, err := importtest.Import(t, direct, importer.Options{}, src); err != nil {
		t.Fatal(err)
	}
	compareTargets(t, direct, uri)

	_, _, err = importThrough(t, location, trackingserver.Options{Getenv: getenv, AzureCredential: credential("a-wrong-app-secret")})
	if err == nil || !strings.Contains(err.Error(), "Azure AD token") || strings.Contains(err.Error(), "a-wrong-app-secret") {
		t.Errorf("a secret Azure AD refuses: %v", err)
	}
}
