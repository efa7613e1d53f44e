package local_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/asyncprime/asyncprime/internal/local"
	"github.com/asyncprime/asyncprime/internal/memory"
	"github.com/asyncprime/asyncprime/internal/queue"
	"github.com/asyncprime/asyncprime/internal/task"
)

// outageStore fails every Start and Finish while down. The outage ends
// when the reaper first tries to settle a dead-lettered task: the message
// has then run out of deliveries.
type outageStore struct {
	task.Store
	down atomic.Bool
}

var errOutage = errors.New("disk full")

func (s *outageStore) Start(ctx context.Context, id string, at time.Time) (task.Task, error) {
	if s.down.Load() {
		return task.Task{}, errOutage
	}
	return s.Store.Start(ctx, id, at)
}

func (s *outageStore) Finish(ctx context.Context, id string, out task.Outcome) error {
	if s.down.Load() {
		if out.Error == task.DeadLetteredError {
			s.down.Store(false)
		}
		return errOutage
	}
	return s.Store.Finish(ctx, id, out)
}

// TestStoreOutageLongerThanTheDeliveries: a task whose message is
// dead-lettered because the store was down for all its deliveries ends
// FAILURE with the reason once the store is back, not PENDING for ever.
func TestStoreOutageLongerThanTheDeliveries(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.MaxReceiveCount = 2
	cfg.WorkerTimeout = 3 * time.Second // over worker.DefaultReserve; store retries stop 1 s before
	// Longer than an invocation, so that no second copy of the message is
	// in flight when the first is dead-lettered (it would then finish the
	// task once the store is back, which is right, but not this test).
	cfg.VisibilityTimeout = 2 * cfg.WorkerTimeout
	dlq := memory.NewQueue(memory.QueueOptions{Name: "dlq", VisibilityTimeout: 100 * time.Millisecond})
	q := memory.NewQueue(memory.QueueOptions{VisibilityTimeout: cfg.VisibilityTimeout, DeadLetter: dlq, MaxReceiveCount: cfg.MaxReceiveCount})
	store := &outageStore{Store: memory.NewStore()}
	store.down.Store(true)
	sys := local.NewBackendSystem(cfg, &local.Backend{Store: store, Queue: q, DeadLetters: []queue.Queue{dlq}}, quiet())
	srv := httptest.NewServer(sys.API)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		polled := make(chan struct{}, len(sys.Reapers)+1)
		for _, p := range append(sys.Reapers, sys.Poller) {
			go func() { p.Run(ctx); polled <- struct{}{} }()
		}
		for range len(sys.Reapers) + 1 {
			<-polled
		}
	}()
	t.Cleanup(func() { srv.Close(); cancel(); <-done })

	id := submit(t, srv.URL, `{"number": 11}`)
	got := waitFinal(t, srv.URL, id)
	if got.Status != task.StatusFailure || !strings.Contains(got.Error, "dead-lettered") {
		t.Errorf("task = %s %q; want FAILURE saying it was dead-lettered", got.Status, got.Error)
	}
}
