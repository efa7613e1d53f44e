// Command status is the Lambda function behind GET /{task_id}: it reads a
// task from DynamoDB and reports its state and result; and behind DELETE
// /{task_id}, which revokes it. See internal/api.Status.
package main

import (
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/asyncprime/asyncprime/internal/api"
	"github.com/asyncprime/asyncprime/internal/config"
	"github.com/asyncprime/asyncprime/internal/dynamo"
	"github.com/asyncprime/asyncprime/internal/lambdamain"
)

// handler reads (GET) and revokes (DELETE) tasks in the table.
func handler(env config.Status, cfg aws.Config, log *slog.Logger) any {
	store := dynamo.New(dynamodb.NewFromConfig(cfg), env.TableName)
	h := &api.Status{
		Store:     store,
		Revoker:   store, // DELETE /{task_id}
		Retention: env.Retention,
		Logger:    log,
	}
	return h.Handle
}

func main() { lambdamain.Run("status", handler) }
