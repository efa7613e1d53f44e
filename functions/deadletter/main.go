// Command deadletter is the Lambda function on the dead-letter queues: for
// each dead-lettered record it records FAILURE, with the reason, for a task
// that is not final yet (every allowed delivery failed before a result was
// written: a long store outage, or a worker stopped each time), so that no
// task stays PENDING or STARTED until it expires. See task.Reaper.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/asyncprime/asyncprime/internal/awscfg"
	"github.com/asyncprime/asyncprime/internal/config"
	"github.com/asyncprime/asyncprime/internal/dynamo"
	"github.com/asyncprime/asyncprime/internal/task"
	"github.com/asyncprime/asyncprime/internal/worker"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "deadletter:", err)
		os.Exit(1)
	}
}

func run() error {
	var env config.DeadLetter
	if err := config.Load(&env); err != nil {
		return err
	}
	cfg, err := awscfg.Load(context.Background())
	if err != nil {
		return err
	}
	log := lambdacontext.NewLogger()
	h := &worker.Handler{
		Processor: &task.Reaper{
			Store:     dynamo.New(dynamodb.NewFromConfig(cfg), env.TableName),
			Retention: env.Retention,
			Logger:    log,
		},
		Logger: log,
	}
	lambda.Start(h.Handle)
	return nil
}
