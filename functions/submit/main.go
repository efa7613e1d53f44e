// Command submit is the Lambda function behind POST /: it records a task as
// PENDING in DynamoDB, queues its job on SQS and answers 202 with the task
// id. See internal/api.Submit.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/asyncprime/asyncprime/internal/api"
	"github.com/asyncprime/asyncprime/internal/awscfg"
	"github.com/asyncprime/asyncprime/internal/config"
	"github.com/asyncprime/asyncprime/internal/dynamo"
	"github.com/asyncprime/asyncprime/internal/sqsqueue"
	"github.com/asyncprime/asyncprime/internal/task"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "submit:", err)
		os.Exit(1)
	}
}

func run() error {
	env := config.FromOS()
	table := env.Required("TABLE_NAME")
	queueURL := env.Required("QUEUE_URL")
	// The queue of numbers beyond 64 bits; without it they share QUEUE_URL.
	bigQueueURL := env.String("BIG_QUEUE_URL", "")
	retention := env.Duration("RESULT_RETENTION", task.DefaultRetention)
	if err := env.Err(); err != nil {
		return err
	}
	cfg, err := awscfg.Load(context.Background())
	if err != nil {
		return err
	}
	log := lambdacontext.NewLogger()
	sqsClient := sqs.NewFromConfig(cfg)
	submitter := &task.Submitter{
		Store:     dynamo.New(dynamodb.NewFromConfig(cfg), table),
		Queue:     sqsqueue.New(sqsClient, queueURL, sqsqueue.WithRegion(cfg.Region)),
		Retention: retention,
		Logger:    log,
	}
	if bigQueueURL != "" {
		submitter.BigQueue = sqsqueue.New(sqsClient, bigQueueURL, sqsqueue.WithRegion(cfg.Region))
	}
	h := &api.Submit{Tasks: submitter, Logger: log}
	lambda.Start(h.Handle)
	return nil
}
