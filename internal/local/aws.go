package local

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/asyncprime/asyncprime/internal/awscfg"
	"github.com/asyncprime/asyncprime/internal/deadletter"
	"github.com/asyncprime/asyncprime/internal/dynamo"
	"github.com/asyncprime/asyncprime/internal/emulator"
	"github.com/asyncprime/asyncprime/internal/provision"
	"github.com/asyncprime/asyncprime/internal/sqsqueue"
)

// openAWS opens the SQS queue and DynamoDB table of BACKEND=aws:
//   - with QUEUE_URL and TABLE_NAME, it uses them, on AWS_ENDPOINT_URL if
//     set (LocalStack, moto) or on AWS itself (a deployed stack);
//   - with neither but AWS_ENDPOINT_URL, it creates them there, with the
//     template's settings;
//   - with nothing at all, it starts moto on loopback and creates them there.
func openAWS(ctx context.Context, cfg Config, log *slog.Logger) (*Backend, error) {
	b := &Backend{}
	queueURL, table, dlqURL := cfg.QueueURL, cfg.TableName, cfg.DeadLetterQueueURL
	bigURL, bigDLQURL := cfg.BigQueueURL, cfg.BigDeadLetterQueueURL
	var awsCfg aws.Config
	var err error
	switch {
	case (queueURL == "") != (table == ""):
		return nil, fmt.Errorf("set both QUEUE_URL and TABLE_NAME, or neither (to create them)")
	case queueURL != "":
		if awsCfg, err = awscfg.Load(ctx); err != nil {
			return nil, err
		}
	default:
		endpoint := os.Getenv("AWS_ENDPOINT_URL")
		if endpoint == "" {
			m, err := emulator.StartMoto(ctx)
			if err != nil {
				return nil, fmt.Errorf("BACKEND=aws without QUEUE_URL/TABLE_NAME or AWS_ENDPOINT_URL starts moto: %w", err)
			}
			b.close = append(b.close, m.Stop)
			endpoint = m.Endpoint
			log.InfoContext(ctx, "started moto", slog.String("endpoint", endpoint))
			gone := make(chan error, 1) // Stop at Close ends moto too: nobody reads then
			go func() {
				<-m.Done()
				gone <- motoGone(m.Endpoint, m.Err())
			}()
			b.Gone = gone
		}
		if awsCfg, err = emulator.Config(ctx, endpoint); err != nil {
			b.Close()
			return nil, err
		}
		settings := provision.Settings{VisibilityTimeout: cfg.VisibilityTimeout, MaxReceiveCount: cfg.MaxReceiveCount}
		res, err := settings.Provision(ctx, awsCfg, provision.DefaultNames)
		if err != nil {
			b.Close()
			return nil, fmt.Errorf("create the queue and table on %s: %w", endpoint, err)
		}
		queueURL, table, dlqURL = res.QueueURL, res.TableName, res.DeadLetterQueueURL
		big, err := settings.Provision(ctx, awsCfg, provision.Names{Queue: provision.DefaultNames.Queue + "-big"})
		if err != nil {
			b.Close()
			return nil, fmt.Errorf("create the big-task queue on %s: %w", endpoint, err)
		}
		bigURL, bigDLQURL = big.QueueURL, big.DeadLetterQueueURL
	}
	log.InfoContext(ctx, "backend: SQS and DynamoDB", slog.String("queue_url", queueURL), slog.String("table", table), slog.String("region", awsCfg.Region))
	b.Store = dynamo.New(dynamodb.NewFromConfig(awsCfg), table)
	sqsClient := sqs.NewFromConfig(awsCfg)
	newQueue := func(url string) *sqsqueue.Queue {
		return sqsqueue.New(sqsClient, url, sqsqueue.WithRegion(awsCfg.Region))
	}
	b.Queue = newQueue(queueURL)
	if bigURL != "" {
		b.BigQueue = newQueue(bigURL)
	} else {
		log.WarnContext(ctx, "no BIG_QUEUE_URL: numbers beyond 64 bits share the tasks queue")
	}
	for _, url := range []string{dlqURL, bigDLQURL} {
		if url != "" {
			b.DeadLetters = append(b.DeadLetters, deadletter.PeekFunc(newQueue(url).Peek))
		}
	}
	if dlqURL == "" {
		log.WarnContext(ctx, "no DEAD_LETTER_QUEUE_URL: tasks whose messages are dead-lettered are not settled here (the deployed dead-letter function does it)")
	}
	return b, nil
}

// motoGone is the error that stops the local mode when the moto it started
// exits; exit is how it exited (nil for a clean exit, as after a SIGTERM).
func motoGone(endpoint string, exit error) error {
	how := "exit status 0"
	if exit != nil {
		how = exit.Error()
	}
	return fmt.Errorf("moto (%s), which held the queues and the table, exited (%s): they are gone with it, and so are the tasks they held; start again to get new, empty ones", endpoint, how)
}
