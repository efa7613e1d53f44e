package main_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/asyncprime/asyncprime/internal/awstest"
	"github.com/asyncprime/asyncprime/internal/provision"
	"github.com/asyncprime/asyncprime/internal/rie"
)

func TestMain(m *testing.M) { awstest.Main(m) }

// TestInvoke runs what `make invoke FN=...` runs, for each function with its
// sample event, and checks the responses the README promises.
func TestInvoke(t *testing.T) {
	rieBin, err := filepath.Abs(awstest.RIE(t, "../.."))
	if err != nil {
		t.Fatal(err)
	}
	cfg := awstest.Config(t)
	endpoint := awstest.Endpoint(cfg)
	// A dead letter naming a task that does not exist, in the dead-letter
	// queue invoke -fn deadletter peeks at (the default names).
	res, err := provision.Provision(t.Context(), cfg, provision.DefaultNames)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sqs.NewFromConfig(cfg).SendMessage(t.Context(), &sqs.SendMessageInput{
		QueueUrl:    aws.String(res.DeadLetterQueueURL),
		MessageBody: aws.String(`{"task_id":"01937a4e-5b6c-7d8e-9f01-23456789abcd"}`),
	}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	invoke := filepath.Join(dir, "invoke")
	if out, err := exec.Command("go", "build", "-o", invoke, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	for _, fn := range []string{rie.Submit, rie.Status, rie.Worker, "deadletter"} {
		bootstrap, err := rie.Build(t.Context(), "../..", dir, fn)
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(invoke, "-fn", fn, "-bootstrap", bootstrap, "-rie", rieBin)
		cmd.Dir = "../.." // where events/ is
		cmd.Env = append(os.Environ(), "AWS_ENDPOINT_URL="+endpoint, "QUEUE_URL=", "TABLE_NAME=")
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("invoke -fn %s: %v\n%s", fn, err, stderr.String())
		}
		switch fn {
		case rie.Submit, rie.Status:
			var resp events.APIGatewayV2HTTPResponse
			if err := json.Unmarshal(out, &resp); err != nil {
				t.Fatalf("invoke -fn %s printed %s: %v", fn, out, err)
			}
			ok := resp.StatusCode == 202 && strings.Contains(resp.Body, `"task_id"`)
			if fn == rie.Status {
				ok = resp.StatusCode == 200 || resp.StatusCode == 404
			}
			if !ok {
				t.Errorf("invoke -fn %s = %d %s", fn, resp.StatusCode, resp.Body)
			}
		case rie.Worker:
			var resp events.SQSEventResponse
			if err := json.Unmarshal(out, &resp); err != nil {
				t.Fatalf("invoke -fn worker printed %s: %v", out, err)
			}
			if len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != "00000000-0bad-4bad-8bad-00000000dead" {
				t.Errorf("invoke -fn worker = %+v; want only the poison record", resp.BatchItemFailures)
			}
		case "deadletter":
			// The handler returns nothing: null. Its logs say what each
			// round found: the dead letter above, whose task is unknown,
			// and a round on the big-tasks queue's dead-letter queue.
			if got := strings.TrimSpace(string(out)); got != "null" {
				t.Errorf("invoke -fn deadletter printed %s; want null", got)
			}
			rounds := settleRounds(t, stderr.String())
			if r, ok := rounds["tasks-dlq"]; !ok || r.Peeked < 1 || r.Unknown < 1 {
				t.Errorf("settle round of tasks-dlq: %+v (logged: %v); want the dead letter sent, peeked and its task unknown\n%s", r, ok, stderr.String())
			}
			if _, ok := rounds["tasks-big-dlq"]; !ok {
				t.Errorf("no settle round of tasks-big-dlq; want one (BIG_DEAD_LETTER_QUEUE_URL)\n%s", stderr.String())
			}
		}
	}
}

// settleRound is what the dead-letter function logs of one round.
type settleRound struct {
	Queue   string `json:"queue"`
	Peeked  int    `json:"peeked"`
	Unknown int    `json:"unknown_task"`
}

// settleRounds returns, by queue, the "settle round" lines of the
// function's JSON logs.
func settleRounds(t *testing.T, logs string) map[string]settleRound {
	t.Helper()
	rounds := map[string]settleRound{}
	for line := range strings.Lines(logs) {
		var r struct {
			Message string `json:"message"`
			settleRound
		}
		if json.Unmarshal([]byte(line), &r) == nil && r.Message == "settle round" {
			rounds[r.Queue] = r.settleRound
		}
	}
	return rounds
}
