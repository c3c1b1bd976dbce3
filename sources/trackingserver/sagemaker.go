package trackingserver

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// SageMaker's managed MLflow: its tracking URI is the tracking server's ARN
// (arn:aws:sagemaker:REGION:ACCOUNT:mlflow-tracking-server/NAME), served at the region's
// experiments endpoint, every request signed with AWS Signature Version 4 for the service
// sagemaker-mlflow and naming the server in a header, as AWS's own MLflow plugin does.
// Credentials come from the AWS SDK's own chain (environment, shared config and
// credentials files and their profiles, SSO, the instance's role).

const (
	sageMakerService   = "sagemaker-mlflow"
	sageMakerARNHeader = "x-mlflow-sm-tracking-server-arn"
)

// iamRole is the ARN of an IAM role, in any partition.
var iamRole = regexp.MustCompile(`^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$`)

// isSageMaker reports whether location is the ARN of a SageMaker MLflow tracking server.
func isSageMaker(location string) bool {
	return strings.HasPrefix(location, "arn:aws") && strings.Contains(location, ":sagemaker:") && strings.Contains(location, ":mlflow-tracking-server/")
}

// connectSageMaker is the connection to a SageMaker tracking server: its endpoint
// (SAGEMAKER_MLFLOW_CUSTOM_ENDPOINT when set, as AWS's plugin reads it) and signed requests.
func connectSageMaker(ctx context.Context, arn string, getenv func(string) string) (*connection, error) {
	// A role to assume may follow the ARN after '#', as AWS's plugin reads it: the SDK's
	// chain gives the credentials that assume it.
	arn, role, hasRole := strings.Cut(arn, "#")
	if hasRole && !iamRole.MatchString(role) {
		return nil, fmt.Errorf("%w: %q after '#' is not the ARN of an IAM role (arn:aws:iam::ACCOUNT:role/NAME)", ErrCredentials, role)
	}
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[3] == "" || !strings.HasPrefix(parts[5], "mlflow-tracking-server/") {
		return nil, fmt.Errorf("%s: not the ARN of a SageMaker MLflow tracking server (arn:aws:sagemaker:REGION:ACCOUNT:mlflow-tracking-server/NAME)", arn)
	}
	partition, region := parts[1], parts[3]
	endpoint := getenv("SAGEMAKER_MLFLOW_CUSTOM_ENDPOINT")
	if endpoint == "" {
		if partition != "aws" && partition != "aws-us-gov" {
			return nil, fmt.Errorf("%s: SageMaker MLflow in partition %s is not known; set SAGEMAKER_MLFLOW_CUSTOM_ENDPOINT to its address", arn, partition)
		}
		endpoint = "https://" + region + ".experiments.sagemaker.aws"
	}
	base, err := url.Parse(endpoint)
	if err != nil || base.Host == "" {
		return nil, fmt.Errorf("SAGEMAKER_MLFLOW_CUSTOM_ENDPOINT %q is not a URL", endpoint)
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRegion(region))
	if err != nil {
		return nil, fmt.Errorf("%w: AWS configuration: %w", ErrCredentials, err)
	}
	creds := cfg.Credentials
	if hasRole {
		creds = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(sts.NewFromConfig(cfg), role, func(o *stscreds.AssumeRoleOptions) {
			o.RoleSessionName = "mlflow-bulk"
		}))
	}
	conn := &connection{base: base, auth: sigV4(creds, arn, region, time.Now)}
	if conn.tls, err = tlsConfig(getenv); err != nil {
		return nil, err
	}
	return conn, nil
}

// sigV4 signs each request for SageMaker's MLflow service: the body's hash in
// X-Amz-Content-Sha256, the server's ARN in its header, spaces in the query as %20 (which
// the service's signature check expects, where Go writes +).
func sigV4(creds aws.CredentialsProvider, arn, region string, now func() time.Time) authenticator {
	signer := v4.NewSigner()
	return func(r *http.Request, body []byte) error {
		c, err := creds.Retrieve(r.Context())
		if err != nil {
			return fmt.Errorf("%w: AWS credentials: %w", ErrCredentials, err)
		}
		sum := sha256.Sum256(body)
		hash := hex.EncodeToString(sum[:])
		r.Header.Set("X-Amz-Content-Sha256", hash)
		r.Header.Set(sageMakerARNHeader, arn)
		r.URL.RawQuery = strings.ReplaceAll(r.URL.RawQuery, "+", "%20")
		return signer.SignHTTP(r.Context(), c, r, hash, sageMakerService, region, now())
	}
}
