package testenv

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
)

// The variables scripts/test-servers sets for its object stores.
const (
	S3Env    = "MLFLOW_BULK_TEST_S3"
	GCSEnv   = "MLFLOW_BULK_TEST_GCS"
	AzureEnv = "MLFLOW_BULK_TEST_AZURE"
)

// ObjectStores are the kinds of object store the tests copy artifacts into.
var ObjectStores = []string{"s3", "gs", "azure"}

// Bucket makes a new, empty bucket (or container) on the test server of kind ("s3",
// "gs" or "azure"), points the test's environment at that server as MLflow's own
// variables do (MLFLOW_S3_ENDPOINT_URL, STORAGE_EMULATOR_HOST,
// AZURE_STORAGE_CONNECTION_STRING), and returns a location in it.
func Bucket(t *testing.T, kind string) string {
	t.Helper()
	name := "mb-" + randomHex(6)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	switch kind {
	case "s3":
		endpoint := serverEnv(t, S3Env)
		t.Setenv("MLFLOW_S3_ENDPOINT_URL", endpoint)
		t.Setenv("AWS_ACCESS_KEY_ID", "mlflow-bulk-test")
		t.Setenv("AWS_SECRET_ACCESS_KEY", "mlflow-bulk-test")
		t.Setenv("AWS_REGION", "us-east-1")
		httpCall(ctx, t, http.MethodPut, endpoint+"/"+name, nil)
		return "s3://" + name + "/mlflow"
	case "gs":
		host := serverEnv(t, GCSEnv)
		t.Setenv("STORAGE_EMULATOR_HOST", host)
		httpCall(ctx, t, http.MethodPost, "http://"+host+"/storage/v1/b?project=mlflow-bulk-test", []byte(`{"name":"`+name+`"}`))
		return "gs://" + name + "/mlflow"
	case "azure":
		conn := serverEnv(t, AzureEnv)
		t.Setenv("AZURE_STORAGE_CONNECTION_STRING", conn)
		client, err := azblob.NewClientFromConnectionString(conn, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := client.CreateContainer(ctx, name, nil); err != nil {
			t.Fatalf("create container %s on Azurite: %v", name, err)
		}
		return "azure://" + name + "/mlflow"
	}
	t.Fatalf("no test object store of kind %q", kind)
	return ""
}

func serverEnv(t *testing.T, name string) string {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		unavailable(t, name+" is not set, so there is no object store to test against; 'make test' (scripts/test-servers run) starts one")
	}
	return v
}

func httpCall(ctx context.Context, t *testing.T, method, url string, body []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("%s %s: %s", method, url, strings.TrimSpace(fmt.Sprint(resp.Status)))
	}
}
