package samlocal

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/asyncprime/asyncprime/internal/config"
	"github.com/asyncprime/asyncprime/internal/lambdainvoke"
	"github.com/asyncprime/asyncprime/internal/local"
	"github.com/asyncprime/asyncprime/internal/provision"
	"github.com/asyncprime/asyncprime/internal/queue"
	"github.com/asyncprime/asyncprime/internal/sqsqueue"
	"github.com/asyncprime/asyncprime/internal/task"
)

// Config configures the trigger; the README's "Test with the SAM CLI"
// section lists the variables.
type Config struct {
	// QueueURL (QUEUE_URL) is the queue to poll. If empty, the trigger
	// first creates the queue, its dead-letter queue and the table
	// (provision.DefaultNames) as template.yaml declares them, on the
	// configured endpoint.
	QueueURL string `env:"QUEUE_URL"`
	// FunctionName (WORKER_FUNCTION_NAME) is the function to invoke:
	// WorkerFunction under sam local, the function's name or ARN on
	// LocalStack or AWS.
	FunctionName string `env:"WORKER_FUNCTION_NAME"`
	// InvokeEndpoint (WORKER_INVOKE_ENDPOINT) is the Lambda Invoke API's
	// base URL, such as http://127.0.0.1:3001 (sam local start-lambda);
	// empty for the SDK's (AWS_ENDPOINT_URL_LAMBDA, AWS_ENDPOINT_URL, or
	// real Lambda).
	InvokeEndpoint string `env:"WORKER_INVOKE_ENDPOINT"`
	// InvokeTimeout (WORKER_INVOKE_TIMEOUT) is how long the trigger waits
	// for one invocation's answer before it gives the batch back: more
	// than the function's timeout, plus a container start under sam local.
	InvokeTimeout time.Duration `env:"WORKER_INVOKE_TIMEOUT"`
	// BatchSize (BATCH_SIZE) is the template's WorkerBatchSize.
	BatchSize int `env:"BATCH_SIZE"`
	// Concurrency (WORKERS) bounds the invocations at once.
	Concurrency int `env:"WORKERS"`
	// VisibilityTimeout (VISIBILITY_TIMEOUT) and MaxReceiveCount
	// (MAX_RECEIVE_COUNT) are the queue's settings when the trigger
	// creates it.
	VisibilityTimeout time.Duration `env:"VISIBILITY_TIMEOUT"`
	MaxReceiveCount   int           `env:"MAX_RECEIVE_COUNT"`
	// EnvOut (SAM_ENV_OUT), if set, is where the trigger writes the
	// --env-vars file for the resources, with ContainerEndpoint
	// (SAM_CONTAINER_ENDPOINT) as the functions' AWS_ENDPOINT_URL.
	EnvOut            string `env:"SAM_ENV_OUT"`
	ContainerEndpoint string `env:"SAM_CONTAINER_ENDPOINT"`
}

// Defaults for sam local: the worker's timeout there is 60 s (samconfig.toml
// overrides WorkerTimeout for the local commands), and the queue's
// visibility timeout six times that plus the batching window (0 by
// default), as the template's WorkerQueue mapping has it.
const (
	DefaultInvokeTimeout     = 90 * time.Second
	DefaultVisibilityTimeout = 360 * time.Second
	DefaultConcurrency       = 2
)

// ConfigFromEnv reads the configuration.
func ConfigFromEnv() (Config, error) {
	c := Config{
		FunctionName:      WorkerFunction,
		InvokeTimeout:     DefaultInvokeTimeout,
		BatchSize:         queue.DefaultBatchSize,
		Concurrency:       DefaultConcurrency,
		VisibilityTimeout: DefaultVisibilityTimeout,
		MaxReceiveCount:   task.DefaultMaxReceiveCount,
		ContainerEndpoint: ContainerEndpoint,
	}
	if err := config.Load(&c); err != nil {
		return c, err
	}
	if c.BatchSize > queue.MaxBatch {
		return c, fmt.Errorf("environment variable BATCH_SIZE=%d is over SQS's limit of %d", c.BatchSize, queue.MaxBatch)
	}
	return c, nil
}

// Trigger polls the queue and invokes the worker function with each batch,
// as the event source mapping does in AWS.
type Trigger struct {
	Config Config
	// AWS is the SDK configuration for SQS, DynamoDB (when creating) and
	// Lambda.
	AWS    aws.Config
	Logger *slog.Logger
}

// Run creates the resources if need be, writes the env file if asked,
// waits until the Invoke API endpoint accepts connections, and polls
// until ctx is done; batches in flight then finish.
func (t *Trigger) Run(ctx context.Context) error {
	c := t.Config
	queueURL := c.QueueURL
	if queueURL == "" {
		res, err := provision.Settings{VisibilityTimeout: c.VisibilityTimeout, MaxReceiveCount: c.MaxReceiveCount}.Provision(ctx, t.AWS, provision.DefaultNames)
		if err != nil {
			return fmt.Errorf("create the queue and table: %w", err)
		}
		t.Logger.InfoContext(ctx, "created", slog.String("queue_url", res.QueueURL), slog.String("dead_letter_queue_url", res.DeadLetterQueueURL), slog.String("table", res.TableName))
		queueURL = res.QueueURL
		if c.EnvOut != "" {
			if err := writeEnvFile(c.EnvOut, res, c.ContainerEndpoint); err != nil {
				return err
			}
			t.Logger.InfoContext(ctx, "wrote the --env-vars file", slog.String("path", c.EnvOut), slog.String("container_endpoint", c.ContainerEndpoint))
		}
	}
	if c.InvokeEndpoint != "" {
		if err := waitListening(ctx, c.InvokeEndpoint, t.Logger); err != nil {
			return err
		}
	}
	h := &lambdainvoke.Handler{
		Client:       lambdainvoke.NewClient(t.AWS, c.InvokeEndpoint),
		FunctionName: c.FunctionName,
	}
	p := &local.Poller{
		Queue:           sqsqueue.New(sqs.NewFromConfig(t.AWS), queueURL, sqsqueue.WithRegion(t.AWS.Region)),
		Handler:         h.Handle,
		BatchSize:       c.BatchSize,
		WaitTime:        20 * time.Second,
		Concurrency:     c.Concurrency,
		FunctionTimeout: c.InvokeTimeout,
		Logger:          t.Logger,
	}
	t.Logger.InfoContext(ctx, "polling", slog.String("queue_url", queueURL), slog.String("function", c.FunctionName), slog.String("invoke_endpoint", c.InvokeEndpoint))
	p.Run(ctx)
	return nil
}

func writeEnvFile(path string, res provision.Resources, endpoint string) error {
	f, err := NewEnvFile(res, endpoint)
	if err != nil {
		return err
	}
	b, err := f.Marshal()
	if err != nil {
		return err
	}
	// Written whole, then renamed: a reader never sees half a file.
	tmp := path + ".tmp"
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// waitListening waits until endpoint's host accepts TCP connections:
// sam local start-lambda takes a while to start.
func waitListening(ctx context.Context, endpoint string, log *slog.Logger) error {
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" {
		return fmt.Errorf("environment variable WORKER_INVOKE_ENDPOINT=%q is not a URL such as http://127.0.0.1:3001", endpoint)
	}
	host := u.Host
	if u.Port() == "" {
		port := "80"
		if u.Scheme == "https" {
			port = "443"
		}
		host = net.JoinHostPort(u.Hostname(), port)
	}
	logged := false
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		var d net.Dialer
		dctx, cancel := context.WithTimeout(ctx, time.Second)
		c, err := d.DialContext(dctx, "tcp", host)
		cancel()
		if err == nil {
			c.Close()
			return nil
		}
		if !logged {
			log.InfoContext(ctx, "waiting for the Invoke API endpoint (sam local start-lambda)", slog.String("endpoint", endpoint))
			logged = true
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}
