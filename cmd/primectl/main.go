// Command primectl is asyncprime's command line: submit a number (and wait
// for the result), read a task, show the stats, check health, redrive or
// purge the dead-letter queue, retry a FAILURE task — against the local
// mode (-url, default http://127.0.0.1:8000) or a deployed stack (-url with
// its ApiUrl, or -stack with its name, read from its CloudFormation
// outputs). It speaks the same HTTP API as curl, and its errors are the
// API's. See the README.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/asyncprime/asyncprime/internal/awscfg"
	"github.com/asyncprime/asyncprime/internal/client"
	"github.com/asyncprime/asyncprime/internal/cmdmain"
	"github.com/asyncprime/asyncprime/internal/console"
	"github.com/asyncprime/asyncprime/internal/dynamo"
	"github.com/asyncprime/asyncprime/internal/primectl"
	"github.com/asyncprime/asyncprime/internal/sqsqueue"
)

func main() {
	cmdmain.Run("primectl", func(ctx context.Context) error { return run(ctx, os.Args[1:], os.Stdout, os.Stderr) })
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("primectl", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, primectl.Usage); fs.PrintDefaults() }
	url := fs.String("url", primectl.DefaultURL(), "base URL of the API: the local mode, or a deployed stack's ApiUrl ($ASYNCPRIME_URL)")
	stack := fs.String("stack", "", "a deployed stack's name: read ApiUrl, QueueUrl, BigQueueUrl and TableName from its CloudFormation outputs")
	asJSON := fs.Bool("json", false, "print the API's JSON as it is")
	timeout := fs.Duration("timeout", time.Minute, "give up after this long")
	if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
		return nil // -h: the usage, asked for, is not an error
	} else if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	cli := &primectl.CLI{API: &client.Client{Base: *url}, Out: stdout, JSON: *asJSON}
	if *stack != "" {
		cfg, err := awscfg.Load(ctx)
		if err != nil {
			return err
		}
		s, err := client.DescribeStack(ctx, cloudformation.NewFromConfig(cfg), *stack)
		if err != nil {
			return err
		}
		cli.API.Base = s.APIURL
		sqsClient := sqs.NewFromConfig(cfg)
		cli.Queue = sqsqueue.New(sqsClient, s.QueueURL, sqsqueue.WithRegion(cfg.Region))
		if s.BigQueueURL != "" {
			cli.Queue = console.Join(cli.Queue, sqsqueue.New(sqsClient, s.BigQueueURL, sqsqueue.WithRegion(cfg.Region)))
		}
		if s.TableName != "" {
			cli.Store = dynamo.New(dynamodb.NewFromConfig(cfg), s.TableName)
		}
	}
	return cli.Run(ctx, fs.Args())
}
