// Command deadletter is the Lambda function that settles dead-lettered
// tasks. It runs on a schedule (once a minute, see template.yaml): each
// run peeks at both dead-letter queues (receive, then visible again at
// once) and records FAILURE, with the reason, for each task a dead letter
// names that is not final yet (every allowed delivery failed before a
// result was written: a long store outage, or a worker stopped each time),
// so that no task stays PENDING or STARTED until it expires. It never
// deletes a dead letter: they stay for the operator to see, redrive or
// purge. See internal/deadletter.
package main

import (
	"log/slog"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/asyncprime/asyncprime/internal/config"
	"github.com/asyncprime/asyncprime/internal/deadletter"
	"github.com/asyncprime/asyncprime/internal/lambdamain"
	"github.com/asyncprime/asyncprime/internal/metrics"
)

// handler records FAILURE for each unfinished task a dead letter of either
// queue names.
func handler(env config.DeadLetter, cfg aws.Config, log *slog.Logger) any {
	obs := &metrics.EMF{Logger: log, Function: lambdacontext.FunctionName}
	f := deadletter.NewFunction(env, sqs.NewFromConfig(cfg), dynamodb.NewFromConfig(cfg), cfg.Region, obs, log)
	return f.Handle
}

func main() { lambdamain.Run("deadletter", handler) }
