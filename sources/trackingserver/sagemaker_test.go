package trackingserver_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/mlflow-bulk/mlflow-bulk/importer"
	"github.com/mlflow-bulk/mlflow-bulk/internal/importtest"
	"github.com/mlflow-bulk/mlflow-bulk/internal/testenv"
	"github.com/mlflow-bulk/mlflow-bulk/sources/trackingserver"
)

const (
	testARN    = "arn:aws:sagemaker:eu-west-1:123456789012:mlflow-tracking-server/team"
	testKeyID  = "AKIAMLFLOWBULKTEST01"
	testSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYMLFLOWBULK"
)

var authorization = regexp.MustCompile(`^AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$`)

// sigV4Gateway stands in front of MLflow's server as SageMaker's does: it checks each
// request's AWS signature (recomputed with the known key over the headers it says it
// signed), the body's hash and the tracking server's ARN, then forwards it.
func sigV4Gateway(t *testing.T, server string) string {
	t.Helper()
	u, err := url.Parse(server)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(u)
	creds := aws.Credentials{AccessKeyID: testKeyID, SecretAccessKey: testSecret}
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		if why := checkSignature(r, body, creds); why != "" {
			http.Error(w, `{"error_code": "PERMISSION_DENIED", "message": "`+why+`"}`, http.StatusForbidden)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	return front.URL
}

func checkSignature(r *http.Request, body []byte, creds aws.Credentials) string {
	m := authorization.FindStringSubmatch(r.Header.Get("Authorization"))
	switch {
	case m == nil:
		return "no AWS signature"
	case m[1] != creds.AccessKeyID || m[3] != "eu-west-1" || m[4] != "sagemaker-mlflow":
		return "signed for another key, region or service"
	case r.Header.Get("x-mlflow-sm-tracking-server-arn") != testARN:
		return "no tracking server ARN"
	}
	sum := sha256.Sum256(body)
	hash := hex.EncodeToString(sum[:])
	if r.Header.Get("X-Amz-Content-Sha256") != hash {
		return "the body's hash differs"
	}
	at, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
	if err != nil {
		return "no X-Amz-Date"
	}
	again, err := http.NewRequest(r.Method, "http://"+r.Host+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		return err.Error()
	}
	for _, h := range strings.Split(m[5], ";") {
		if h != "host" {
			again.Header[http.CanonicalHeaderKey(h)] = r.Header.Values(h)
		}
	}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, again, hash, "sagemaker-mlflow", "eu-west-1", at); err != nil {
		return err.Error()
	}
	if want := authorization.FindStringSubmatch(again.Header.Get("Authorization")); want == nil || want[6] != m[6] {
		return "the signature does not match"
	}
	return ""
}

// TestSageMakerSigV4: a SageMaker tracking server's ARN is read through its endpoint with
// every request signed by AWS's rules, credentials from the SDK's own chain; the import
// ends equal to a direct one, and a wrong secret is refused without being shown.
func TestSageMakerSigV4(t *testing.T) {
	server, src := servedSample(t, "khangtt-zoomcamp-datasets-mlflow2/mlruns")
	gateway := sigV4Gateway(t, server)
	none := filepath.Join(t.TempDir(), "none")
	for k, v := range map[string]string{"AWS_ACCESS_KEY_ID": testKeyID, "AWS_SECRET_ACCESS_KEY": testSecret, "AWS_SESSION_TOKEN": "",
		"AWS_PROFILE": "", "AWS_CONFIG_FILE": none, "AWS_SHARED_CREDENTIALS_FILE": none, "AWS_EC2_METADATA_DISABLED": "true"} {
		t.Setenv(k, v)
	}
	getenv := env(map[string]string{"SAGEMAKER_MLFLOW_CUSTOM_ENDPOINT": gateway})
	uri, _, err := importThrough(t, testARN, trackingserver.Options{Getenv: getenv})
	if err != nil {
		t.Fatalf("through the SigV4 gateway: %v", err)
	}
	direct := testenv.SQLite(t)
	if _, err := importtest.Import(t, direct, importer.Options{}, src); err != nil {
		t.Fatal(err)
	}
	compareTargets(t, direct, uri)

	if _, _, err := importThrough(t, gateway, trackingserver.Options{}); err == nil || !strings.Contains(err.Error(), "no AWS signature") {
		t.Errorf("unsigned requests through the gateway: %v", err)
	}
	t.Setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret-key-at-all")
	_, _, err = importThrough(t, testARN, trackingserver.Options{Getenv: getenv})
	if err == nil || !strings.Contains(err.Error(), "403") || strings.Contains(err.Error(), "not-the-secret") || strings.Contains(err.Error(), testSecret) {
		t.Errorf("a wrong secret: %v", err)
	}
	if _, _, err := importThrough(t, testARN+"#not-a-role", trackingserver.Options{Getenv: getenv}); err == nil || !strings.Contains(err.Error(), "not the ARN of an IAM role") {
		t.Errorf("a role after '#' that is not one: %v", err)
	}
}

// TestSageMakerAssumesRole: a role after '#' in the ARN is assumed through STS with the
// SDK chain's credentials, and the requests are signed with the role's: the gateway
// takes only those, STS hands them only to a request signed with the chain's.
func TestSageMakerAssumesRole(t *testing.T) {
	const role = "arn:aws:iam::123456789012:role/mlflow-reader"
	server, _ := servedSample(t, "khangtt-zoomcamp-datasets-mlflow2/mlruns")
	gateway := sigV4Gateway(t, server)
	source := aws.Credentials{AccessKeyID: "AKIAMLFLOWBULKSOURCE", SecretAccessKey: "source-secret-of-the-default-chain-000"}
	var assumed atomic.Int32
	sts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		form, _ := url.ParseQuery(string(body))
		m := authorization.FindStringSubmatch(r.Header.Get("Authorization"))
		if m == nil || m[1] != source.AccessKeyID || m[4] != "sts" || form.Get("Action") != "AssumeRole" || form.Get("RoleArn") != role {
			http.Error(w, "<ErrorResponse><Error><Code>AccessDenied</Code><Message>wrong caller or role</Message></Error></ErrorResponse>", http.StatusForbidden)
			return
		}
		assumed.Add(1)
		w.Header().Set("Content-Type", "text/xml")
		_, _ = io.WriteString(w, `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><Credentials>`+
			`<AccessKeyId>`+testKeyID+`</AccessKeyId><SecretAccessKey>`+testSecret+`</SecretAccessKey><SessionToken>session-of-the-role</SessionToken>`+
			`<Expiration>2099-01-01T00:00:00Z</Expiration></Credentials><AssumedRoleUser><Arn>arn:aws:sts::123456789012:assumed-role/mlflow-reader/mlflow-bulk</Arn>`+
			`<AssumedRoleId>AROAMLFLOWBULK:mlflow-bulk</AssumedRoleId></AssumedRoleUser></AssumeRoleResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></AssumeRoleResponse>`)
	}))
	t.Cleanup(sts.Close)
	none := filepath.Join(t.TempDir(), "none")
	for k, v := range map[string]string{"AWS_ACCESS_KEY_ID": source.AccessKeyID, "AWS_SECRET_ACCESS_KEY": source.SecretAccessKey, "AWS_SESSION_TOKEN": "",
		"AWS_PROFILE": "", "AWS_CONFIG_FILE": none, "AWS_SHARED_CREDENTIALS_FILE": none, "AWS_EC2_METADATA_DISABLED": "true", "AWS_ENDPOINT_URL_STS": sts.URL} {
		t.Setenv(k, v)
	}
	getenv := env(map[string]string{"SAGEMAKER_MLFLOW_CUSTOM_ENDPOINT": gateway})
	if _, _, err := importThrough(t, testARN+"#"+role, trackingserver.Options{Getenv: getenv}); err != nil {
		t.Fatalf("with the role assumed: %v", err)
	}
	if assumed.Load() == 0 {
		t.Error("STS was never asked for the role")
	}
	// Without the role the chain's own key signs, which the gateway refuses.
	if _, _, err := importThrough(t, testARN, trackingserver.Options{Getenv: getenv}); err == nil || !strings.Contains(err.Error(), "403") {
		t.Errorf("without the role: %v", err)
	}
}
