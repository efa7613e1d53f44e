package lambdainvoke_test

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/asyncprime/asyncprime/internal/awstest"
	"github.com/asyncprime/asyncprime/internal/dynamo"
	"github.com/asyncprime/asyncprime/internal/lambdainvoke"
	"github.com/asyncprime/asyncprime/internal/local"
	"github.com/asyncprime/asyncprime/internal/provision"
	"github.com/asyncprime/asyncprime/internal/rie"
	"github.com/asyncprime/asyncprime/internal/sqsqueue"
	"github.com/asyncprime/asyncprime/internal/task"
	"github.com/asyncprime/asyncprime/internal/testkit"
)

func TestMain(m *testing.M) { awstest.Main(m) }

const moduleRoot = "../.."

// workerBootstrap builds the worker function once for every test.
var workerBootstrap = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "lambdainvoke-")
	if err != nil {
		return "", err
	}
	return rie.Build(context.Background(), moduleRoot, dir, rie.Worker)
})

// fixture is the worker's bootstrap under the RIE, over the emulator's
// queue and table, with the Invoke API handler pointed at the RIE.
type fixture struct {
	in      *rie.Instance
	cfg     aws.Config
	res     provision.Resources
	queue   *sqsqueue.Queue
	store   *dynamo.Store
	handler *lambdainvoke.Handler
}

// start runs the worker under the RIE; edit changes its environment.
func start(t *testing.T, timeout time.Duration, edit func([]string) []string) *fixture {
	t.Helper()
	rieBin := awstest.RIE(t, moduleRoot)
	cfg, res := awstest.Provisioned(t)
	bootstrap, err := workerBootstrap()
	if err != nil {
		t.Fatal(err)
	}
	env, err := rie.Env(t.Context(), rie.Worker, res, cfg, awstest.Endpoint(cfg))
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		env = edit(env)
	}
	in, err := rie.Start(t.Context(), rie.Function{Name: "worker", Bootstrap: bootstrap, RIE: rieBin, Env: env, Timeout: timeout, Stdout: testkit.Output()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.Stop() })
	return &fixture{
		in:    in,
		cfg:   cfg,
		res:   res,
		queue: sqsqueue.New(sqs.NewFromConfig(cfg), res.QueueURL, sqsqueue.WithRegion(cfg.Region)),
		store: dynamo.New(dynamodb.NewFromConfig(cfg), res.TableName),
		handler: &lambdainvoke.Handler{
			Client:       lambdainvoke.NewClient(cfg, in.Endpoint()),
			FunctionName: "function", // the RIE's name for its one function
		},
	}
}

// submit records a pending task and queues its message, as the submit
// function does.
func (f *fixture) submit(t *testing.T, n string) task.Task {
	t.Helper()
	num, err := task.ParseNumber(n)
	if err != nil {
		t.Fatal(err)
	}
	tk, err := (&task.Submitter{Store: f.store, Queue: f.queue}).Submit(t.Context(), num)
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

// deliverOnce runs the poller, with the Invoke API handler, for exactly one
// batch, and returns what the invocation returned. The poller deletes the
// records that succeeded before it returns.
func (f *fixture) deliverOnce(t *testing.T, want int) (events.SQSEventResponse, error) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var resp events.SQSEventResponse
	var err error
	var got int
	p := &local.Poller{
		Queue: f.queue,
		Handler: func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
			got = len(ev.Records)
			resp, err = f.handler.Handle(ctx, ev)
			cancel() // one batch; the poller still settles it
			return resp, err
		},
		BatchSize: 10, WaitTime: time.Second, Concurrency: 1,
		FunctionTimeout: 30 * time.Second, // the RIE's own timeout acts first
	}
	p.Run(ctx)
	if got != want {
		t.Fatalf("the batch had %d records; want %d", got, want)
	}
	return resp, err
}

// left returns how many messages the queue still holds, visible or in
// flight: those the poller did not delete.
func (f *fixture) left(t *testing.T) int {
	t.Helper()
	out, err := sqs.NewFromConfig(f.cfg).GetQueueAttributes(t.Context(), &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(f.res.QueueURL),
		AttributeNames: []sqstypes.QueueAttributeName{
			sqstypes.QueueAttributeNameApproximateNumberOfMessages,
			sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible,
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, k := range []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages, sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible} {
		v, _ := strconv.Atoi(out.Attributes[string(k)])
		n += v
	}
	return n
}

// expect checks that the queue holds left messages (see f.left) and that
// each of tasks is in state want.
func (f *fixture) expect(t *testing.T, left int, want task.Status, tasks ...task.Task) {
	t.Helper()
	if n := f.left(t); n != left {
		t.Errorf("%d messages left; want %d", n, left)
	}
	for _, tk := range tasks {
		got, err := f.store.Get(t.Context(), tk.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != want {
			t.Errorf("task %s is %s; want %s", tk.ID, got.Status, want)
		}
	}
}

// TestInvokeAPIDelivery delivers batches through the Lambda Invoke API to
// the built worker bootstrap under the Runtime Interface Emulator, which
// serves the same API as sam local start-lambda, over the emulator's SQS
// and DynamoDB.
func TestInvokeAPIDelivery(t *testing.T) {
	t.Parallel()

	t.Run("success: every record done and deleted", func(t *testing.T) {
		t.Parallel()
		f := start(t, 10*time.Second, nil)
		a, b := f.submit(t, "11"), f.submit(t, "12")
		resp, err := f.deliverOnce(t, 2)
		if err != nil || len(resp.BatchItemFailures) != 0 {
			t.Fatalf("invocation = %+v, %v; want no failures", resp, err)
		}
		f.expect(t, 0, task.StatusSuccess, a, b)
	})

	t.Run("partial failure: only the poison record stays", func(t *testing.T) {
		t.Parallel()
		f := start(t, 10*time.Second, nil)
		good := f.submit(t, "13")
		poisonID, err := f.queue.Send(t.Context(), "not a task message")
		if err != nil {
			t.Fatal(err)
		}
		resp, err := f.deliverOnce(t, 2)
		if err != nil {
			t.Fatalf("invocation: %v", err)
		}
		var failed []string
		for _, fl := range resp.BatchItemFailures {
			failed = append(failed, fl.ItemIdentifier)
		}
		if !slices.Equal(failed, []string{poisonID}) {
			t.Errorf("batchItemFailures = %v; want only the poison record %s", failed, poisonID)
		}
		f.expect(t, 1, task.StatusSuccess, good) // the poison record stays
	})

	t.Run("function error: the whole batch stays", func(t *testing.T) {
		t.Parallel()
		// Without TABLE_NAME the function fails at init, on every
		// invocation; the RIE answers 502.
		f := start(t, 10*time.Second, func(env []string) []string {
			return slices.DeleteFunc(env, func(kv string) bool { return strings.HasPrefix(kv, "TABLE_NAME=") })
		})
		a, b := f.submit(t, "17"), f.submit(t, "19")
		_, err := f.deliverOnce(t, 2)
		if err == nil {
			t.Fatal("invocation succeeded; want an error")
		}
		f.expect(t, 2, task.StatusPending, a, b)
	})

	t.Run("timeout: the whole batch stays", func(t *testing.T) {
		t.Parallel()
		if runtime.GOOS != "linux" {
			t.Skip("finds the function's process through /proc")
		}
		f := start(t, time.Second, nil)
		// Start the function with an empty batch, then freeze it: the
		// next invocation runs into the function's 1 s timeout, which the
		// RIE enforces as Lambda does.
		if _, err := f.handler.Handle(t.Context(), events.SQSEvent{Records: []events.SQSMessage{}}); err != nil {
			t.Fatalf("first invocation: %v", err)
		}
		pid := child(t, f.in.Pid())
		if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { syscall.Kill(pid, syscall.SIGCONT) })
		a := f.submit(t, "23")
		_, err := f.deliverOnce(t, 1)
		if err == nil || !strings.Contains(err.Error(), "Task timed out") {
			t.Fatalf("invocation: %v; want the function's timeout", err)
		}
		f.expect(t, 1, task.StatusPending, a)
	})
}

// child returns the one child process of pid (Linux).
func child(t *testing.T, pid int) int {
	t.Helper()
	tasks, err := filepath.Glob("/proc/" + strconv.Itoa(pid) + "/task/*/children")
	if err != nil {
		t.Fatal(err)
	}
	var kids []int
	for _, p := range tasks {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		for _, f := range strings.Fields(string(b)) {
			if n, err := strconv.Atoi(f); err == nil {
				kids = append(kids, n)
			}
		}
	}
	if len(kids) != 1 {
		t.Fatalf("process %d has children %v; want one, the function", pid, kids)
	}
	return kids[0]
}
