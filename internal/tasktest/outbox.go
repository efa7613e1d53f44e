package tasktest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/asyncprime/asyncprime/internal/queue"
	"github.com/asyncprime/asyncprime/internal/task"
)

// Outbox is what RunOutbox tests: a store with an outbox, two queues it
// writes to, and one it cannot write to.
type Outbox struct {
	Store interface {
		task.Store
		task.Outbox
	}
	Queue, BigQueue queue.Queue
	Foreign         queue.Queue
}

// RunOutbox is the conformance suite of task.Outbox. newOutbox returns
// fresh, empty queues for each subtest.
func RunOutbox(t *testing.T, newOutbox func(t *testing.T) Outbox) {
	t.Helper()
	now := time.Now().UTC().Truncate(time.Millisecond)
	pending := func(n task.Number) task.Task {
		return task.Task{ID: task.NewID(), Status: task.StatusPending, Number: n, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	}
	const big = "170141183460469231731687303715884105727" // 2^127 - 1

	t.Run("RecordsAndQueues", func(t *testing.T) {
		t.Parallel()
		o := newOutbox(t)
		ts := []task.Task{pending("11"), pending(big), pending("13")}
		jobs := []task.Job{{Task: ts[0], Queue: o.Queue}, {Task: ts[1], Queue: o.BigQueue}, {Task: ts[2], Queue: o.Queue}}
		if err := o.Store.CreateAndEnqueue(t.Context(), jobs); err != nil {
			t.Fatalf("CreateAndEnqueue = %v; want nil", err)
		}
		// A retried write queues nothing again.
		if err := o.Store.CreateAndEnqueue(t.Context(), jobs); err != nil {
			t.Fatalf("CreateAndEnqueue again = %v; want nil (a retry)", err)
		}
		for _, tk := range ts {
			assertStored(t, o.Store, tk)
		}
		assertBodies(t, o.Queue, task.MessageFor(ts[0]), task.MessageFor(ts[2]))
		assertBodies(t, o.BigQueue, task.MessageFor(ts[1]))
	})

	t.Run("AllOrNone", func(t *testing.T) {
		t.Parallel()
		o := newOutbox(t)
		taken := pending("11")
		mustCreate(t, o.Store, taken)
		other := taken
		other.Number = "12"
		fresh := pending("13")
		err := o.Store.CreateAndEnqueue(t.Context(), []task.Job{{Task: fresh, Queue: o.Queue}, {Task: other, Queue: o.Queue}})
		if !errors.Is(err, task.ErrExists) {
			t.Fatalf("CreateAndEnqueue with a taken id = %v; want ErrExists", err)
		}
		if _, err := o.Store.Get(t.Context(), fresh.ID); !errors.Is(err, task.ErrNotFound) {
			t.Errorf("Get of the batch's other task = %v; want ErrNotFound (none written)", err)
		}
		assertBodies(t, o.Queue)
	})

	t.Run("ForeignQueue", func(t *testing.T) {
		t.Parallel()
		o := newOutbox(t)
		mine, theirs := pending("11"), pending("13")
		err := o.Store.CreateAndEnqueue(t.Context(), []task.Job{{Task: mine, Queue: o.Queue}, {Task: theirs, Queue: o.Foreign}})
		if !errors.Is(err, task.ErrNoOutbox) {
			t.Fatalf("CreateAndEnqueue on a queue not the store's = %v; want ErrNoOutbox", err)
		}
		for _, tk := range []task.Task{mine, theirs} {
			if _, err := o.Store.Get(t.Context(), tk.ID); !errors.Is(err, task.ErrNotFound) {
				t.Errorf("Get = %v; want ErrNotFound (none written)", err)
			}
		}
		assertBodies(t, o.Queue)
		assertBodies(t, o.Foreign)
	})
}

// assertBodies receives every visible message of q and checks their bodies.
func assertBodies(t *testing.T, q queue.Queue, want ...string) {
	t.Helper()
	var got []string
	for {
		ms, err := q.Receive(t.Context(), queue.MaxBatch, 0)
		if err != nil {
			t.Fatalf("Receive = %v; want nil", err)
		}
		if len(ms) == 0 {
			break
		}
		for _, m := range ms {
			got = append(got, m.Body)
		}
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("queue holds %q; want %q", got, want)
	}
}
