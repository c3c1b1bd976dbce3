package trackingserver

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

// Azure Machine Learning's MLflow: its tracking URI is
// azureml://REGION.api.azureml.ms/mlflow/v1.0/subscriptions/…/workspaces/NAME, served
// at the same address over https, every request carrying an Azure AD token for Azure
// Resource Manager, as Azure's own MLflow plugin asks for it. The token comes from the
// Azure SDK's own credential chain (a service principal's environment variables,
// workload identity, the machine's managed identity, the Azure CLI's login), or from
// MLFLOW_TRACKING_TOKEN where that is set.

// azureMLScope is the audience of the tokens Azure ML's MLflow takes.
const azureMLScope = "https://management.azure.com/.default"

// isAzureML reports whether location is an Azure ML tracking URI.
func isAzureML(location string) bool {
	return strings.HasPrefix(strings.ToLower(location), "azureml://")
}

// connectAzureML is the connection to an Azure ML workspace's MLflow: https in place of
// azureml, a bearer token on every request.
func connectAzureML(location string, getenv func(string) string, cred azcore.TokenCredential) (*connection, error) {
	base, err := url.Parse("https://" + location[len("azureml://"):])
	if err != nil || base.Host == "" || base.User != nil {
		return nil, fmt.Errorf("%s: not an Azure ML tracking URI such as azureml://REGION.api.azureml.ms/mlflow/v1.0/subscriptions/…/workspaces/NAME", redact(location))
	}
	base.RawQuery, base.Fragment = "", ""
	c := &connection{base: base}
	if c.tls, err = tlsConfig(getenv); err != nil {
		return nil, err
	}
	if token := getenv("MLFLOW_TRACKING_TOKEN"); token != "" {
		c.auth = bearer(token)
		return c, nil
	}
	if cred == nil {
		if cred, err = azidentity.NewDefaultAzureCredential(nil); err != nil {
			return nil, fmt.Errorf("%w: Azure credentials: %w", ErrCredentials, err)
		}
	}
	c.auth = azureToken(cred)
	return c, nil
}

// azureToken sets an Azure AD token on each request; the credential keeps it until it
// is about to expire.
func azureToken(cred azcore.TokenCredential) authenticator {
	return func(r *http.Request, _ []byte) error {
		tok, err := cred.GetToken(r.Context(), policy.TokenRequestOptions{Scopes: []string{azureMLScope}})
		if err != nil {
			return fmt.Errorf("%w: an Azure AD token for Azure ML (az login, a managed identity, or AZURE_CLIENT_ID, AZURE_TENANT_ID and AZURE_CLIENT_SECRET): %w", ErrCredentials, err)
		}
		setBearer(r, tok.Token)
		return nil
	}
}
