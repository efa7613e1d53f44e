package bolt_test

import (
	"errors"
	"testing"
	"time"

	"github.com/asyncprime/asyncprime/internal/bolt"
	"github.com/asyncprime/asyncprime/internal/task"
	"github.com/asyncprime/asyncprime/internal/testkit"
)

func TestSweepDeletesOnlyExpiredTasks(t *testing.T) {
	t.Parallel()
	db, _ := open(t, bolt.Options{SweepInterval: -1})
	s := db.Store()
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	tasks := map[string]time.Time{
		"expired an hour ago":  now.Add(-time.Hour),
		"expires right now":    now,
		"expires in an hour":   now.Add(time.Hour),
		"no expiry at all set": {},
	}
	ids := map[string]string{}
	for name, exp := range tasks {
		tk := task.Task{ID: task.NewID(), Status: task.StatusSuccess, Number: "7", IsPrime: true, CreatedAt: now.Add(-2 * time.Hour), ExpiresAt: exp}
		if err := s.Create(t.Context(), tk); err != nil {
			t.Fatal(err)
		}
		ids[name] = tk.ID
	}
	n, err := db.Sweep(t.Context(), now)
	if err != nil || n != 2 {
		t.Fatalf("Sweep = %d, %v; want 2, nil", n, err)
	}
	for name, id := range ids {
		_, err := s.Get(t.Context(), id)
		gone := errors.Is(err, task.ErrNotFound)
		if want := tasks[name].Compare(now) <= 0 && !tasks[name].IsZero(); gone != want {
			t.Errorf("%s: deleted = %v; want %v", name, gone, want)
		}
	}
}

func TestSweepRunsInTheBackground(t *testing.T) {
	t.Parallel()
	db, _ := open(t, bolt.Options{SweepInterval: 10 * time.Millisecond})
	tk := task.Task{ID: task.NewID(), Status: task.StatusFailure, Number: "7", CreatedAt: time.Now().Add(-time.Hour), ExpiresAt: time.Now().Add(-time.Minute)}
	if err := db.Store().Create(t.Context(), tk); err != nil {
		t.Fatal(err)
	}
	c := task.Claim{Key: "k", Hash: "h", TaskIDs: []string{tk.ID}, CreatedAt: tk.CreatedAt, ExpiresAt: tk.ExpiresAt}
	if _, err := db.Store().Claim(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, time.Minute, func() bool {
		_, err := db.Store().Get(t.Context(), tk.ID)
		return errors.Is(err, task.ErrNotFound)
	}, "the expired task swept in the background")
	testkit.Eventually(t, time.Minute, func() bool {
		// Read as at its creation, when it held the key: found until swept.
		_, err := db.Store().Holder(t.Context(), c.Key, c.CreatedAt)
		return errors.Is(err, task.ErrNotFound)
	}, "the expired claim swept in the background")
}
