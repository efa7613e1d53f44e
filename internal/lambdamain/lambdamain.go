// Package lambdamain is what the main of every Lambda function does the
// same way: read the function's environment (config.Load), load the AWS
// configuration (awscfg.Load), start from lambdacontext.NewLogger, and hand
// the handler to lambda.Start. It builds no service client: each function
// builds the ones it uses, so that each bootstrap links only those.
package lambdamain

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/asyncprime/asyncprime/internal/awscfg"
	"github.com/asyncprime/asyncprime/internal/config"
)

// Build makes a function's handler, for lambda.Start, from its environment
// E (a config struct such as config.Submit), the AWS configuration and the
// logger.
type Build[E any] func(env E, cfg aws.Config, log *slog.Logger) any

// Run starts the function: the handler build makes, under lambda.Start. A
// configuration that cannot be read stops it at start, before any AWS call,
// with the error, prefixed by name, on stderr and exit status 1.
func Run[E any](name string, build Build[E]) {
	h, err := Handler(build)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		os.Exit(1)
	}
	lambda.Start(h)
}

// Handler returns the handler build makes from this process's environment,
// or the error that stops the function at start.
func Handler[E any](build Build[E]) (any, error) {
	var env E
	if err := config.Load(&env); err != nil {
		return nil, err
	}
	cfg, err := awscfg.Load(context.Background())
	if err != nil {
		return nil, err
	}
	return build(env, cfg, lambdacontext.NewLogger()), nil
}
