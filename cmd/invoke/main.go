// Command invoke runs one Lambda function's built bootstrap under the AWS
// Lambda Runtime Interface Emulator, as `sam local invoke` does inside its
// container, against SQS and DynamoDB on AWS_ENDPOINT_URL or, if that is
// unset, on a moto server it starts. It creates the queue and table with the
// template's settings unless QUEUE_URL and TABLE_NAME are given (for the
// dead-letter function, DEAD_LETTER_QUEUE_URL and TABLE_NAME, with
// BIG_DEAD_LETTER_QUEUE_URL), sends the event, and prints the function's
// response.
//
//	invoke -fn submit [-event events/submit.json] [-bootstrap bin/host/submit/bootstrap]
package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/asyncprime/asyncprime/internal/cmdmain"
	"github.com/asyncprime/asyncprime/internal/emulator"
	"github.com/asyncprime/asyncprime/internal/provision"
	"github.com/asyncprime/asyncprime/internal/rie"
	"github.com/asyncprime/asyncprime/internal/task"
	"github.com/asyncprime/asyncprime/internal/worker"
)

// deadLetter names the dead-letter function, as its directory under
// functions/. internal/rie knows the other three.
const deadLetter = "deadletter"

// functions are the functions -fn takes.
var functions = []string{rie.Submit, rie.Worker, rie.Status, deadLetter}

func main() { cmdmain.Run("invoke", run) }

func run(ctx context.Context) error {
	fn := flag.String("fn", "", "function to run: submit, worker, status or deadletter")
	eventPath := flag.String("event", "", "event file (default events/<fn>.json)")
	bootstrap := flag.String("bootstrap", "", "built bootstrap for this host (default bin/host/<fn>/bootstrap)")
	rieBin := flag.String("rie", "", "aws-lambda-rie binary (default: $RIE_BIN, bin/aws-lambda-rie, or PATH)")
	flag.Parse()
	if !slices.Contains(functions, *fn) {
		return fmt.Errorf("-fn must be submit, worker, status or deadletter, got %q", *fn)
	}
	if *eventPath == "" {
		*eventPath = "events/" + *fn + ".json"
	}
	if *bootstrap == "" {
		*bootstrap = "bin/host/" + *fn + "/bootstrap"
	}
	if *rieBin == "" {
		p, err := rie.FindRIE(".")
		if err != nil {
			return err
		}
		*rieBin = p
	}
	event, err := os.ReadFile(*eventPath)
	if err != nil {
		return err
	}

	endpoint := os.Getenv("AWS_ENDPOINT_URL")
	if endpoint == "" {
		m, err := emulator.StartMoto(ctx)
		if err != nil {
			return fmt.Errorf("no AWS_ENDPOINT_URL, and moto did not start: %w", err)
		}
		defer m.Stop()
		endpoint = m.Endpoint
		fmt.Fprintln(os.Stderr, "moto on", endpoint)
	}
	cfg, err := emulator.Config(ctx, endpoint)
	if err != nil {
		return err
	}
	var in *rie.Instance
	if *fn == deadLetter {
		in, err = startDeadLetter(ctx, *rieBin, *bootstrap, cfg, endpoint)
	} else {
		res := provision.Resources{QueueURL: os.Getenv("QUEUE_URL"), TableName: os.Getenv("TABLE_NAME")}
		if res.QueueURL == "" || res.TableName == "" {
			if res, err = provision.Provision(ctx, cfg, provision.DefaultNames); err != nil {
				return err
			}
		}
		in, err = rie.StartFunction(ctx, *rieBin, *bootstrap, *fn, res, cfg, endpoint, rie.TemplateTimeout(*fn), os.Stderr)
	}
	if err != nil {
		return err
	}
	defer in.Stop()
	out, err := in.Invoke(ctx, event)
	if err != nil {
		return err
	}
	var pretty bytes.Buffer
	if json.Indent(&pretty, out, "", "  ") != nil {
		pretty.Reset()
		pretty.Write(out)
	}
	fmt.Println(pretty.String())
	return nil
}

// startDeadLetter runs the dead-letter function under the emulator with the
// environment the template gives it: the table, the two dead-letter queues
// it peeks at, the retention, and the function's timeout (WorkerTimeout).
// Unless DEAD_LETTER_QUEUE_URL and TABLE_NAME are given, it creates the
// tasks queue and the big-tasks queue with their dead-letter queues, and
// the table, as make run-aws does; BIG_DEAD_LETTER_QUEUE_URL defaults to
// the big-tasks queue's, or to DEAD_LETTER_QUEUE_URL when that is given.
func startDeadLetter(ctx context.Context, rieBin, bootstrap string, cfg aws.Config, endpoint string) (*rie.Instance, error) {
	res := provision.Resources{DeadLetterQueueURL: os.Getenv("DEAD_LETTER_QUEUE_URL"), TableName: os.Getenv("TABLE_NAME")}
	bigDLQ := cmp.Or(os.Getenv("BIG_DEAD_LETTER_QUEUE_URL"), res.DeadLetterQueueURL)
	if res.DeadLetterQueueURL == "" || res.TableName == "" {
		var err error
		if res, err = provision.Provision(ctx, cfg, provision.DefaultNames); err != nil {
			return nil, err
		}
		big, err := provision.Provision(ctx, cfg, provision.Names{Queue: provision.DefaultNames.Queue + "-big"})
		if err != nil {
			return nil, err
		}
		bigDLQ = cmp.Or(os.Getenv("BIG_DEAD_LETTER_QUEUE_URL"), big.DeadLetterQueueURL)
	}
	// The status function's environment is the table and the SDK's
	// variables alone; the dead-letter function's adds its own.
	env, err := rie.Env(ctx, rie.Status, res, cfg, endpoint)
	if err != nil {
		return nil, err
	}
	env = append(env,
		"RESULT_RETENTION="+task.DefaultRetention.String(),
		"DEAD_LETTER_QUEUE_URL="+res.DeadLetterQueueURL,
		"BIG_DEAD_LETTER_QUEUE_URL="+bigDLQ,
	)
	return rie.Start(ctx, rie.Function{Name: deadLetter, Bootstrap: bootstrap, RIE: rieBin, Env: env, Timeout: worker.DefaultTimeout, Stdout: os.Stderr})
}
