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
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "status:", err)
		os.Exit(1)
	}
}

func run() error {
	var env config.Status
	if err := config.Load(&env); err != nil {
		return err
	}
	cfg, err := awscfg.Load(context.Background())
	if err != nil {
		return err
	}
	store := dynamo.New(dynamodb.NewFromConfig(cfg), env.TableName)
	h := &api.Status{
		Store:     store,
		Revoker:   store, // DELETE /{task_id}
		Retention: env.Retention,
		Logger:    lambdacontext.NewLogger(),
	}
	lambda.Start(h.Handle)
	return nil
}
