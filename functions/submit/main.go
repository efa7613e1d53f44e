// Command submit is the Lambda function behind POST /: it records a task as
// PENDING in DynamoDB, queues its job on SQS and answers 202 with the task
// id. See internal/api.Submit.
package main

import (
	"log/slog"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/asyncprime/asyncprime/internal/api"
	"github.com/asyncprime/asyncprime/internal/config"
	"github.com/asyncprime/asyncprime/internal/dynamo"
	"github.com/asyncprime/asyncprime/internal/lambdamain"
	"github.com/asyncprime/asyncprime/internal/metrics"
	"github.com/asyncprime/asyncprime/internal/sqsqueue"
	"github.com/asyncprime/asyncprime/internal/task"
)

// handler records each task in the table and queues its job: numbers beyond
// 64 bits on BIG_QUEUE_URL when it is set.
func handler(env config.Submit, cfg aws.Config, log *slog.Logger) any {
	sqsClient := sqs.NewFromConfig(cfg)
	submitter := &task.Submitter{
		Store:     metrics.Observe(dynamo.New(dynamodb.NewFromConfig(cfg), env.TableName), &metrics.EMF{Logger: log, Function: lambdacontext.FunctionName}),
		Queue:     sqsqueue.New(sqsClient, env.QueueURL, sqsqueue.WithRegion(cfg.Region)),
		Retention: env.Retention,
		Logger:    log,
	}
	if env.BigQueueURL != "" {
		submitter.BigQueue = sqsqueue.New(sqsClient, env.BigQueueURL, sqsqueue.WithRegion(cfg.Region))
	}
	h := &api.Submit{Tasks: submitter, Logger: log}
	return h.Handle
}

func main() { lambdamain.Run("submit", handler) }
