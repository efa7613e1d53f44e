package console_test

import (
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/asyncprime/asyncprime/internal/awstest"
	"github.com/asyncprime/asyncprime/internal/console"
	"github.com/asyncprime/asyncprime/internal/dynamo"
	"github.com/asyncprime/asyncprime/internal/provision"
	"github.com/asyncprime/asyncprime/internal/sqsqueue"
	"github.com/asyncprime/asyncprime/internal/task"
)

func TestMain(m *testing.M) { awstest.Main(m) }

// TestConsoleOnAWSAPIs runs the console on SQS and DynamoDB (the emulator):
// counts from GetQueueAttributes, the dead letters, a redrive, a retry.
func TestConsoleOnAWSAPIs(t *testing.T) {
	t.Parallel()
	cfg, res := awstest.ProvisionedWith(t, provision.Settings{VisibilityTimeout: time.Second, MaxReceiveCount: 1}, awstest.UniqueNames())
	q := sqsqueue.New(sqs.NewFromConfig(cfg), res.QueueURL, sqsqueue.WithRegion(cfg.Region))
	store := dynamo.New(dynamodb.NewFromConfig(cfg), res.TableName)
	srv := httptest.NewServer(console.New(console.Config{Backend: "aws", Store: store, Queue: q, Logger: slog.New(slog.DiscardHandler)}))
	t.Cleanup(srv.Close)
	f := fixture{srv: srv}
	ctx := t.Context()

	var h console.Health
	if got, _ := f.do(t, "GET", "/health", "", nil, &h); got != 200 {
		t.Fatalf("GET /health = %d %+v; want 200", got, h)
	}

	// A poison message, received until SQS moves it to the DLQ.
	if _, err := q.Send(ctx, "not a task"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := q.Receive(ctx, 10, time.Second); err != nil {
			t.Fatal(err)
		}
		var s console.Stats
		f.do(t, "GET", "/console/api/stats", "", nil, &s)
		if s.DeadLetters != nil && s.DeadLetters.Visible == 1 {
			if s.Queue == nil || s.Queue.OldestAgeSeconds != nil || len(s.Errors) != 0 {
				t.Errorf("stats = queue %+v, errors %v; want counts without an age (SQS does not say), no error", s.Queue, s.Errors)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the poison message never reached the DLQ; stats %+v", s.DeadLetters)
		}
	}
	var dl struct{ Messages []console.DeadLetter }
	if f.do(t, "GET", "/console/api/dead-letters", "", nil, &dl); len(dl.Messages) != 1 || dl.Messages[0].Body != "not a task" {
		t.Fatalf("dead letters %+v; want the poison message", dl.Messages)
	}
	var act console.ActionResponse
	if got, _ := f.do(t, "POST", "/console/api/actions/redrive", `{"token":"`+f.token(t)+`"}`, nil, &act); got != 200 || act.Moved == nil || *act.Moved != 1 {
		t.Fatalf("redrive = %d %+v; want 200 and 1 moved", got, act)
	}
	if msgs, err := q.Receive(ctx, 10, 5*time.Second); err != nil || len(msgs) != 1 || msgs[0].Body != "not a task" {
		t.Fatalf("after redrive, Receive = %v, %v; want the poison message back", msgs, err)
	}

	// Retry of a FAILURE task in DynamoDB.
	now := time.Now()
	tk := task.Task{ID: task.NewID(), Status: task.StatusFailure, Number: "11", Error: "boom", Attempts: 1, CreatedAt: now, FinishedAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := store.Create(ctx, tk); err != nil {
		t.Fatal(err)
	}
	act = console.ActionResponse{}
	if got, _ := f.do(t, "POST", "/console/api/actions/retry", `{"token":"`+f.token(t)+`","task_id":"`+tk.ID+`"}`, nil, &act); got != 200 || act.Task == nil || act.Task.Status != task.StatusPending {
		t.Fatalf("retry = %d %+v; want 200 and the task PENDING", got, act)
	}
}
