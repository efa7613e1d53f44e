package local_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/asyncprime/asyncprime/internal/awstest"
	"github.com/asyncprime/asyncprime/internal/bolt"
	"github.com/asyncprime/asyncprime/internal/dynamo"
	"github.com/asyncprime/asyncprime/internal/local"
	"github.com/asyncprime/asyncprime/internal/memory"
	"github.com/asyncprime/asyncprime/internal/provision"
	"github.com/asyncprime/asyncprime/internal/queue"
	"github.com/asyncprime/asyncprime/internal/sqsqueue"
	"github.com/asyncprime/asyncprime/internal/task"
	"github.com/asyncprime/asyncprime/internal/worker"
)

// backend is a store, a queue and its dead-letter queue for one test.
type backend struct {
	store    task.Store
	queue    queue.Queue
	deadLtrs queue.Queue
}

// backends returns each kind of backend, set up with cfg's visibility
// timeout and max receive count.
var backends = []struct {
	name string
	open func(t *testing.T, cfg local.Config) backend
}{
	{"memory", func(t *testing.T, cfg local.Config) backend {
		dlq := memory.NewQueue(memory.QueueOptions{Name: "dlq"})
		q := memory.NewQueue(memory.QueueOptions{VisibilityTimeout: cfg.VisibilityTimeout, DeadLetter: dlq, MaxReceiveCount: cfg.MaxReceiveCount})
		return backend{memory.NewStore(), q, dlq}
	}},
	{"bolt", func(t *testing.T, cfg local.Config) backend {
		db, err := bolt.Open(filepath.Join(t.TempDir(), "db"), bolt.Options{
			VisibilityTimeout: cfg.VisibilityTimeout, MaxReceiveCount: cfg.MaxReceiveCount, Logger: quiet()})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return backend{db.Store(), db.Queue(), db.DLQ()}
	}},
	{"aws", func(t *testing.T, cfg local.Config) backend {
		awsCfg, res := awstest.ProvisionedWith(t, provision.Settings{VisibilityTimeout: cfg.VisibilityTimeout, MaxReceiveCount: cfg.MaxReceiveCount}, awstest.UniqueNames())
		client := sqs.NewFromConfig(awsCfg)
		return backend{
			// moto lets concurrent conditional writes to one item both pass (16 racing UpdateItems: 32 of 200 rounds let 2+ through), so writes go one at a time.
			dynamo.New(awstest.SerialWrites(dynamodb.NewFromConfig(awsCfg)), res.TableName),
			sqsqueue.New(client, res.QueueURL, sqsqueue.WithRegion(awsCfg.Region)),
			sqsqueue.New(client, res.DeadLetterQueueURL, sqsqueue.WithRegion(awsCfg.Region)),
		}
	}},
}

// run starts the system on b and returns its base URL, and a function that
// stops it once the batches in flight are done (t's cleanup calls it too).
func run(t *testing.T, cfg local.Config, b backend, setup func(*local.System)) (string, func()) {
	t.Helper()
	sys := local.NewSystem(cfg, &local.Backend{Store: b.store, Queue: b.queue}, quiet())
	sys.Poller.WaitTime = time.Second
	if setup != nil {
		setup(sys)
	}
	srv := httptest.NewServer(sys.API)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { sys.Poller.Run(ctx); close(done) }()
	stop := sync.OnceFunc(func() { srv.Close(); cancel(); <-done })
	t.Cleanup(stop)
	return srv.URL, stop
}

// workerWith returns the worker's handler around p, for a test to put in
// place of the system's.
func workerWith(p *task.Processor) local.SQSFunc {
	p.Logger = quiet()
	return (&worker.Handler{Processor: p, Logger: p.Logger}).Handle
}

// TestPoisonMessages: an undecodable body and a task whose check fails on
// every attempt both end in the dead-letter queue; the task ends FAILURE with
// its reason, recorded on the last allowed attempt; the rest still succeeds.
func TestPoisonMessages(t *testing.T) {
	t.Parallel()
	for _, bk := range backends {
		t.Run(bk.name, func(t *testing.T) {
			t.Parallel()
			cfg := testConfig()
			cfg.VisibilityTimeout, cfg.MaxReceiveCount = time.Second, 2
			b := bk.open(t, cfg)
			base, _ := run(t, cfg, b, func(sys *local.System) {
				sys.Poller.Handler = workerWith(&task.Processor{
					Store:           sys.Store,
					MaxReceiveCount: cfg.MaxReceiveCount,
					Check: func(ctx context.Context, n task.Number) (bool, error) {
						if n == "13" {
							return false, errors.New("the checker is broken for 13")
						}
						return task.CheckPrime(ctx, n)
					},
				})
			})
			if _, err := b.queue.Send(t.Context(), "not json"); err != nil {
				t.Fatal(err)
			}
			bad := submit(t, base, `{"number": 13}`)
			good := submit(t, base, `{"number": 17}`)

			if s := waitFinal(t, base, good); s.Status != task.StatusSuccess || !s.Result.IsPrime {
				t.Errorf("good task = %+v; want SUCCESS, prime", s)
			}
			s := waitFinal(t, base, bad)
			if s.Status != task.StatusFailure || !strings.Contains(s.Error, "the checker is broken for 13") || s.Attempts != 0 {
				t.Errorf("poison task = %s %q after %d attempts; want FAILURE with the reason after 0 (a quick check records no STARTED)", s.Status, s.Error, s.Attempts)
			}
			bodies := drain(t, b.deadLtrs, 2)
			if want := []string{task.MessageFor(task.Task{ID: bad, Number: "13"}), "not json"}; !sameSet(bodies, want) {
				t.Errorf("dead letters = %q; want %q", bodies, want)
			}
		})
	}
}

// TestDuplicateDeliveries delivers every message twice, concurrently to two
// invocations: each task still gets exactly one, correct result.
func TestDuplicateDeliveries(t *testing.T) {
	t.Parallel()
	for _, bk := range backends {
		t.Run(bk.name, func(t *testing.T) {
			t.Parallel()
			cfg := testConfig()
			b := bk.open(t, cfg)
			var mu sync.Mutex
			finishes := map[string]int{}
			base, stop := run(t, cfg, b, func(sys *local.System) {
				sys.Poller.Queue = &duplicatingSource{Source: b.queue}
				sys.Poller.Concurrency = 4
				sys.Poller.Handler = workerWith(&task.Processor{Store: &countingStore{Transitioner: sys.Store, finished: func(id string) {
					mu.Lock()
					finishes[id]++
					mu.Unlock()
				}}})
			})
			ids := map[string]string{}
			for _, n := range []string{"2", "9", "97", "561", "7919"} {
				ids[submit(t, base, fmt.Sprintf(`{"number": %s}`, n))] = n
			}
			for id, n := range ids {
				s := waitFinal(t, base, id)
				want, _ := task.CheckPrime(t.Context(), task.Number(n))
				if s.Status != task.StatusSuccess || s.Result.IsPrime != want {
					t.Errorf("%s = %+v; want SUCCESS is_prime=%v", n, s, want)
				}
			}
			// A Finish is visible to readers a moment before its caller
			// returns, and a duplicate may still be at work: stop the
			// system, which waits for the batches in flight.
			stop()
			mu.Lock()
			defer mu.Unlock()
			for id, n := range ids {
				if finishes[id] != 1 {
					t.Errorf("task %s (%s) was finished %d times; want exactly 1", id, n, finishes[id])
				}
			}
		})
	}
}

// duplicatingSource hands every received message out twice: once in the
// batch it came in, and again to the next receiver, as SQS may.
type duplicatingSource struct {
	local.Source
	mu      sync.Mutex
	pending []events.SQSMessage
}

func (d *duplicatingSource) Receive(ctx context.Context, max int, wait time.Duration) ([]events.SQSMessage, error) {
	d.mu.Lock()
	if len(d.pending) > 0 {
		out := d.pending
		d.pending = nil
		d.mu.Unlock()
		return out, nil
	}
	d.mu.Unlock()
	msgs, err := d.Source.Receive(ctx, max, wait)
	d.mu.Lock()
	d.pending = append(d.pending, msgs...)
	d.mu.Unlock()
	return msgs, err
}

// countingStore reports each Finish that was applied.

type countingStore struct {
	task.Transitioner
	finished func(id string)
}

func (c *countingStore) Finish(ctx context.Context, id string, out task.Outcome) error {
	err := c.Transitioner.Finish(ctx, id, out)
	if err == nil {
		c.finished(id)
	}
	return err
}

// drain receives until n messages arrived (deleting them) and returns their bodies.
func drain(t *testing.T, q queue.Queue, n int) []string {
	t.Helper()
	var bodies []string
	deadline := time.Now().Add(30 * time.Second)
	for len(bodies) < n && time.Now().Before(deadline) {
		msgs, err := q.Receive(t.Context(), 10, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs {
			bodies = append(bodies, m.Body)
			q.Delete(t.Context(), m.ReceiptHandle)
		}
	}
	return bodies
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	seen := map[string]int{}
	for _, s := range a {
		seen[s]++
	}
	for _, s := range b {
		seen[s]--
	}
	for _, v := range seen {
		if v != 0 {
			return false
		}
	}
	return true
}
