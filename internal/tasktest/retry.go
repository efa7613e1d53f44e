package tasktest

import (
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/asyncprime/asyncprime/internal/task"
)

// ReopenStore is a store that an operator can retry tasks in.
type ReopenStore interface {
	task.Store
	task.Reopener
}

// RunReopen is the conformance suite of task.Reopener.
func RunReopen(t *testing.T, newStore func(t *testing.T) ReopenStore) {
	t.Helper()
	now := time.Now().UTC().Truncate(time.Millisecond)
	pending := func() task.Task {
		return task.Task{ID: task.NewID(), Status: task.StatusPending, Number: "11", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	}

	t.Run("FailureToPending", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		tk := pending()
		mustCreate(t, s, tk)
		if _, err := s.Start(t.Context(), tk.ID, now); err != nil {
			t.Fatal(err)
		}
		if err := s.Finish(t.Context(), tk.ID, task.Outcome{Status: task.StatusFailure, Error: "boom", FinishedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		expires := now.Add(2 * time.Hour)
		if err := s.Reopen(t.Context(), tk.ID, expires); err != nil {
			t.Fatalf("Reopen = %v; want nil", err)
		}
		want := tk
		want.Attempts, want.ExpiresAt = 1, expires
		assertStored(t, s, want)
		// It runs again, and finishes again.
		if _, err := s.Start(t.Context(), tk.ID, now); err != nil {
			t.Errorf("Start after Reopen = %v; want nil", err)
		}
		if err := s.Finish(t.Context(), tk.ID, task.Outcome{Status: task.StatusSuccess, IsPrime: true, FinishedAt: now, ExpiresAt: expires}); err != nil {
			t.Errorf("Finish after Reopen = %v; want nil", err)
		}
	})

	t.Run("BatchMember", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		ids := task.NewBatchIDs(2)
		b := make([]task.Task, len(ids))
		for i, id := range ids {
			b[i] = task.Task{ID: id, Status: task.StatusPending, Number: task.Number(strconv.Itoa(11 + 2*i)), CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
		}
		if err := s.CreateBatch(t.Context(), b); err != nil {
			t.Fatal(err)
		}
		if err := s.Reopen(t.Context(), b[1].ID, now); !errors.Is(err, task.ErrConflict) {
			t.Errorf("Reopen of a PENDING member = %v; want ErrConflict", err)
		}
		if err := s.Finish(t.Context(), b[0].ID, task.Outcome{Status: task.StatusFailure, Error: "boom", FinishedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		expires := now.Add(2 * time.Hour)
		if err := s.Reopen(t.Context(), b[0].ID, expires); err != nil {
			t.Fatalf("Reopen of a FAILURE member = %v; want nil", err)
		}
		want := b[0]
		want.ExpiresAt = expires
		assertStored(t, s, want)
		if err := s.Reopen(t.Context(), task.NewBatchIDs(1)[0], now); !errors.Is(err, task.ErrNotFound) {
			t.Errorf("Reopen of a member of no batch = %v; want ErrNotFound", err)
		}
	})

	t.Run("OnlyFailure", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		tk := pending()
		mustCreate(t, s, tk)
		if err := s.Reopen(t.Context(), tk.ID, now); !errors.Is(err, task.ErrConflict) {
			t.Errorf("Reopen of a PENDING task = %v; want ErrConflict", err)
		}
		if err := s.Finish(t.Context(), tk.ID, task.Outcome{Status: task.StatusSuccess, FinishedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		if err := s.Reopen(t.Context(), tk.ID, now); !errors.Is(err, task.ErrConflict) {
			t.Errorf("Reopen of a SUCCESS task = %v; want ErrConflict", err)
		}
		if got, _ := s.Get(t.Context(), tk.ID); got.Status != task.StatusSuccess {
			t.Errorf("after a refused Reopen the task is %s; want SUCCESS", got.Status)
		}
		if err := s.Reopen(t.Context(), task.NewID(), now); !errors.Is(err, task.ErrNotFound) {
			t.Errorf("Reopen of a missing task = %v; want ErrNotFound", err)
		}
	})
}
