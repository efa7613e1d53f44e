package task_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/asyncprime/asyncprime/internal/memory"
	"github.com/asyncprime/asyncprime/internal/task"
)

var errStoreDown = errors.New("store down")

// TestProcessRidesOutAStoreOutage: while the store fails, the worker keeps
// the record and retries its writes rather than spend a delivery on each
// failure; the task finishes on this very delivery once the store answers.
func TestProcessRidesOutAStoreOutage(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		mem := memory.NewStore()
		id := submitted(t, mem, "11")
		var starts, finishes atomic.Int32
		store := &fakeStore{Store: mem,
			startFunc: func(ctx context.Context, id string, at time.Time) (task.Task, error) {
				if starts.Add(1) <= 5 {
					return task.Task{}, errStoreDown
				}
				return mem.Start(ctx, id, at)
			},
			finishFunc: func(ctx context.Context, id string, out task.Outcome) error {
				if finishes.Add(1) <= 3 {
					return errStoreDown
				}
				return mem.Finish(ctx, id, out)
			},
		}
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		if err := newProcessor(store).Process(ctx, task.Delivery{Body: task.EncodeMessage(id), ReceiveCount: 1}); err != nil {
			t.Fatalf("Process = %v; want nil once the store answers", err)
		}
		assertPrime(t, mem, id)
	})
}

// TestProcessStoreOutageGivesUpBeforeTheDeadline: a store that stays down
// gets the record back to the queue before the invocation's deadline.
func TestProcessStoreOutageGivesUpBeforeTheDeadline(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		store := &fakeStore{Store: memory.NewStore(), startFunc: func(context.Context, string, time.Time) (task.Task, error) {
			return task.Task{}, errStoreDown
		}}
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		err := newProcessor(store).Process(ctx, task.Delivery{Body: task.EncodeMessage(task.NewID()), ReceiveCount: 1})
		if !errors.Is(err, errStoreDown) {
			t.Fatalf("Process = %v; want the store's error", err)
		}
		if _, poison := errors.AsType[*task.PoisonError](err); poison {
			t.Errorf("Process = %v; want a retryable error", err)
		}
		if ctx.Err() != nil {
			t.Errorf("Process returned after the deadline; want it back before")
		}
	})
}

func TestReaper(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		setup      func(t *testing.T, s task.Store) string // returns the task id
		finishErr  error
		wantErr    bool
		want       task.Settlement
		wantStatus task.Status
		wantError  string
	}{
		{name: "started task fails with the reason", setup: func(t *testing.T, s task.Store) string {
			id := submitted(t, s, "11")
			if _, err := s.Start(t.Context(), id, t0); err != nil {
				t.Fatal(err)
			}
			return id
		}, want: task.Settled, wantStatus: task.StatusFailure, wantError: task.DeadLetteredPrefix},
		{name: "pending task fails with the reason", setup: func(t *testing.T, s task.Store) string {
			return submitted(t, s, "11")
		}, want: task.Settled, wantStatus: task.StatusFailure, wantError: task.DeadLetteredPrefix},
		{name: "final task keeps its result", setup: func(t *testing.T, s task.Store) string {
			id := submitted(t, s, "11")
			if err := s.Finish(t.Context(), id, task.Outcome{Status: task.StatusSuccess, IsPrime: true, FinishedAt: t0, ExpiresAt: t0.Add(time.Hour)}); err != nil {
				t.Fatal(err)
			}
			return id
		}, want: task.AlreadyFinal, wantStatus: task.StatusSuccess},
		{name: "unknown task", setup: func(*testing.T, task.Store) string { return task.NewID() }, want: task.UnknownTask},
		{name: "store down: an error, the next round retries", setup: func(t *testing.T, s task.Store) string {
			return submitted(t, s, "11")
		}, finishErr: errStoreDown, wantErr: true, wantStatus: task.StatusPending},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			mem := memory.NewStore()
			id := tt.setup(t, mem)
			store := &fakeStore{Store: mem}
			if tt.finishErr != nil {
				store.finishFunc = func(context.Context, string, task.Outcome) error { return tt.finishErr }
			}
			r := &task.Reaper{Store: store, Now: clock(), Logger: quietLogger()}
			got, err := r.Settle(t.Context(), id)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Fatalf("Settle = %v, %v; want %v, error %v", got, err, tt.want, tt.wantErr)
			}
			if tt.wantStatus == "" {
				return
			}
			tk, err := mem.Get(t.Context(), id)
			if err != nil {
				t.Fatal(err)
			}
			if tk.Status != tt.wantStatus || (tt.wantError != "" && !strings.HasPrefix(tk.Error, tt.wantError)) {
				t.Errorf("task = %s %q; want %s starting %q", tk.Status, tk.Error, tt.wantStatus, tt.wantError)
			}
			if tt.want == task.Settled && !task.IsDeadLettered(tk) {
				t.Errorf("IsDeadLettered(%s %q) = false; want true", tk.Status, tk.Error)
			}
		})
	}
}

// TestReopenDeadLettered: before a redrive, exactly the tasks settled as
// dead-lettered go back to PENDING; others, and bodies naming no task, are
// left alone.
func TestReopenDeadLettered(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	mem := memory.NewStore()
	dead := submitted(t, mem, "11")
	if _, err := (&task.Reaper{Store: mem, Now: clock(), Logger: quietLogger()}).Settle(ctx, dead); err != nil {
		t.Fatal(err)
	}
	failed := submitted(t, mem, "13")
	if err := mem.Finish(ctx, failed, task.Outcome{Status: task.StatusFailure, Error: "the check failed", FinishedAt: t0, ExpiresAt: t0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	done := submitted(t, mem, "17")
	if err := mem.Finish(ctx, done, task.Outcome{Status: task.StatusSuccess, IsPrime: true, FinishedAt: t0, ExpiresAt: t0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	pending := submitted(t, mem, "19")
	bodies := []string{"not json", task.EncodeMessage(dead), task.EncodeMessage(dead), task.EncodeMessage(failed),
		task.EncodeMessage(done), task.EncodeMessage(pending), task.EncodeMessage(task.NewID())}
	got, err := task.ReopenDeadLettered(ctx, mem, bodies, time.Hour, t0)
	if err != nil || len(got) != 1 || got[0] != dead {
		t.Fatalf("ReopenDeadLettered = %v, %v; want [%s]", got, err, dead)
	}
	for id, want := range map[string]task.Status{dead: task.StatusPending, failed: task.StatusFailure, done: task.StatusSuccess, pending: task.StatusPending} {
		if tk, _ := mem.Get(ctx, id); tk.Status != want {
			t.Errorf("task %s is %s; want %s", id, tk.Status, want)
		}
	}

	down := &fakeReopenStore{Store: mem, err: errStoreDown}
	if _, err := (&task.Reaper{Store: mem, Now: clock(), Logger: quietLogger()}).Settle(ctx, dead); err != nil {
		t.Fatal(err)
	}
	if _, err := task.ReopenDeadLettered(ctx, down, bodies, time.Hour, t0); !errors.Is(err, errStoreDown) {
		t.Errorf("ReopenDeadLettered with the store down = %v; want %v", err, errStoreDown)
	}
}

type fakeReopenStore struct {
	*memory.Store
	err error
}

func (s *fakeReopenStore) Reopen(context.Context, string, time.Time) error { return s.err }

func quietLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
