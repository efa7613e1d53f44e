// Command worker is the SQS-triggered Lambda function: for each record of a
// batch it checks the number and records SUCCESS (or FAILURE on the last
// allowed attempt) in DynamoDB — first moving the task to STARTED if the
// number is beyond 64 bits — reporting the records to retry as partial batch
// failures. See internal/worker and task.Processor.
package main

import (
	"log/slog"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/asyncprime/asyncprime/internal/config"
	"github.com/asyncprime/asyncprime/internal/dynamo"
	"github.com/asyncprime/asyncprime/internal/lambdamain"
	"github.com/asyncprime/asyncprime/internal/metrics"
	"github.com/asyncprime/asyncprime/internal/task"
	"github.com/asyncprime/asyncprime/internal/worker"
)

// handler checks each record's number and records the result in the table.
func handler(env config.Worker, cfg aws.Config, log *slog.Logger) any {
	h := &worker.Handler{
		Processor: &task.Processor{
			Store:           metrics.Observe(dynamo.New(dynamodb.NewFromConfig(cfg), env.TableName), &metrics.EMF{Logger: log, Function: lambdacontext.FunctionName}),
			MaxReceiveCount: env.MaxReceiveCount,
			Retention:       env.Retention,
			Logger:          log,
		},
		Logger: log,
	}
	return h.Handle
}

func main() { lambdamain.Run("worker", handler) }
