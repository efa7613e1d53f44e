// Command invoke runs one Lambda function's built bootstrap under the AWS
// Lambda Runtime Interface Emulator, as `sam local invoke` does inside its
// container, against SQS and DynamoDB on AWS_ENDPOINT_URL or, if that is
// unset, on a moto server it starts. It creates the queue and table with the
// template's settings unless QUEUE_URL and TABLE_NAME are given, sends the
// event, and prints the function's response.
//
//	invoke -fn submit [-event events/submit.json] [-bootstrap bin/host/submit/bootstrap]
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"

	"github.com/asyncprime/asyncprime/internal/cmdmain"
	"github.com/asyncprime/asyncprime/internal/emulator"
	"github.com/asyncprime/asyncprime/internal/provision"
	"github.com/asyncprime/asyncprime/internal/rie"
)

func main() { cmdmain.Run("invoke", run) }

func run(ctx context.Context) error {
	fn := flag.String("fn", "", "function to run: submit, worker or status")
	eventPath := flag.String("event", "", "event file (default events/<fn>.json)")
	bootstrap := flag.String("bootstrap", "", "built bootstrap for this host (default bin/host/<fn>/bootstrap)")
	rieBin := flag.String("rie", "", "aws-lambda-rie binary (default: $RIE_BIN, bin/aws-lambda-rie, or PATH)")
	flag.Parse()
	if *fn != rie.Submit && *fn != rie.Worker && *fn != rie.Status {
		return fmt.Errorf("-fn must be submit, worker or status, got %q", *fn)
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
	res := provision.Resources{QueueURL: os.Getenv("QUEUE_URL"), TableName: os.Getenv("TABLE_NAME")}
	if res.QueueURL == "" || res.TableName == "" {
		if res, err = provision.Provision(ctx, cfg, provision.DefaultNames); err != nil {
			return err
		}
	}
	in, err := rie.StartFunction(ctx, *rieBin, *bootstrap, *fn, res, cfg, endpoint, rie.TemplateTimeout(*fn), os.Stderr)
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
