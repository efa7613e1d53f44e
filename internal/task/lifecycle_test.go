package task_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"runtime"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/asyncprime/asyncprime/internal/memory"
	"github.com/asyncprime/asyncprime/internal/task"
)

// fakeStore wraps a real store; a non-nil ...Func overrides that call.
type fakeStore struct {
	task.Store
	createFunc  func(ctx context.Context, t task.Task) error
	abandonFunc func(ctx context.Context, t task.Task) error
	finishFunc  func(ctx context.Context, id string, out task.Outcome) error
	startFunc   func(ctx context.Context, id string, at time.Time) (task.Task, error)
}

func (f *fakeStore) Start(ctx context.Context, id string, at time.Time) (task.Task, error) {
	if f.startFunc != nil {
		return f.startFunc(ctx, id, at)
	}
	return f.Store.Start(ctx, id, at)
}

func (f *fakeStore) Create(ctx context.Context, t task.Task) error {
	if f.createFunc != nil {
		return f.createFunc(ctx, t)
	}
	return f.Store.Create(ctx, t)
}

func (f *fakeStore) Abandon(ctx context.Context, t task.Task) error {
	if f.abandonFunc != nil {
		return f.abandonFunc(ctx, t)
	}
	return f.Store.Abandon(ctx, t)
}

func (f *fakeStore) Finish(ctx context.Context, id string, out task.Outcome) error {
	if f.finishFunc != nil {
		return f.finishFunc(ctx, id, out)
	}
	return f.Store.Finish(ctx, id, out)
}

// fakeQueue records sent bodies; sendFunc overrides Send.
type fakeQueue struct {
	mu       sync.Mutex
	sent     []string
	sendFunc func(ctx context.Context, body string) (string, error)
}

func (q *fakeQueue) Send(ctx context.Context, body string) (string, error) {
	if q.sendFunc != nil {
		return q.sendFunc(ctx, body)
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	q.sent = append(q.sent, body)
	return "m1", nil
}

var t0 = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

func clock() func() time.Time { return func() time.Time { return t0 } }

func TestSubmitRecordsBeforeQueueing(t *testing.T) {
	t.Parallel()
	store := memory.NewStore()
	var q fakeQueue
	q.sendFunc = func(ctx context.Context, body string) (string, error) {
		// The record must exist, PENDING, by the time the message is sent.
		m, err := task.DecodeMessage(body)
		if err != nil {
			t.Fatalf("sent body %q does not decode: %v", body, err)
		}
		got, err := store.Get(ctx, m.TaskID)
		if err != nil || got.Status != task.StatusPending {
			t.Errorf("at send, task is %v, %v; want PENDING", got.Status, err)
		}
		return "m1", nil
	}
	s := &task.Submitter{Store: store, Queue: &q, Now: clock(), Retention: time.Hour}
	tk, err := s.Submit(t.Context(), "11")
	if err != nil {
		t.Fatalf("Submit = %v; want nil", err)
	}
	if !task.ValidID(tk.ID) || tk.Status != task.StatusPending || tk.Number != "11" ||
		!tk.CreatedAt.Equal(t0) || !tk.ExpiresAt.Equal(t0.Add(time.Hour)) {
		t.Errorf("Submit = %+v; want a PENDING task for 11 created now, expiring in an hour", tk)
	}
}

func TestSubmitFailures(t *testing.T) {
	t.Parallel()
	down := errors.New("connection refused")
	tests := []struct {
		name       string
		createErr  error
		sendErr    error
		abandonErr error
		wantTasks  int
		wantStatus task.Status // of the task left behind, if any
	}{
		// The create may land after its request gave up: the roll-back
		// leaves a tombstone that it then finds.
		{name: "create fails: tombstone recorded", createErr: down, wantTasks: 1, wantStatus: task.StatusFailure},
		{name: "create and roll-back fail: nothing recorded", createErr: down, abandonErr: down, wantTasks: 0},
		// A store sure that it wrote nothing (a full disk) is not asked
		// to roll back: no tombstone.
		{name: "create refused, nothing written: no roll-back", createErr: fmt.Errorf("disk full: %w", task.ErrNotWritten), wantTasks: 0},
		{name: "queue down: record abandoned", sendErr: down, wantTasks: 1, wantStatus: task.StatusFailure},
		{name: "queue and roll-back down", sendErr: down, abandonErr: down, wantTasks: 1, wantStatus: task.StatusPending},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			mem := memory.NewStore()
			store := &fakeStore{Store: mem}
			if tt.createErr != nil {
				store.createFunc = func(context.Context, task.Task) error { return tt.createErr }
			}
			if tt.abandonErr != nil {
				store.abandonFunc = func(context.Context, task.Task) error { return tt.abandonErr }
			}
			q := &fakeQueue{}
			if tt.sendErr != nil {
				q.sendFunc = func(context.Context, string) (string, error) { return "", tt.sendErr }
			}
			s := &task.Submitter{Store: store, Queue: q, Now: clock(), AbandonTimeout: 200 * time.Millisecond}
			_, err := s.Submit(t.Context(), "11")
			if !errors.Is(err, task.ErrUnavailable) {
				t.Fatalf("Submit = %v; want ErrUnavailable", err)
			}
			if got := mem.Len(); got != tt.wantTasks {
				t.Fatalf("store holds %d tasks; want %d", got, tt.wantTasks)
			}
			if tt.wantTasks == 0 {
				return
			}
			ids := mem.IDs()
			if len(ids) != 1 {
				t.Fatalf("store holds %d tasks; want 1", len(ids))
			}
			id := ids[0]
			got, _ := mem.Get(t.Context(), id)
			if got.Status != tt.wantStatus {
				t.Errorf("task left as %s; want %s", got.Status, tt.wantStatus)
			}
		})
	}
}

func TestSubmitAbandonRetriesUntilTheStoreAnswers(t *testing.T) {
	t.Parallel()
	mem := memory.NewStore()
	calls := 0
	store := &fakeStore{Store: mem}
	store.abandonFunc = func(ctx context.Context, tk task.Task) error {
		calls++
		if calls < 3 {
			return errors.New("connection refused")
		}
		return mem.Abandon(ctx, tk)
	}
	q := &fakeQueue{sendFunc: func(context.Context, string) (string, error) { return "", errors.New("timeout") }}
	s := &task.Submitter{Store: store, Queue: q, Now: clock()}
	if _, err := s.Submit(t.Context(), "11"); !errors.Is(err, task.ErrUnavailable) {
		t.Fatalf("Submit = %v; want ErrUnavailable", err)
	}
	ids := mem.IDs()
	got, _ := mem.Get(t.Context(), ids[0])
	if calls != 3 || got.Status != task.StatusFailure {
		t.Errorf("after %d Abandon calls the task is %s; want 3 calls and FAILURE", calls, got.Status)
	}
}

func newProcessor(store task.Store) *task.Processor {
	return &task.Processor{Store: store, Now: clock(), MaxReceiveCount: 3}
}

func submitted(t *testing.T, store task.Store, n task.Number) string {
	t.Helper()
	tk := task.Task{ID: task.NewID(), Status: task.StatusPending, Number: n, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
	if err := store.Create(t.Context(), tk); err != nil {
		t.Fatal(err)
	}
	return tk.ID
}

// assertPrime checks that task id ended SUCCESS, prime.
func assertPrime(t *testing.T, store task.Store, id string) {
	t.Helper()
	if got, _ := store.Get(t.Context(), id); got.Status != task.StatusSuccess || !got.IsPrime {
		t.Errorf("task = %s prime=%v; want SUCCESS prime=true", got.Status, got.IsPrime)
	}
}

func TestProcess(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		n           task.Number
		wantPrime   bool
		wantStatus  task.Status
		wantErr     bool
		wantPoison  bool
		check       task.Checker
		receive     int
		wantErrText string
	}{
		{name: "prime", n: "11", wantPrime: true, wantStatus: task.StatusSuccess, receive: 1},
		{name: "composite the tutorial calls prime", n: "49", wantStatus: task.StatusSuccess, receive: 1},
		{name: "negative", n: "-7", wantStatus: task.StatusSuccess, receive: 1},
		{name: "2^61-1", n: "2305843009213693951", wantPrime: true, wantStatus: task.StatusSuccess, receive: 1},
		{name: "2^127-1", n: "170141183460469231731687303715884105727", wantPrime: true, wantStatus: task.StatusSuccess, receive: 1},
		{name: "failing check retries", n: "11", check: failingCheck, receive: 1, wantStatus: task.StatusStarted, wantErr: true},
		{name: "failing check on the last attempt records FAILURE", n: "11", check: failingCheck, receive: 3,
			wantStatus: task.StatusFailure, wantErr: true, wantPoison: true, wantErrText: "disk on fire"},
		{name: "panicking check on the last attempt records FAILURE", n: "11",
			check:   func(context.Context, task.Number) (bool, error) { panic("bug") },
			receive: 4, wantStatus: task.StatusFailure, wantErr: true, wantPoison: true, wantErrText: "panicked: bug"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			store := memory.NewStore()
			id := submitted(t, store, tt.n)
			p := newProcessor(store)
			p.Check = tt.check
			err := p.Process(t.Context(), task.Delivery{Body: task.EncodeMessage(id), ReceiveCount: tt.receive})
			if (err != nil) != tt.wantErr {
				t.Fatalf("Process = %v; want error %v", err, tt.wantErr)
			}
			if _, poison := errors.AsType[*task.PoisonError](err); poison != tt.wantPoison {
				t.Errorf("Process = %v; want poison %v", err, tt.wantPoison)
			}
			got, _ := store.Get(t.Context(), id)
			if got.Status != tt.wantStatus || got.IsPrime != tt.wantPrime || got.Attempts != 1 {
				t.Errorf("task = %s prime=%v attempts=%d; want %s prime=%v attempts=1", got.Status, got.IsPrime, got.Attempts, tt.wantStatus, tt.wantPrime)
			}
			if !strings.Contains(got.Error, tt.wantErrText) {
				t.Errorf("task error = %q; want it to contain %q", got.Error, tt.wantErrText)
			}
		})
	}
}

func failingCheck(context.Context, task.Number) (bool, error) {
	return false, errors.New("disk on fire")
}

func TestProcessDuplicateDeliveryKeepsOneResult(t *testing.T) {
	t.Parallel()
	store := memory.NewStore()
	id := submitted(t, store, "97")
	p := newProcessor(store)
	d := task.Delivery{Body: task.EncodeMessage(id), ReceiveCount: 1}
	if err := p.Process(t.Context(), d); err != nil {
		t.Fatalf("first Process = %v; want nil", err)
	}
	first, _ := store.Get(t.Context(), id)

	// A second delivery, even one whose check would say otherwise, acks
	// without touching the result.
	p.Check = func(context.Context, task.Number) (bool, error) { return false, nil }
	d.ReceiveCount = 2
	if err := p.Process(t.Context(), d); err != nil {
		t.Fatalf("duplicate Process = %v; want nil (ack)", err)
	}
	again, _ := store.Get(t.Context(), id)
	if again != first {
		t.Errorf("after a duplicate delivery task = %+v; want unchanged %+v", again, first)
	}
}

// TestProcessFindsTheTaskFinal: a delivery that finds its task final
// when it records the result (revoked by a client during the check, or
// finished by another delivery) acknowledges the message and logs what
// happened, naming the state.
func TestProcessFindsTheTaskFinal(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		n          task.Number
		meanwhile  func(ctx context.Context, store task.Store, id string) error // during the check
		wantStatus task.Status
		wantLog    string
	}{
		{"revoked during the check", "11", func(ctx context.Context, store task.Store, id string) error {
			_, err := store.Revoke(ctx, id, t0, t0.Add(time.Hour))
			return err
		}, task.StatusRevoked, `msg="task was revoked (cancelled by a client); its result is not recorded"`},
		{"revoked during a big check", "170141183460469231731687303715884105727", func(ctx context.Context, store task.Store, id string) error {
			_, err := store.Revoke(ctx, id, t0, t0.Add(time.Hour))
			return err
		}, task.StatusRevoked, `msg="task was revoked (cancelled by a client); its result is not recorded"`},
		{"finished by another delivery", "11", func(ctx context.Context, store task.Store, id string) error {
			return store.Finish(ctx, id, task.Outcome{Status: task.StatusSuccess, IsPrime: true, FinishedAt: t0, ExpiresAt: t0.Add(time.Hour)})
		}, task.StatusSuccess, `msg="task is already final; its result is not recorded" task_id=%s status=SUCCESS`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			store := memory.NewStore()
			id := submitted(t, store, tt.n)
			var logs bytes.Buffer
			p := newProcessor(store)
			p.Logger = slog.New(slog.NewTextHandler(&logs, nil))
			p.Check = func(ctx context.Context, n task.Number) (bool, error) {
				if err := tt.meanwhile(ctx, store, id); err != nil {
					t.Errorf("meanwhile: %v", err)
				}
				return task.CheckPrime(ctx, n)
			}
			if err := p.Process(t.Context(), task.Delivery{Body: task.MessageFor(task.Task{ID: id, Number: tt.n}), ReceiveCount: 1}); err != nil {
				t.Fatalf("Process = %v; want nil (ack)", err)
			}
			if got, _ := store.Get(t.Context(), id); got.Status != tt.wantStatus {
				t.Errorf("task status %s; want %s", got.Status, tt.wantStatus)
			}
			want := tt.wantLog
			if strings.Contains(want, "%s") {
				want = fmt.Sprintf(want, id)
			}
			if !strings.Contains(logs.String(), want) {
				t.Errorf("log:\n%s\nwant a line with %s", logs.String(), want)
			}
		})
	}
}

func TestProcessConcurrentDeliveriesOneResult(t *testing.T) {
	t.Parallel()
	store := memory.NewStore()
	id := submitted(t, store, "97")
	var finishes sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	counting := &fakeStore{Store: store, finishFunc: func(ctx context.Context, id string, out task.Outcome) error {
		err := store.Finish(ctx, id, out)
		if err == nil {
			mu.Lock()
			wins++
			mu.Unlock()
		}
		return err
	}}
	p := newProcessor(counting)
	for range 8 {
		finishes.Go(func() {
			if err := p.Process(t.Context(), task.Delivery{Body: task.EncodeMessage(id), ReceiveCount: 1}); err != nil {
				t.Errorf("Process = %v; want nil", err)
			}
		})
	}
	finishes.Wait()
	if wins != 1 {
		t.Errorf("%d deliveries wrote a result; want exactly 1", wins)
	}
	assertPrime(t, store, id)
}

func TestProcessUnusableMessages(t *testing.T) {
	t.Parallel()
	store := memory.NewStore()
	p := newProcessor(store)
	tests := []struct {
		name       string
		body       string
		wantPoison bool
	}{
		{name: "not JSON", body: "not json", wantPoison: true},
		{name: "no task id", body: `{"number": 11}`, wantPoison: true},
		{name: "malformed task id", body: `{"task_id": "x"}`, wantPoison: true},
		{name: "unknown task is acknowledged", body: task.EncodeMessage(task.NewID())},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := p.Process(t.Context(), task.Delivery{Body: tt.body, ReceiveCount: 1})
			if _, poison := errors.AsType[*task.PoisonError](err); poison != tt.wantPoison || (err != nil) != tt.wantPoison {
				t.Errorf("Process(%q) = %v; want poison %v", tt.body, err, tt.wantPoison)
			}
		})
	}
}

// TestProcessCheckPastTheDeadline: a check that cannot finish before the
// invocation's deadline (a huge number on a sliver of a CPU) must not take
// the invocation down with it: the check stops FinishReserve before the
// deadline, the message is retried, and the last allowed attempt records
// FAILURE.
func TestProcessCheckPastTheDeadline(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name       string
		receive    int
		wantStatus task.Status
	}{
		{name: "retried", receive: 1, wantStatus: task.StatusStarted},
		{name: "last attempt", receive: 3, wantStatus: task.StatusFailure},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				store := memory.NewStore()
				id := submitted(t, store, "170141183460469231731687303715884105727")
				p := newProcessor(store)
				var stoppedAt time.Time
				p.Check = func(ctx context.Context, _ task.Number) (bool, error) {
					<-ctx.Done() // a check longer than the time left
					stoppedAt = time.Now()
					return false, ctx.Err()
				}
				deadline := time.Now().Add(task.FinishReserve + 200*time.Millisecond)
				ctx, cancel := context.WithDeadline(t.Context(), deadline)
				defer cancel()
				err := p.Process(ctx, task.Delivery{Body: task.EncodeMessage(id), ReceiveCount: tt.receive})
				if !errors.Is(err, task.ErrCheckTimeout) {
					t.Fatalf("Process = %v; want ErrCheckTimeout", err)
				}
				if want := deadline.Add(-task.FinishReserve); !stoppedAt.Equal(want) {
					t.Errorf("check stopped at %v; want FinishReserve before the deadline, %v", stoppedAt, want)
				}
				got, _ := store.Get(t.Context(), id)
				if got.Status != tt.wantStatus {
					t.Errorf("task = %s; want %s", got.Status, tt.wantStatus)
				}
				if tt.wantStatus == task.StatusFailure && !strings.Contains(got.Error, "deadline") {
					t.Errorf("task error = %q; want it to say the deadline passed", got.Error)
				}
			})
		})
	}
}

// TestProcessStoppedCheckLeavesNoGoroutine: when the invocation gives up
// during the check of a big prime, the real check stops at its next round,
// Process returns ErrCheckTimeout, and nothing of the check runs on (a frozen
// Lambda would thaw it into the next invocation). Not parallel: it counts the
// goroutines of the whole process, and parallel tests wait while serial ones
// run.
func TestProcessStoppedCheckLeavesNoGoroutine(t *testing.T) {
	m3217 := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 3217), big.NewInt(1)) // a prime of 969 digits
	store := memory.NewStore()
	id := submitted(t, store, task.Number(m3217.String()))
	ctx, giveUp := context.WithCancel(t.Context())
	defer giveUp()
	p := newProcessor(store)
	p.Check = func(ctx context.Context, n task.Number) (bool, error) {
		giveUp()
		return task.CheckPrime(ctx, n)
	}
	before := runtime.NumGoroutine()
	err := p.Process(ctx, task.Delivery{Body: task.EncodeMessage(id), ReceiveCount: 1})
	if after := runtime.NumGoroutine(); after > before {
		t.Errorf("%d goroutines after Process; want at most the %d before", after, before)
	}
	if !errors.Is(err, task.ErrCheckTimeout) || !errors.Is(err, context.Canceled) {
		t.Errorf("Process = %v; want ErrCheckTimeout wrapping context.Canceled", err)
	}
	if got, _ := store.Get(t.Context(), id); got.Status != task.StatusStarted {
		t.Errorf("task = %s; want STARTED, the check stopped, not finished", got.Status)
	}
}

// TestProcessDamagedRecord: a record that fails its integrity check is
// poison: no retry repairs it.
func TestProcessDamagedRecord(t *testing.T) {
	t.Parallel()
	store := &fakeStore{Store: memory.NewStore(), startFunc: func(context.Context, string, time.Time) (task.Task, error) {
		return task.Task{}, fmt.Errorf("decode: %w", task.ErrDamaged)
	}}
	p := newProcessor(store)
	err := p.Process(t.Context(), task.Delivery{Body: task.EncodeMessage(task.NewID()), ReceiveCount: 1})
	if _, poison := errors.AsType[*task.PoisonError](err); !poison || !errors.Is(err, task.ErrDamaged) {
		t.Errorf("Process = %v; want a poison error wrapping ErrDamaged", err)
	}
}

// TestProcessErrorSaysOnce: a store's error already names the task; the
// processor does not name it again.
func TestProcessErrorSaysOnce(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		number task.Number
		op     string
	}{
		{"11", "finish task"},                  // up to 64 bits: no STARTED write
		{"18446744073709551629", "start task"}, // 2^64+13: STARTED first
	} {
		store := &fakeStore{Store: memory.NewStore()}
		store.finishFunc = func(_ context.Context, id string, _ task.Outcome) error {
			return fmt.Errorf("finish task %s: connection reset", id)
		}
		store.startFunc = func(_ context.Context, id string, _ time.Time) (task.Task, error) {
			return task.Task{}, fmt.Errorf("start task %s: connection reset", id)
		}
		id := submitted(t, store, tt.number)
		body := task.MessageFor(task.Task{ID: id, Number: tt.number})
		err := newProcessor(store).Process(t.Context(), task.Delivery{Body: body, ReceiveCount: 1})
		if err == nil || strings.Count(err.Error(), tt.op) != 1 {
			t.Errorf("Process of %s = %v; want an error saying %q once", tt.number, err, tt.op)
		}
	}
}
