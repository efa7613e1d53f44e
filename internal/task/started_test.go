package task_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/asyncprime/asyncprime/internal/memory"
	"github.com/asyncprime/asyncprime/internal/task"
)

func TestMessageFor(t *testing.T) {
	t.Parallel()
	const id = "3f2b8c1e-7d4a-4e59-9b1c-2a6f0e8d4c71"
	tests := []struct {
		name       string
		n          task.Number
		wantNumber task.Number // "" if the message names just the task
	}{
		{name: "small prime", n: "11", wantNumber: "11"},
		{name: "negative", n: "-7", wantNumber: "-7"},
		{name: "largest int64", n: "9223372036854775807", wantNumber: "9223372036854775807"},
		{name: "largest uint64", n: "18446744073709551615", wantNumber: "18446744073709551615"},
		{name: "2^64", n: "18446744073709551616"},
		{name: "2^127-1", n: "170141183460469231731687303715884105727"},
		{name: "below int64", n: "-9223372036854775809", wantNumber: "-9223372036854775809"},
		{name: "-(2^127-1)", n: "-170141183460469231731687303715884105727", wantNumber: "-170141183460469231731687303715884105727"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			body := task.MessageFor(task.Task{ID: id, Number: tt.n})
			m, err := task.DecodeMessage(body)
			if err != nil {
				t.Fatalf("DecodeMessage(%s) = %v; want nil", body, err)
			}
			if m.TaskID != id || m.Number != tt.wantNumber {
				t.Errorf("DecodeMessage(%s) = %+v; want task %s, number %q", body, m, id, tt.wantNumber)
			}
			if got := task.Big(tt.n); got != (tt.wantNumber == "") {
				t.Errorf("Big(%s) = %v; want %v", tt.n, got, tt.wantNumber == "")
			}
		})
	}
}

// TestProcessRecordsStartedOnlyForLongChecks follows tasks from Submit
// through Process: a number of up to 64 bits goes from PENDING to SUCCESS
// in one write (no Start); a longer one, or a message that names just the
// task, is STARTED first.
func TestProcessRecordsStartedOnlyForLongChecks(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		n            task.Number
		idOnly       bool // deliver EncodeMessage(id) instead of what Submit queued
		wantPrime    bool
		wantStarts   int
		wantAttempts int
	}{
		{name: "small prime", n: "11", wantPrime: true},
		{name: "small composite", n: "49"},
		{name: "2^61-1", n: "2305843009213693951", wantPrime: true},
		{name: "2^64-59, beyond int64", n: "18446744073709551557", wantPrime: true},
		{name: "2^127-1", n: "170141183460469231731687303715884105727", wantPrime: true, wantStarts: 1, wantAttempts: 1},
		{name: "-(2^127-1), negative beyond 64 bits", n: "-170141183460469231731687303715884105727"},
		{name: "small, message names just the task", n: "11", idOnly: true, wantPrime: true, wantStarts: 1, wantAttempts: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			mem := memory.NewStore()
			var starts, finishes atomic.Int32
			store := &fakeStore{Store: mem,
				startFunc: func(ctx context.Context, id string, at time.Time) (task.Task, error) {
					starts.Add(1)
					return mem.Start(ctx, id, at)
				},
				finishFunc: func(ctx context.Context, id string, out task.Outcome) error {
					finishes.Add(1)
					return mem.Finish(ctx, id, out)
				},
			}
			var q fakeQueue
			s := &task.Submitter{Store: store, Queue: &q, Now: clock()}
			tk, err := s.Submit(t.Context(), tt.n)
			if err != nil {
				t.Fatalf("Submit = %v", err)
			}
			body := q.sent[0]
			if tt.idOnly {
				body = task.EncodeMessage(tk.ID)
			}
			if err := newProcessor(store).Process(t.Context(), task.Delivery{Body: body, ReceiveCount: 1}); err != nil {
				t.Fatalf("Process(%s) = %v; want nil", body, err)
			}
			if got := int(starts.Load()); got != tt.wantStarts {
				t.Errorf("Process(%s) called Start %d times; want %d", body, got, tt.wantStarts)
			}
			if got := finishes.Load(); got != 1 {
				t.Errorf("Process(%s) called Finish %d times; want 1", body, got)
			}
			got, err := mem.Get(t.Context(), tk.ID)
			if err != nil || got.Status != task.StatusSuccess || got.IsPrime != tt.wantPrime || got.Attempts != tt.wantAttempts {
				t.Errorf("after Process the task is %s prime=%v attempts=%d (%v); want SUCCESS prime=%v attempts=%d",
					got.Status, got.IsPrime, got.Attempts, err, tt.wantPrime, tt.wantAttempts)
			}
		})
	}
}

// TestProcessQuickSettles: a message that carries its number is
// acknowledged when its task is gone or already final, as one that names
// just the task.
func TestProcessQuickSettles(t *testing.T) {
	t.Parallel()
	store := memory.NewStore()
	gone := task.MessageFor(task.Task{ID: task.NewID(), Number: "11"})
	if err := newProcessor(store).Process(t.Context(), task.Delivery{Body: gone, ReceiveCount: 1}); err != nil {
		t.Errorf("Process of a message for a missing task = %v; want nil (acknowledged)", err)
	}
	id := submitted(t, store, "11")
	if _, err := store.Revoke(t.Context(), id, t0, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	body := task.MessageFor(task.Task{ID: id, Number: "11"})
	if err := newProcessor(store).Process(t.Context(), task.Delivery{Body: body, ReceiveCount: 1}); err != nil {
		t.Errorf("Process of a revoked task's message = %v; want nil (acknowledged)", err)
	}
	if got, _ := store.Get(t.Context(), id); got.Status != task.StatusRevoked {
		t.Errorf("after Process the revoked task is %s; want REVOKED", got.Status)
	}
}
