// Command status is the Lambda function behind GET /{task_id}: it reads a
// task from DynamoDB and reports its state and result; and behind DELETE
// /{task_id}, which revokes it. See internal/api.Status.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/asyncprime/asyncprime/internal/api"
	"github.com/asyncprime/asyncprime/internal/awscfg"
	"github.com/asyncprime/asyncprime/internal/config"
	"github.com/asyncprime/asyncprime/internal/dynamo"
	"github.com/asyncprime/asyncprime/internal/task"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "status:", err)
		os.Exit(1)
	}
}

func run() error {
	env := config.FromOS()
	table := env.Required("TABLE_NAME")
	retention := env.Duration("RESULT_RETENTION", task.DefaultRetention)
	if err := env.Err(); err != nil {
		return err
	}
	cfg, err := awscfg.Load(context.Background())
	if err != nil {
		return err
	}
	store := dynamo.New(dynamodb.NewFromConfig(cfg), table)
	h := &api.Status{
		Store:     store,
		Revoker:   store, // DELETE /{task_id}
		Retention: retention,
		Logger:    lambdacontext.NewLogger(),
	}
	lambda.Start(h.Handle)
	return nil
}
