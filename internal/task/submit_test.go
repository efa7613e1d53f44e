package task_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/asyncprime/asyncprime/internal/memory"
	"github.com/asyncprime/asyncprime/internal/task"
)

// outboxStore is a memory store with an outbox: createAndEnqueueFunc.
type outboxStore struct {
	*memory.Store
	createAndEnqueueFunc func(ctx context.Context, jobs []task.Job) error
}

func (s outboxStore) CreateAndEnqueue(ctx context.Context, jobs []task.Job) error {
	return s.createAndEnqueueFunc(ctx, jobs)
}

// TestSubmitUsesTheOutbox: with a store that has an outbox, Submit hands it
// each task with its queue (big numbers on BigQueue) and sends nothing
// itself; a store whose outbox cannot take these queues (ErrNoOutbox) gets
// Create then Send; a failed outbox write is a 503 with no task left
// PENDING.
func TestSubmitUsesTheOutbox(t *testing.T) {
	t.Parallel()
	const big = "170141183460469231731687303715884105727"
	down := errors.New("store down")
	tests := []struct {
		name      string
		outboxErr error
		wantErr   error
		wantSent  int // messages Submit sent itself
		wantFinal task.Status
	}{
		{name: "outbox", wantFinal: task.StatusPending},
		{name: "no outbox for these queues", outboxErr: fmt.Errorf("queue: %w", task.ErrNoOutbox), wantSent: 2, wantFinal: task.StatusPending},
		{name: "outbox fails", outboxErr: down, wantErr: task.ErrUnavailable, wantFinal: task.StatusFailure},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			small, bigQ := &fakeQueue{}, &fakeQueue{}
			var got []task.Job
			store := outboxStore{Store: memory.NewStore()}
			store.createAndEnqueueFunc = func(ctx context.Context, jobs []task.Job) error {
				if errors.Is(tt.outboxErr, task.ErrNoOutbox) {
					return tt.outboxErr // nothing written
				}
				// Written; with an error, its answer was lost.
				got = jobs
				for _, j := range jobs {
					if err := store.Create(ctx, j.Task); err != nil {
						t.Fatal(err)
					}
				}
				return tt.outboxErr
			}
			s := &task.Submitter{Store: store, Queue: small, BigQueue: bigQ, Now: clock()}
			_, err := s.Accept(t.Context(), task.Request{Numbers: []task.Number{"11", big}})
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("Accept = %v; want %v", err, tt.wantErr)
			}
			if sent := len(small.sent) + len(bigQ.sent); sent != tt.wantSent {
				t.Errorf("Submit sent %d messages itself; want %d", sent, tt.wantSent)
			}
			if tt.outboxErr == nil {
				if len(got) != 2 || got[0].Queue != small || got[1].Queue != bigQ || got[1].Task.Number != big {
					t.Errorf("outbox jobs %+v; want 11 on the tasks queue, the big number on the big-task queue", got)
				}
			}
			for _, id := range store.IDs() {
				if tk, _ := store.Get(t.Context(), id); tk.Status != tt.wantFinal {
					t.Errorf("task %s is %s; want %s", tk.Number, tk.Status, tt.wantFinal)
				}
			}
			if store.Len() != 2 {
				t.Errorf("store holds %d tasks; want 2", store.Len())
			}
		})
	}
}

// TestAcceptGivesABatchItsIDs: the tasks of a batch get the ids of one
// batch (NewBatchIDs), in the order of their numbers; a single task gets a
// time-ordered id of its own (version 7), even when it came as a batch of
// one.
func TestAcceptGivesABatchItsIDs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		numbers []task.Number
		batch   bool
	}{
		{name: "single", numbers: []task.Number{"11"}},
		{name: "batch of one", numbers: []task.Number{"11"}},
		{name: "batch", numbers: []task.Number{"11", "12", "13"}, batch: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			store := memory.NewStore()
			s := &task.Submitter{Store: store, Queue: &fakeQueue{}, Now: clock()}
			r, err := s.Accept(t.Context(), task.Request{Numbers: tt.numbers, Batch: len(tt.numbers) > 1})
			if err != nil {
				t.Fatal(err)
			}
			for i, id := range r.TaskIDs {
				batch, index, ok := task.BatchOf(id)
				switch {
				case ok != tt.batch:
					t.Errorf("task %d has id %s; want a batch id: %v", i, id, tt.batch)
				case !tt.batch && id[14] != '7':
					t.Errorf("task %d has id %s; want version 7", i, id)
				case tt.batch && (index != i || batch != r.TaskIDs[0][:task.BatchNameLen]):
					t.Errorf("task %d has id %s: batch %s, index %d; want the first id's batch and index %d", i, id, batch, index, i)
				}
				if tk, err := store.Get(t.Context(), id); err != nil || tk.Number != tt.numbers[i] {
					t.Errorf("Get(%s) = %v, %v; want the task of %s", id, tk.Number, err, tt.numbers[i])
				}
			}
		})
	}
}

// TestSubmitBudget: a submit's writes get Timeout if set; else, in an
// invocation with a deadline, its time left less AbandonReserve (so that
// a longer function timeout gives a submit more time), but never less
// than half of it; else DefaultSubmitTimeout.
func TestSubmitBudget(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		timeout  time.Duration // Submitter.Timeout
		deadline time.Duration // of the request's context; 0 for none
		// budget is the time the writes get when the call starts with
		// left of the invocation's time to go.
		budget func(left time.Duration) time.Duration
	}{
		{name: "no deadline", budget: func(time.Duration) time.Duration { return task.DefaultSubmitTimeout }},
		{name: "the template's 5 s", deadline: 5 * time.Second, budget: func(left time.Duration) time.Duration { return left - 2*time.Second }},
		{name: "a minute", deadline: time.Minute, budget: func(left time.Duration) time.Duration { return left - task.AbandonReserve }},
		{name: "2 s", deadline: 2 * time.Second, budget: func(left time.Duration) time.Duration { return left / 2 }},
		{name: "Timeout set", timeout: 7 * time.Second, deadline: time.Minute, budget: func(time.Duration) time.Duration { return 7 * time.Second }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got time.Time
			store := outboxStore{Store: memory.NewStore()}
			store.createAndEnqueueFunc = func(ctx context.Context, jobs []task.Job) error {
				got, _ = ctx.Deadline()
				return nil
			}
			s := &task.Submitter{Store: store, Queue: &fakeQueue{}, Timeout: tt.timeout}
			ctx := t.Context()
			if tt.deadline > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.deadline)
				defer cancel()
			}
			// The writes' deadline is computed from readings of the clock
			// taken during the call: it lies between what its start gives
			// and what its end gives, plus the call's length (the budget
			// and the deadline are two readings).
			at := func(now time.Time) time.Time {
				d, ok := ctx.Deadline()
				if !ok {
					return now.Add(tt.budget(0))
				}
				return now.Add(tt.budget(d.Sub(now)))
			}
			start := time.Now()
			if _, err := s.Submit(ctx, "11"); err != nil {
				t.Fatal(err)
			}
			end := time.Now()
			lo, hi := at(start), at(end).Add(end.Sub(start))
			if got.Before(lo) || got.After(hi) {
				t.Errorf("the writes' deadline is %v after the call; want between %v and %v", got.Sub(start), lo.Sub(start), hi.Sub(start))
			}
		})
	}
}

// TestSubmitWithAMissingResource: when the table or a queue does not
// exist, Accept fails with ErrMissingResource naming it (not
// ErrUnavailable: no retry helps), and its roll-back makes one Abandon
// call per task, never retrying one that cannot succeed.
func TestSubmitWithAMissingResource(t *testing.T) {
	t.Parallel()
	noTable := &task.MissingResourceError{Kind: "table", Name: "tasks", Err: errors.New("ResourceNotFoundException")}
	noQueue := &task.MissingResourceError{Kind: "queue", Name: "jobs", Err: errors.New("QueueDoesNotExist")}
	tests := []struct {
		name         string
		createErr    error // Create's and Abandon's
		sendErr      error
		wantName     string
		wantAbandons int
		wantFinal    task.Status // of the task, where it was recorded
	}{
		{name: "table", createErr: fmt.Errorf("create task: %w", noTable), wantName: "tasks", wantAbandons: 1},
		{name: "queue", sendErr: fmt.Errorf("send message: %w", noQueue), wantName: "jobs", wantAbandons: 1, wantFinal: task.StatusFailure},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			mem := memory.NewStore()
			abandons := 0
			store := &fakeStore{Store: mem}
			if tt.createErr != nil {
				store.createFunc = func(context.Context, task.Task) error { return tt.createErr }
			}
			store.abandonFunc = func(ctx context.Context, tk task.Task) error {
				abandons++
				if tt.createErr != nil {
					return fmt.Errorf("abandon task %s: %w", tk.ID, noTable)
				}
				return mem.Abandon(ctx, tk)
			}
			q := &fakeQueue{}
			if tt.sendErr != nil {
				q.sendFunc = func(context.Context, string) (string, error) { return "", tt.sendErr }
			}
			// A retry would show as more Abandon calls before this ends.
			s := &task.Submitter{Store: store, Queue: q, Now: clock(), AbandonTimeout: time.Second}
			_, err := s.Accept(t.Context(), task.Request{Numbers: []task.Number{"11"}})
			missing, ok := errors.AsType[*task.MissingResourceError](err)
			switch {
			case !ok || missing.Name != tt.wantName:
				t.Fatalf("Accept = %v; want a missing %s", err, tt.wantName)
			case !errors.Is(err, task.ErrMissingResource) || errors.Is(err, task.ErrUnavailable):
				t.Errorf("Accept = %v; want ErrMissingResource, not ErrUnavailable", err)
			}
			if abandons != tt.wantAbandons {
				t.Errorf("%d Abandon calls; want %d", abandons, tt.wantAbandons)
			}
			for _, id := range mem.IDs() {
				if got, _ := mem.Get(t.Context(), id); got.Status != tt.wantFinal {
					t.Errorf("task is %s; want %s", got.Status, tt.wantFinal)
				}
			}
		})
	}
}

// TestSubmitErrorSaysOnce: the store's error names the task it could not
// create; Accept's error does not name it again.
func TestSubmitErrorSaysOnce(t *testing.T) {
	t.Parallel()
	store := &fakeStore{Store: memory.NewStore()}
	store.createFunc = func(_ context.Context, tk task.Task) error {
		return fmt.Errorf("create task %s: bolt: commit: disk full", tk.ID)
	}
	_, err := (&task.Submitter{Store: store, Queue: &fakeQueue{}, Now: clock()}).Accept(t.Context(), task.Request{Numbers: []task.Number{"11"}})
	if !errors.Is(err, task.ErrUnavailable) || strings.Count(err.Error(), "create task") != 1 {
		t.Errorf("Accept = %v; want ErrUnavailable, saying \"create task\" once", err)
	}
}
