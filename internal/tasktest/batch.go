package tasktest

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/asyncprime/asyncprime/internal/task"
)

// runBatchMembers checks the tasks of a batch (ids from task.NewBatchIDs,
// as Submitter gives them), which a store may keep as one record until
// each task's first write (internal/dynamo does): every transition of a
// member, and ids of a batch that was never created.
func runBatchMembers(t *testing.T, newStore func(t *testing.T) task.Store, t0 time.Time, success, failure task.Outcome) {
	t.Helper()
	newBatch := func(numbers ...task.Number) []task.Task {
		ids := task.NewBatchIDs(len(numbers))
		ts := make([]task.Task, len(numbers))
		for i, n := range numbers {
			ts[i] = task.Task{ID: ids[i], Status: task.StatusPending, Number: n, CreatedAt: t0, ExpiresAt: t0.Add(24 * time.Hour)}
		}
		return ts
	}
	createBatch := func(t *testing.T, s task.Store, numbers ...task.Number) []task.Task {
		t.Helper()
		ts := newBatch(numbers...)
		if err := s.CreateBatch(t.Context(), ts); err != nil {
			t.Fatalf("CreateBatch of a batch of %d = %v; want nil", len(ts), err)
		}
		return ts
	}

	t.Run("BatchCreateThenGet", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		numbers := make([]task.Number, task.MaxBatch)
		for i := range numbers {
			numbers[i] = task.Number(strconv.Itoa(i + 2))
		}
		numbers[7] = task.Number("1" + strings.Repeat("0", task.MaxDigits-1))
		numbers[8] = "-170141183460469231731687303715884105727"
		batch := createBatch(t, s, numbers...)
		for _, want := range batch {
			assertStored(t, s, want)
		}
		if err := s.CreateBatch(t.Context(), batch); err != nil {
			t.Errorf("CreateBatch of the same batch again = %v; want nil (a retried write)", err)
		}
		other := make([]task.Task, len(batch))
		for i, tk := range batch {
			tk.Number = task.Number(strconv.Itoa(i + 1000))
			other[i] = tk
		}
		if err := s.CreateBatch(t.Context(), other); !errors.Is(err, task.ErrExists) {
			t.Errorf("CreateBatch of another batch under the same ids = %v; want ErrExists", err)
		}
		assertStored(t, s, batch[0])
		assertStored(t, s, batch[len(batch)-1])
	})

	t.Run("BatchMemberLifecycle", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		b := createBatch(t, s, "11", "170141183460469231731687303715884105727", "13", "15", "17", "19")

		// Finish from PENDING: the worker's one write for a 64-bit number.
		if err := s.Finish(t.Context(), b[0].ID, success); err != nil {
			t.Fatalf("Finish of a PENDING member = %v; want nil", err)
		}
		done := task.Apply(b[0], success)
		assertStored(t, s, done)
		assertFinal(t, s, done, t0.Add(4*time.Second), failure)

		// Start (a number beyond 64 bits) returns the task with its number.
		started, err := s.Start(t.Context(), b[1].ID, t0.Add(time.Second))
		if err != nil {
			t.Fatalf("Start of a PENDING member = %v; want nil", err)
		}
		want := b[1]
		want.Status, want.StartedAt, want.Attempts = task.StatusStarted, t0.Add(time.Second), 1
		assertTask(t, started, want)
		if started, err = s.Start(t.Context(), b[1].ID, t0.Add(2*time.Second)); err != nil {
			t.Fatalf("second Start of a member = %v; want nil", err)
		}
		want.StartedAt, want.Attempts = t0.Add(2*time.Second), 2
		assertTask(t, started, want)
		assertStored(t, s, want)
		if err := s.Finish(t.Context(), b[1].ID, failure); err != nil {
			t.Fatalf("Finish of a STARTED member = %v; want nil", err)
		}
		assertStored(t, s, task.Apply(want, failure))

		// Revoke, from PENDING, then of final members.
		at, expires := t0.Add(5*time.Second), t0.Add(30*time.Hour)
		got, err := s.Revoke(t.Context(), b[2].ID, at, expires)
		if err != nil {
			t.Fatalf("Revoke of a PENDING member = %v; want nil", err)
		}
		revoked, _ := task.Revoked(b[2], at, expires)
		assertTask(t, got, revoked)
		assertStored(t, s, revoked)
		assertFinal(t, s, revoked, t0.Add(6*time.Second), success)
		for _, final := range []task.Task{revoked, done} {
			_, err := s.Revoke(t.Context(), final.ID, at, expires)
			var fe *task.FinalError
			if !errors.Is(err, task.ErrConflict) || !errors.As(err, &fe) || fe.Status != final.Status {
				t.Errorf("Revoke of a %s member = %v; want a FinalError with status %s", final.Status, err, final.Status)
			}
		}

		// Abandon a PENDING member; not a STARTED one.
		tomb := b[3]
		tomb.Status, tomb.Error, tomb.FinishedAt, tomb.ExpiresAt = task.StatusFailure, "not queued", t0.Add(time.Second), t0.Add(time.Hour)
		if err := s.Abandon(t.Context(), tomb); err != nil {
			t.Fatalf("Abandon of a PENDING member = %v; want nil", err)
		}
		assertStored(t, s, tomb)
		if _, err := s.Start(t.Context(), b[4].ID, t0); err != nil {
			t.Fatal(err)
		}
		tomb.ID, tomb.Number = b[4].ID, b[4].Number
		if err := s.Abandon(t.Context(), tomb); !errors.Is(err, task.ErrConflict) {
			t.Errorf("Abandon of a STARTED member = %v; want ErrConflict", err)
		}

		// The members not written are still PENDING, as created.
		assertStored(t, s, b[5])
	})

	// As AbandonBeforeCreateLands, for a batch: the submit abandons each
	// member of a batch whose create failed, and the create lands after.
	t.Run("BatchAbandonBeforeCreateLands", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		b := newBatch("11", "13", "17")
		tombs := make([]task.Task, len(b))
		for i, p := range b {
			tombs[i] = p
			tombs[i].Status, tombs[i].Error, tombs[i].FinishedAt, tombs[i].ExpiresAt = task.StatusFailure, "not queued", t0.Add(time.Second), t0.Add(time.Hour)
			if err := s.Abandon(t.Context(), tombs[i]); err != nil {
				t.Fatalf("Abandon of a member of a batch not created = %v; want nil (a tombstone)", err)
			}
		}
		// The store may refuse the batch (ErrExists) or keep it under the
		// tombstones; either way no member reads PENDING.
		if err := s.CreateBatch(t.Context(), b); err != nil && !errors.Is(err, task.ErrExists) {
			t.Errorf("CreateBatch landing after Abandon = %v; want nil or ErrExists", err)
		}
		for _, tomb := range tombs {
			assertStored(t, s, tomb)
		}
	})

	t.Run("BatchNotFound", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		at, expires := t0.Add(5*time.Second), t0.Add(30*time.Hour)
		b := createBatch(t, s, "11", "13", "17")
		never := task.NewBatchIDs(3)[1]
		beyond := b[0].ID[:task.BatchNameLen] + "0005" // index 5 of a batch of 3
		for _, id := range []string{never, beyond} {
			if _, err := s.Get(t.Context(), id); !errors.Is(err, task.ErrNotFound) {
				t.Errorf("Get(%s) = %v; want ErrNotFound", id, err)
			}
			if _, err := s.Start(t.Context(), id, t0); !errors.Is(err, task.ErrNotFound) {
				t.Errorf("Start(%s) = %v; want ErrNotFound", id, err)
			}
			if _, err := s.Revoke(t.Context(), id, at, expires); !errors.Is(err, task.ErrNotFound) {
				t.Errorf("Revoke(%s) = %v; want ErrNotFound", id, err)
			}
			if _, err := s.Get(t.Context(), id); !errors.Is(err, task.ErrNotFound) {
				t.Errorf("Get(%s) after failed writes = %v; want ErrNotFound (no write may make it up)", id, err)
			}
		}
	})
}
