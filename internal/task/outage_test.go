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
		got, _ := mem.Get(t.Context(), id)
		if got.Status != task.StatusSuccess || !got.IsPrime {
			t.Errorf("task = %s prime=%v; want SUCCESS prime=true", got.Status, got.IsPrime)
		}
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
		setup      func(t *testing.T, s task.Store) string // returns the message body
		finishErr  error
		wantErr    bool
		wantStatus task.Status
		wantError  string
	}{
		{name: "started task fails with the reason", setup: func(t *testing.T, s task.Store) string {
			id := submitted(t, s, "11")
			if _, err := s.Start(t.Context(), id, t0); err != nil {
				t.Fatal(err)
			}
			return task.EncodeMessage(id)
		}, wantStatus: task.StatusFailure, wantError: "dead-lettered"},
		{name: "pending task fails with the reason", setup: func(t *testing.T, s task.Store) string {
			return task.EncodeMessage(submitted(t, s, "11"))
		}, wantStatus: task.StatusFailure, wantError: "dead-lettered"},
		{name: "final task keeps its result", setup: func(t *testing.T, s task.Store) string {
			id := submitted(t, s, "11")
			if err := s.Finish(t.Context(), id, task.Outcome{Status: task.StatusSuccess, IsPrime: true, FinishedAt: t0, ExpiresAt: t0.Add(time.Hour)}); err != nil {
				t.Fatal(err)
			}
			return task.EncodeMessage(id)
		}, wantStatus: task.StatusSuccess},
		{name: "unknown task is dropped", setup: func(*testing.T, task.Store) string { return task.EncodeMessage(task.NewID()) }},
		{name: "undecodable message is dropped", setup: func(*testing.T, task.Store) string { return "not json" }},
		{name: "store down: retried", setup: func(t *testing.T, s task.Store) string {
			return task.EncodeMessage(submitted(t, s, "11"))
		}, finishErr: errStoreDown, wantErr: true, wantStatus: task.StatusPending},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			mem := memory.NewStore()
			body := tt.setup(t, mem)
			store := &fakeStore{Store: mem}
			if tt.finishErr != nil {
				store.finishFunc = func(context.Context, string, task.Outcome) error { return tt.finishErr }
			}
			r := &task.Reaper{Store: store, Now: clock(), Logger: quietLogger()}
			err := r.Process(t.Context(), task.Delivery{Body: body, ReceiveCount: 1})
			if (err != nil) != tt.wantErr {
				t.Fatalf("Process = %v; want error %v", err, tt.wantErr)
			}
			if tt.wantStatus == "" {
				return
			}
			msg, _ := task.DecodeMessage(body)
			got, err := mem.Get(t.Context(), msg.TaskID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != tt.wantStatus || (tt.wantError != "" && !contains(got.Error, tt.wantError)) {
				t.Errorf("task = %s %q; want %s with %q", got.Status, got.Error, tt.wantStatus, tt.wantError)
			}
		})
	}
}

func quietLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

func contains(s, sub string) bool { return strings.Contains(s, sub) }
