package deadletter_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/asyncprime/asyncprime/internal/deadletter"
	"github.com/asyncprime/asyncprime/internal/memory"
	"github.com/asyncprime/asyncprime/internal/queue"
	"github.com/asyncprime/asyncprime/internal/task"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// deadQueue is a dead-letter queue of fixed messages.
type deadQueue struct {
	msgs []queue.Peeked
	err  error
}

func (q *deadQueue) PeekDeadLetters(_ context.Context, max int) ([]queue.Peeked, error) {
	return q.msgs[:min(max, len(q.msgs))], q.err
}

func newTask(t *testing.T, s *memory.Store) string {
	t.Helper()
	id := task.NewID()
	n, _ := task.ParseNumber("11")
	if err := s.Create(t.Context(), task.Task{ID: id, Number: n, Status: task.StatusPending, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	return id
}

func settler(s *memory.Store, q deadletter.Peeker) *deadletter.Settler {
	log := slog.New(slog.DiscardHandler)
	return &deadletter.Settler{Name: "dlq", Queue: q, Store: s, Reaper: &task.Reaper{Store: s, Logger: log}, Logger: log}
}

// TestSettle: a task whose message is dead is settled by the second round
// that finds it so, never the first (a redrive may have just reopened it);
// final tasks, poison bodies and unknown tasks are counted and left.
func TestSettle(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := memory.NewStore()
	pending, done := newTask(t, s), newTask(t, s)
	if err := s.Finish(ctx, done, task.Outcome{Status: task.StatusSuccess, IsPrime: true, FinishedAt: t0, ExpiresAt: t0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	q := &deadQueue{msgs: []queue.Peeked{
		{ID: "m1", Body: task.EncodeMessage(pending)},
		{ID: "m2", Body: task.EncodeMessage(done)},
		{ID: "m3", Body: "not json"},
		{ID: "m4", Body: task.EncodeMessage(task.NewID())},
	}}
	st := settler(s, q)
	r, err := st.Settle(ctx)
	if want := (deadletter.Round{Peeked: 4, Waiting: 1, Final: 1, Poison: 1, Unknown: 1}); err != nil || r != want {
		t.Fatalf("first round = %+v, %v; want %+v", r, err, want)
	}
	if tk, _ := s.Get(ctx, pending); tk.Status != task.StatusPending {
		t.Fatalf("after one round the task is %s; want PENDING still", tk.Status)
	}
	r, err = st.Settle(ctx)
	if want := (deadletter.Round{Peeked: 4, Settled: 1, Final: 1, Poison: 1, Unknown: 1}); err != nil || r != want {
		t.Fatalf("second round = %+v, %v; want %+v", r, err, want)
	}
	if tk, _ := s.Get(ctx, pending); !task.IsDeadLettered(tk) {
		t.Fatalf("after two rounds the task is %s %q; want FAILURE, dead-lettered", tk.Status, tk.Error)
	}
	if len(q.msgs) != 4 {
		t.Errorf("the dead-letter queue holds %d messages; want the 4 still", len(q.msgs))
	}
}

// TestSettleAfterAFailedRedrive: a redrive reopens a task, then fails to
// move its message; the rounds that find the message still dead put the
// task back to FAILURE. A round that runs while the message is being
// moved does not.
func TestSettleAfterAFailedRedrive(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := memory.NewStore()
	id := newTask(t, s)
	if _, err := (&task.Reaper{Store: s, Logger: slog.New(slog.DiscardHandler)}).Settle(ctx, id); err != nil {
		t.Fatal(err)
	}
	q := &deadQueue{msgs: []queue.Peeked{{ID: "m1", Body: task.EncodeMessage(id)}}}
	st := settler(s, q)
	if _, err := st.Settle(ctx); err != nil { // sees it final
		t.Fatal(err)
	}
	if got, err := task.ReopenDeadLettered(ctx, s, []string{q.msgs[0].Body}, time.Hour, t0); err != nil || len(got) != 1 {
		t.Fatalf("ReopenDeadLettered = %v, %v; want 1 reopened", got, err)
	}
	// A round between the reopen and the move leaves the task PENDING.
	if _, err := st.Settle(ctx); err != nil {
		t.Fatal(err)
	}
	if tk, _ := s.Get(ctx, id); tk.Status != task.StatusPending {
		t.Fatalf("a round right after the reopen made the task %s; want PENDING", tk.Status)
	}
	// The move failed: the message is still dead at the next round.
	if _, err := st.Settle(ctx); err != nil {
		t.Fatal(err)
	}
	if tk, _ := s.Get(ctx, id); !task.IsDeadLettered(tk) {
		t.Fatalf("after a failed redrive the task is %s %q; want FAILURE, dead-lettered", tk.Status, tk.Error)
	}
}

// TestSettleErrors: a queue or store that does not answer makes the round
// fail, and what it saw before stands.
func TestSettleErrors(t *testing.T) {
	t.Parallel()
	errDown := errors.New("down")
	s := memory.NewStore()
	if _, err := settler(s, &deadQueue{err: errDown}).Settle(t.Context()); !errors.Is(err, errDown) {
		t.Errorf("Settle with the queue down = %v; want %v", err, errDown)
	}
	id := newTask(t, s)
	q := &deadQueue{msgs: []queue.Peeked{{ID: "m1", Body: task.EncodeMessage(id)}}}
	st := settler(s, q)
	if _, err := st.Settle(t.Context()); err != nil {
		t.Fatal(err)
	}
	st.Store = downStore{Store: s, err: errDown}
	if _, err := st.Settle(t.Context()); !errors.Is(err, errDown) {
		t.Errorf("Settle with the store down = %v; want %v", err, errDown)
	}
	st.Store = s
	if r, err := st.Settle(t.Context()); err != nil || r.Settled != 1 {
		t.Errorf("Settle once the store is back = %+v, %v; want the task settled (its sighting kept)", r, err)
	}
}

type downStore struct {
	*memory.Store
	err error
}

func (s downStore) Get(context.Context, string) (task.Task, error) { return task.Task{}, s.err }

// TestRun: Run settles a round at once and one per tick, until its
// context is done.
func TestRun(t *testing.T) {
	t.Parallel()
	s := memory.NewStore()
	id := newTask(t, s)
	st := settler(s, &deadQueue{msgs: []queue.Peeked{{ID: "m1", Body: task.EncodeMessage(id)}}})
	ctx, cancel := context.WithCancel(t.Context())
	tick := make(chan time.Time)
	done := make(chan struct{})
	go func() { st.Run(ctx, tick); close(done) }()
	tick <- t0 // the first round has run once Run takes a tick
	tick <- t0 // and the second once it takes another
	cancel()
	<-done
	if tk, _ := s.Get(t.Context(), id); !task.IsDeadLettered(tk) {
		t.Errorf("after Run's rounds the task is %s; want FAILURE, dead-lettered", tk.Status)
	}
}

// TestSettleGrace: with a grace, a dead letter whose task is not final is
// settled only once it has been seen so for that long (SQS moves a
// redrive's messages in the background).
func TestSettleGrace(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := memory.NewStore()
	id := newTask(t, s)
	now := t0
	st := settler(s, &deadQueue{msgs: []queue.Peeked{{ID: "m1", Body: task.EncodeMessage(id)}}})
	st.Grace, st.Now = time.Minute, func() time.Time { return now }
	for _, step := range []struct {
		after time.Duration
		want  task.Status
	}{{0, task.StatusPending}, {30 * time.Second, task.StatusPending}, {30 * time.Second, task.StatusFailure}} {
		now = now.Add(step.after)
		if _, err := st.Settle(ctx); err != nil {
			t.Fatal(err)
		}
		if tk, _ := s.Get(ctx, id); tk.Status != step.want {
			t.Fatalf("at %v the task is %s; want %s", now.Sub(t0), tk.Status, step.want)
		}
	}
}
