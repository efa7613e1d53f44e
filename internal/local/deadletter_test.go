package local_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/asyncprime/asyncprime/internal/api"
	"github.com/asyncprime/asyncprime/internal/awstest"
	"github.com/asyncprime/asyncprime/internal/console"
	"github.com/asyncprime/asyncprime/internal/deadletter"
	"github.com/asyncprime/asyncprime/internal/dynamo"
	"github.com/asyncprime/asyncprime/internal/local"
	"github.com/asyncprime/asyncprime/internal/provision"
	"github.com/asyncprime/asyncprime/internal/sqsqueue"
	"github.com/asyncprime/asyncprime/internal/task"
	"github.com/asyncprime/asyncprime/internal/testkit"
)

// TestDeadLettersStayAndTheirTasksFail: a task whose every delivery fails
// ends FAILURE with the dead-letter reason, and its message stays in the
// dead letters the console lists; a redrive from the console reopens the
// task and, the fault gone, it then succeeds; a poison body stays in the
// dead-letter queue through settle rounds. On every backend.
func TestDeadLettersStayAndTheirTasksFail(t *testing.T) {
	t.Parallel()
	backends := []struct {
		name string
		open func(t *testing.T, cfg local.Config) *local.Backend
	}{
		{"memory", openLocal},
		{"bolt", openLocal},
		{"aws", func(t *testing.T, cfg local.Config) *local.Backend {
			awsCfg, res := awstest.ProvisionedWith(t, provision.Settings{VisibilityTimeout: cfg.VisibilityTimeout, MaxReceiveCount: cfg.MaxReceiveCount}, awstest.UniqueNames())
			client := sqs.NewFromConfig(awsCfg)
			return &local.Backend{
				Store: dynamo.New(dynamodb.NewFromConfig(awsCfg), res.TableName),
				Queue: sqsqueue.New(client, res.QueueURL, sqsqueue.WithRegion(awsCfg.Region)),
				// As the dead-letter function peeks: by the DLQ's URL.
				DeadLetters: []deadletter.Peeker{deadletter.PeekFunc(sqsqueue.New(client, res.DeadLetterQueueURL, sqsqueue.WithRegion(awsCfg.Region)).Peek)},
			}
		}},
	}
	for _, bk := range backends {
		t.Run(bk.name, func(t *testing.T) {
			t.Parallel()
			cfg := testConfig()
			cfg.Backend, cfg.DataDir = bk.name, t.TempDir()
			cfg.MaxReceiveCount = 2
			cfg.VisibilityTimeout = 50 * time.Millisecond
			if bk.name == "aws" {
				cfg.VisibilityTimeout = time.Second // SQS counts whole seconds
			}
			b := bk.open(t, cfg)
			sys := local.NewSystem(cfg, b, quiet())
			if len(sys.Settlers) == 0 {
				t.Fatal("no settler on the dead-letter queue")
			}
			// moto has no StartMessageMoveTask: the console's redrive
			// moves the messages before it answers.
			sys.Settlers[0].Grace = 0
			// While fault is set, every delivery fails before the store
			// is touched, as if the worker were stopped each time.
			var fault atomic.Bool
			fault.Store(true)
			for _, p := range []*local.Poller{sys.Poller, sys.BigPoller} {
				if p == nil {
					continue
				}
				p.WaitTime = 100 * time.Millisecond
				real := p.Handler
				p.Handler = func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
					if !fault.Load() {
						return real(ctx, ev)
					}
					var resp events.SQSEventResponse
					for _, r := range ev.Records {
						resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: r.MessageId})
					}
					return resp, nil
				}
			}
			srv := httptest.NewServer(sys.Handler())
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() {
				defer close(done)
				polled := make(chan struct{})
				pollers := slices.DeleteFunc([]*local.Poller{sys.Poller, sys.BigPoller}, func(p *local.Poller) bool { return p == nil })
				for _, p := range pollers {
					go func() { p.Run(ctx); polled <- struct{}{} }()
				}
				for range pollers {
					<-polled
				}
			}()
			t.Cleanup(func() { srv.Close(); cancel(); <-done; b.Close() })
			settle := func() deadletter.Round {
				t.Helper()
				r, err := sys.Settlers[0].Settle(t.Context())
				if err != nil {
					t.Fatalf("Settle = %v", err)
				}
				return r
			}

			id := submit(t, srv.URL, `{"number": 11}`)
			const poison = "not a task message"
			if _, err := b.Queue.Send(t.Context(), poison); err != nil {
				t.Fatal(err)
			}
			testkit.Eventually(t, 60*time.Second, func() bool {
				settle()
				got := getTask(t, srv.URL, id)
				return got.Status == task.StatusFailure && strings.HasPrefix(got.Error, task.DeadLetteredPrefix)
			}, "task %s FAILURE with the dead-letter reason", id)

			// Its message, and the poison one, are still the operator's.
			testkit.Eventually(t, 30*time.Second, func() bool {
				dl := deadLetters(t, srv.URL)
				return slices.ContainsFunc(dl, func(d console.DeadLetter) bool { return d.TaskID == id }) &&
					slices.ContainsFunc(dl, func(d console.DeadLetter) bool { return d.Body == poison })
			}, "the console lists the task's message and the poison one among the dead letters")
			if r := settle(); r.Settled != 0 || r.Poison != 1 {
				t.Errorf("another round = %+v; want nothing settled, the poison message still there", r)
			}

			// The fault gone, a redrive runs the task again.
			fault.Store(false)
			res := redrive(t, srv.URL)
			if res.Reopened == nil || *res.Reopened != 1 {
				t.Errorf("redrive = %+v; want 1 task reopened", res)
			}
			testkit.Eventually(t, 60*time.Second, func() bool {
				got := getTask(t, srv.URL, id)
				return got.Status == task.StatusSuccess && got.Result != nil && got.Result.IsPrime
			}, "task %s SUCCESS after the redrive", id)

			// The poison body cannot run: it ends in the dead letters again,
			// and settle rounds leave it there.
			testkit.Eventually(t, 60*time.Second, func() bool {
				return slices.ContainsFunc(deadLetters(t, srv.URL), func(d console.DeadLetter) bool { return d.Body == poison })
			}, "the poison message back among the dead letters")
			settle()
			settle()
			if !slices.ContainsFunc(deadLetters(t, srv.URL), func(d console.DeadLetter) bool { return d.Body == poison }) {
				t.Error("settle rounds removed the poison message from the dead letters")
			}
			if got := getTask(t, srv.URL, id); got.Status != task.StatusSuccess {
				t.Errorf("after more rounds the task is %s; want SUCCESS", got.Status)
			}
		})
	}
}

func openLocal(t *testing.T, cfg local.Config) *local.Backend {
	b, err := local.OpenBackend(t.Context(), cfg, quiet())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func getTask(t *testing.T, base, id string) api.StatusResponse {
	t.Helper()
	var s api.StatusResponse
	getJSON(t, base+"/"+id, &s)
	return s
}

func deadLetters(t *testing.T, base string) []console.DeadLetter {
	t.Helper()
	var dl struct{ Messages []console.DeadLetter }
	getJSON(t, base+"/console/api/dead-letters?max=100", &dl)
	return dl.Messages
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s = %d; want 200", url, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}

func redrive(t *testing.T, base string) console.ActionResponse {
	t.Helper()
	var tok console.TokenResponse
	getJSON(t, base+"/console/api/token", &tok)
	body, _ := json.Marshal(console.ActionRequest{Token: tok.Token})
	resp, err := http.Post(base+"/console/api/actions/redrive", "application/json", strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var res console.ActionResponse
	if err := json.NewDecoder(resp.Body).Decode(&res); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("redrive = %d %+v, %v; want 200", resp.StatusCode, res, err)
	}
	return res
}
