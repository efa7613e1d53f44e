// Package awscfg loads the AWS SDK configuration the same way for every
// Lambda function and for the local mode: region, credentials and endpoints
// from the standard sources (AWS_REGION, AWS_ENDPOINT_URL,
// AWS_ENDPOINT_URL_SQS, AWS_ENDPOINT_URL_DYNAMODB, profiles, the Lambda
// role), with network timeouts short enough that a request fails fast
// instead of hanging when a service does not answer.
package awscfg

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
)

// Timeouts of one attempt. Callers bound the whole call, retries
// included, with their context (submit and status: 3 s; the worker: its
// invocation's deadline). AttemptTimeout must outlast SQS's longest long
// poll (20 s), which the local poller uses as Lambda's does.
const (
	DialTimeout    = 2 * time.Second
	AttemptTimeout = 30 * time.Second
	MaxAttempts    = 3
)

// Load returns the SDK configuration. Create it once per process, outside
// the handler, and build the clients from it.
func Load(ctx context.Context, opts ...func(*config.LoadOptions) error) (aws.Config, error) {
	httpClient := awshttp.NewBuildableClient().
		WithTimeout(AttemptTimeout).
		WithDialerOptions(func(d *net.Dialer) { d.Timeout = DialTimeout })
	base := []func(*config.LoadOptions) error{
		config.WithHTTPClient(httpClient),
		config.WithRetryMaxAttempts(MaxAttempts),
	}
	cfg, err := config.LoadDefaultConfig(ctx, append(base, opts...)...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		return aws.Config{}, fmt.Errorf("load AWS configuration: no region; set AWS_REGION")
	}
	return cfg, nil
}
