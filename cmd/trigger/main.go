// Command trigger is the SQS trigger that `sam local` lacks: it polls the
// tasks queue and delivers each batch to the worker function through the
// Lambda Invoke API, as Lambda's event source mapping does in AWS (the
// template's batch size, partial batch responses, the whole batch back on
// a function error or timeout). `make sam-local` runs it against
// `sam local start-lambda`; it works as well against LocalStack or Lambda.
// Without QUEUE_URL it first creates the queue, its dead-letter queue and
// the table on AWS_ENDPOINT_URL, as the template declares them, and can
// write the --env-vars file for them (SAM_ENV_OUT). See the README, "Test
// with the SAM CLI", for its variables.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/asyncprime/asyncprime/internal/awscfg"
	"github.com/asyncprime/asyncprime/internal/cmdmain"
	"github.com/asyncprime/asyncprime/internal/samlocal"
)

func main() { cmdmain.Run("trigger", run) }

func run(ctx context.Context) error {
	cfg, err := samlocal.ConfigFromEnv()
	if err != nil {
		return err
	}
	endpoint := os.Getenv("AWS_ENDPOINT_URL")
	if cfg.QueueURL == "" && endpoint == "" {
		return fmt.Errorf("set QUEUE_URL, or AWS_ENDPOINT_URL (an emulator) to create the queue and table there")
	}
	// An emulator takes any credentials; default them, and the region,
	// so that a machine without an AWS profile works.
	var opts []func(*config.LoadOptions) error
	if os.Getenv("AWS_REGION") == "" && os.Getenv("AWS_DEFAULT_REGION") == "" {
		opts = append(opts, config.WithRegion("us-east-1"))
	}
	if endpoint != "" && os.Getenv("AWS_ACCESS_KEY_ID") == "" && os.Getenv("AWS_PROFILE") == "" {
		opts = append(opts, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("test", "test", "")))
	}
	awsCfg, err := awscfg.Load(ctx, opts...)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	return (&samlocal.Trigger{Config: cfg, AWS: awsCfg, Logger: log}).Run(ctx)
}
