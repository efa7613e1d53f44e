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
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/asyncprime/asyncprime/internal/awscfg"
	"github.com/asyncprime/asyncprime/internal/config"
	"github.com/asyncprime/asyncprime/internal/deadletter"
	"github.com/asyncprime/asyncprime/internal/dynamo"
	"github.com/asyncprime/asyncprime/internal/sqsqueue"
	"github.com/asyncprime/asyncprime/internal/task"
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
	store := dynamo.New(dynamodb.NewFromConfig(cfg), env.TableName)
	reaper := &task.Reaper{Store: store, Retention: env.Retention, Logger: log}
	sqsClient := sqs.NewFromConfig(cfg)
	// The settlers live as long as the execution environment, so that a
	// warm one remembers the dead letters it saw a minute ago.
	var settlers []*deadletter.Settler
	for name, url := range map[string]string{"tasks-dlq": env.DeadLetterQueueURL, "tasks-big-dlq": env.BigDeadLetterQueueURL} {
		settlers = append(settlers, &deadletter.Settler{
			Name: name, Queue: deadletter.PeekFunc(sqsqueue.New(sqsClient, url, sqsqueue.WithRegion(cfg.Region)).Peek),
			Store: store, Reaper: reaper, Logger: log,
		})
	}
	lambda.Start(func(ctx context.Context) error {
		var errs []error
		for _, s := range settlers {
			r, err := s.Settle(ctx)
			log.InfoContext(ctx, "settle round", slog.String("queue", s.Name), slog.Int("peeked", r.Peeked), slog.Int("settled", r.Settled),
				slog.Int("waiting", r.Waiting), slog.Int("final", r.Final), slog.Int("poison", r.Poison), slog.Int("unknown_task", r.Unknown))
			errs = append(errs, err)
		}
		return errors.Join(errs...)
	})
	return nil
}
