package awscfg_test

import (
	"context"
	"errors"
	"net/http"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/asyncprime/asyncprime/internal/awscfg"
)

// recorder is an HTTP client that records the URL of each request and
// sends nothing.
type recorder struct{ hosts []string }

var errSent = errors.New("recorded, not sent")

func (r *recorder) Do(req *http.Request) (*http.Response, error) {
	r.hosts = append(r.hosts, req.URL.Scheme+"://"+req.URL.Host)
	return nil, errSent
}

// TestEndpointVariable proves what template.yaml relies on: a function
// whose AWS_ENDPOINT_URL is absent (CloudFormation drops it when the
// EndpointUrl parameter is empty) or empty (sam local gives declared,
// unset variables "") calls the real SQS and DynamoDB endpoints, and one
// with a value calls that.
func TestEndpointVariable(t *testing.T) {
	tests := []struct {
		name    string
		value   *string // nil: unset
		wantSQS string
		wantDDB string
	}{
		{name: "absent", wantSQS: "https://sqs.eu-west-1.amazonaws.com", wantDDB: "https://dynamodb.eu-west-1.amazonaws.com"},
		{name: "empty", value: aws.String(""), wantSQS: "https://sqs.eu-west-1.amazonaws.com", wantDDB: "https://dynamodb.eu-west-1.amazonaws.com"},
		{name: "set", value: aws.String("http://host.docker.internal:5050"), wantSQS: "http://host.docker.internal:5050", wantDDB: "http://host.docker.internal:5050"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Not parallel: it sets the process environment, as Lambda does.
			for _, k := range []string{"AWS_ENDPOINT_URL_SQS", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_PROFILE"} {
				t.Setenv(k, "")
			}
			t.Setenv("AWS_CONFIG_FILE", t.TempDir()+"/none")
			t.Setenv("AWS_SHARED_CREDENTIALS_FILE", t.TempDir()+"/none")
			t.Setenv("AWS_REGION", "eu-west-1")
			t.Setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
			t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
			t.Setenv("AWS_ENDPOINT_URL", "") // restored after the test
			if tt.value != nil {
				t.Setenv("AWS_ENDPOINT_URL", *tt.value)
			} else if err := os.Unsetenv("AWS_ENDPOINT_URL"); err != nil {
				t.Fatal(err)
			}
			cfg, err := awscfg.Load(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			rec := &recorder{}
			ctx := context.Background()
			_, err = sqs.NewFromConfig(cfg, func(o *sqs.Options) { o.HTTPClient = rec; o.RetryMaxAttempts = 1 }).ListQueues(ctx, &sqs.ListQueuesInput{})
			if !errors.Is(err, errSent) {
				t.Fatalf("ListQueues: %v; want the recorder's error", err)
			}
			_, err = dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.HTTPClient = rec; o.RetryMaxAttempts = 1 }).ListTables(ctx, &dynamodb.ListTablesInput{})
			if !errors.Is(err, errSent) {
				t.Fatalf("ListTables: %v; want the recorder's error", err)
			}
			if len(rec.hosts) != 2 || rec.hosts[0] != tt.wantSQS || rec.hosts[1] != tt.wantDDB {
				t.Errorf("requests went to %v; want [%s %s]", rec.hosts, tt.wantSQS, tt.wantDDB)
			}
		})
	}
}
