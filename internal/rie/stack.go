package rie

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/asyncprime/asyncprime/internal/provision"
	"github.com/asyncprime/asyncprime/internal/task"
	"github.com/asyncprime/asyncprime/internal/worker"
)

// Names of the functions, as their directories under functions/.
const (
	Submit = "submit"
	Worker = "worker"
	Status = "status"
)

// TemplateTimeout returns the function's timeout as the template's
// defaults set it: ApiFunctionTimeout or WorkerTimeout.
func TemplateTimeout(fn string) time.Duration {
	if fn == Worker {
		return worker.DefaultTimeout
	}
	return 5 * time.Second
}

// Env returns the environment the template gives a function (submit,
// worker or status), for the given resources, plus what the SDK needs to
// reach them (region, endpoint, credentials) from cfg. The resources hold
// one task queue: without BIG_QUEUE_URL the submit queues big numbers on
// it too, as the function does when that variable is unset. cmd/invoke
// builds the dead-letter function's environment itself.
func Env(ctx context.Context, fn string, res provision.Resources, cfg aws.Config, endpoint string) ([]string, error) {
	env := []string{"TABLE_NAME=" + res.TableName}
	switch fn {
	case Submit:
		env = append(env, "QUEUE_URL="+res.QueueURL, "RESULT_RETENTION="+task.DefaultRetention.String())
	case Worker:
		env = append(env, "MAX_RECEIVE_COUNT="+strconv.Itoa(task.DefaultMaxReceiveCount), "RESULT_RETENTION="+task.DefaultRetention.String())
	case Status:
	default:
		return nil, fmt.Errorf("unknown function %q: want submit, worker or status", fn)
	}
	creds, err := cfg.Credentials.Retrieve(ctx)
	if err != nil {
		return nil, fmt.Errorf("credentials for %s: %w", fn, err)
	}
	env = append(env,
		"AWS_REGION="+cfg.Region,
		"AWS_ACCESS_KEY_ID="+creds.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY="+creds.SecretAccessKey,
		"AWS_SESSION_TOKEN="+creds.SessionToken,
		"AWS_LAMBDA_LOG_FORMAT=JSON",
	)
	if endpoint != "" {
		env = append(env, "AWS_ENDPOINT_URL="+endpoint)
	}
	return env, nil
}

// Build compiles a function's bootstrap for this host into dir/<fn>/bootstrap,
// with the Lambda build tags, and returns its path. moduleRoot is the
// repository root.
func Build(ctx context.Context, moduleRoot, dir, fn string) (string, error) {
	out := filepath.Join(dir, fn, "bootstrap")
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-tags", "lambda.norpc", "-o", out, "./functions/"+fn)
	cmd.Dir = moduleRoot
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build %s: %w\n%s", fn, err, b)
	}
	return out, nil
}

// StartFunction runs a built function under the emulator with the
// template's environment for res and the given timeout (TemplateTimeout
// is the template's).
func StartFunction(ctx context.Context, rieBin, bootstrap, fn string, res provision.Resources, cfg aws.Config, endpoint string, timeout time.Duration, logs io.Writer) (*Instance, error) {
	env, err := Env(ctx, fn, res, cfg, endpoint)
	if err != nil {
		return nil, err
	}
	return Start(ctx, Function{Name: fn, Bootstrap: bootstrap, RIE: rieBin, Env: env, Timeout: timeout, Stdout: logs})
}

// HTTPHandler adapts an API function running under the emulator to the
// local mode's handler signature.
func HTTPHandler(in *Instance) func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	return func(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		return InvokeJSON[events.APIGatewayV2HTTPResponse](ctx, in, req)
	}
}

// SQSHandler adapts the worker function running under the emulator to the
// local poller's handler signature.
func SQSHandler(in *Instance) func(context.Context, events.SQSEvent) (events.SQSEventResponse, error) {
	return func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
		return InvokeJSON[events.SQSEventResponse](ctx, in, ev)
	}
}

// FindRIE returns the emulator binary: $RIE_BIN, else bin/aws-lambda-rie
// under moduleRoot (where `make tools` installs it), else aws-lambda-rie on
// PATH.
func FindRIE(moduleRoot string) (string, error) {
	if p := os.Getenv("RIE_BIN"); p != "" {
		return p, nil
	}
	if p := filepath.Join(moduleRoot, "bin", "aws-lambda-rie"); fileExists(p) {
		return p, nil
	}
	if p, err := exec.LookPath("aws-lambda-rie"); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("aws-lambda-rie not found: run `make tools`, or go install %s@%s", Package, Version)
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}
