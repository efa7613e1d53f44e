// Package tasktest is the conformance suite for task.Store. Every adapter
// runs it: the in-memory and embedded stores always, DynamoDB against an
// emulator. Where an adapter disagrees with DynamoDB, the adapter is wrong.
package tasktest

import (
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/asyncprime/asyncprime/internal/task"
)

// Run runs the suite. newStore returns a store for one subtest; it may be
// shared between subtests, since every subtest uses fresh task ids.
func Run(t *testing.T, newStore func(t *testing.T) task.Store) {
	t.Helper()
	// Times as the adapters keep them: milliseconds, and seconds for expiry.
	t0 := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	pending := func(n task.Number) task.Task {
		return task.Task{
			ID: task.NewID(), Status: task.StatusPending, Number: n,
			CreatedAt: t0, ExpiresAt: t0.Add(24 * time.Hour),
		}
	}
	create := func(t *testing.T, s task.Store, n task.Number) task.Task {
		t.Helper()
		tk := pending(n)
		mustCreate(t, s, tk)
		return tk
	}
	success := task.Outcome{Status: task.StatusSuccess, IsPrime: true, FinishedAt: t0.Add(2 * time.Second), ExpiresAt: t0.Add(25 * time.Hour)}
	failure := task.Outcome{Status: task.StatusFailure, Error: "boom", FinishedAt: t0.Add(3 * time.Second), ExpiresAt: t0.Add(26 * time.Hour)}

	t.Run("CreateThenGet", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		for _, n := range []task.Number{"11", "-7", "0", "2305843009213693951", task.Number("1" + strings.Repeat("0", task.MaxDigits-1))} {
			want := pending(n)
			if err := s.Create(t.Context(), want); err != nil {
				t.Fatalf("Create(%s) = %v; want nil", n[:min(len(n), 20)], err)
			}
			assertStored(t, s, want)
		}
	})

	t.Run("CreateDuplicate", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		first := create(t, s, "11")
		dup := first
		dup.Number = "13"
		if err := s.Create(t.Context(), dup); !errors.Is(err, task.ErrExists) {
			t.Fatalf("Create duplicate = %v; want ErrExists", err)
		}
		assertStored(t, s, first)
	})

	t.Run("CreateAgainIsARetry", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		tk := create(t, s, "2305843009213693951")
		if err := s.Create(t.Context(), tk); err != nil {
			t.Fatalf("Create of the same task again = %v; want nil (a retried write)", err)
		}
		assertStored(t, s, tk)
	})

	t.Run("NotFound", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		id := task.NewID()
		if _, err := s.Get(t.Context(), id); !errors.Is(err, task.ErrNotFound) {
			t.Errorf("Get = %v; want ErrNotFound", err)
		}
		if _, err := s.Start(t.Context(), id, t0); !errors.Is(err, task.ErrNotFound) {
			t.Errorf("Start = %v; want ErrNotFound", err)
		}
		if err := s.Finish(t.Context(), id, success); !errors.Is(err, task.ErrNotFound) {
			t.Errorf("Finish = %v; want ErrNotFound", err)
		}
		if _, err := s.Get(t.Context(), id); !errors.Is(err, task.ErrNotFound) {
			t.Errorf("Get after failed writes = %v; want ErrNotFound (no write may create a task)", err)
		}
	})

	t.Run("Lifecycle", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		want := create(t, s, "11")

		started, err := s.Start(t.Context(), want.ID, t0.Add(time.Second))
		if err != nil {
			t.Fatalf("Start = %v; want nil", err)
		}
		want.Status, want.StartedAt, want.Attempts = task.StatusStarted, t0.Add(time.Second), 1
		assertTask(t, started, want)

		// A redelivery after a worker died starts the task again.
		again, err := s.Start(t.Context(), want.ID, t0.Add(1500*time.Millisecond))
		if err != nil {
			t.Fatalf("second Start = %v; want nil", err)
		}
		want.StartedAt, want.Attempts = t0.Add(1500*time.Millisecond), 2
		assertTask(t, again, want)

		if err := s.Finish(t.Context(), want.ID, success); err != nil {
			t.Fatalf("Finish = %v; want nil", err)
		}
		want = task.Apply(want, success)
		assertStored(t, s, want)
		// Duplicate and stale deliveries never move it back or change it.
		assertFinal(t, s, want, t0.Add(4*time.Second), failure)
	})

	t.Run("FinishFromPending", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		want := create(t, s, "4")
		if err := s.Finish(t.Context(), want.ID, failure); err != nil {
			t.Fatalf("Finish = %v; want nil", err)
		}
		assertStored(t, s, task.Apply(want, failure))
	})

	t.Run("Abandon", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		p := create(t, s, "11")
		tomb := p
		tomb.Status, tomb.Error, tomb.FinishedAt = task.StatusFailure, "not queued", t0.Add(time.Second)
		if err := s.Abandon(t.Context(), tomb); err != nil {
			t.Fatalf("Abandon = %v; want nil", err)
		}
		assertStored(t, s, tomb)

		started := create(t, s, "13")
		if _, err := s.Start(t.Context(), started.ID, t0); err != nil {
			t.Fatalf("Start = %v; want nil", err)
		}
		tomb.ID = started.ID
		if err := s.Abandon(t.Context(), tomb); !errors.Is(err, task.ErrConflict) {
			t.Errorf("Abandon STARTED = %v; want ErrConflict", err)
		}
	})

	// A submit whose create timed out abandons the task; the create may
	// still land afterwards. The tombstone must win: a PENDING task then
	// would have no message to run it.
	t.Run("AbandonBeforeCreateLands", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		p := pending("11")
		tomb := p
		tomb.Status, tomb.Error, tomb.FinishedAt, tomb.ExpiresAt = task.StatusFailure, "not queued", t0.Add(time.Second), t0.Add(time.Hour)
		if err := s.Abandon(t.Context(), tomb); err != nil {
			t.Fatalf("Abandon of a missing task = %v; want nil (a tombstone)", err)
		}
		assertStored(t, s, tomb)
		if err := s.Create(t.Context(), p); !errors.Is(err, task.ErrExists) {
			t.Errorf("Create landing after Abandon = %v; want ErrExists", err)
		}
		assertStored(t, s, tomb)
		if err := s.Abandon(t.Context(), tomb); !errors.Is(err, task.ErrConflict) {
			t.Errorf("Abandon again = %v; want ErrConflict (final)", err)
		}
	})

	t.Run("Revoke", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		at, expires := t0.Add(5*time.Second), t0.Add(30*time.Hour)
		for _, start := range []bool{false, true} {
			want := create(t, s, "11")
			if start {
				var err error
				if want, err = s.Start(t.Context(), want.ID, t0.Add(time.Second)); err != nil {
					t.Fatalf("Start = %v; want nil", err)
				}
			}
			got, err := s.Revoke(t.Context(), want.ID, at, expires)
			if err != nil {
				t.Fatalf("Revoke %s = %v; want nil", want.Status, err)
			}
			want, _ = task.Revoked(want, at, expires)
			assertTask(t, got, want)
			assertStored(t, s, want)
			// A revoked task is final: a worker's delivery finds it so.
			assertFinal(t, s, want, t0.Add(6*time.Second), success)
		}
		done := create(t, s, "13")
		if err := s.Finish(t.Context(), done.ID, success); err != nil {
			t.Fatal(err)
		}
		_, err := s.Revoke(t.Context(), done.ID, at, expires)
		var final *task.FinalError
		if !errors.Is(err, task.ErrConflict) || !errors.As(err, &final) || final.Status != task.StatusSuccess {
			t.Errorf("Revoke of a SUCCESS = %v; want a FinalError with status SUCCESS", err)
		}
		if _, err := s.Revoke(t.Context(), task.NewID(), at, expires); !errors.Is(err, task.ErrNotFound) {
			t.Errorf("Revoke of an unknown task = %v; want ErrNotFound", err)
		}
	})

	t.Run("CreateBatch", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		batch := make([]task.Task, task.MaxBatch)
		for i := range batch {
			batch[i] = pending(task.Number(strconv.Itoa(i + 2)))
		}
		if err := s.CreateBatch(t.Context(), batch); err != nil {
			t.Fatalf("CreateBatch of %d = %v; want nil", len(batch), err)
		}
		for _, want := range batch {
			assertStored(t, s, want)
		}
		if err := s.CreateBatch(t.Context(), batch[:3]); err != nil {
			t.Errorf("CreateBatch of the same tasks again = %v; want nil (a retried write)", err)
		}
		// One id taken by another task: all or none.
		clash := []task.Task{pending("17"), pending("19")}
		clash[1].ID = batch[0].ID
		if err := s.CreateBatch(t.Context(), clash); !errors.Is(err, task.ErrExists) {
			t.Errorf("CreateBatch with a taken id = %v; want ErrExists", err)
		}
		if _, err := s.Get(t.Context(), clash[0].ID); !errors.Is(err, task.ErrNotFound) {
			t.Errorf("Get of the other task of a refused batch = %v; want ErrNotFound (all or none)", err)
		}
		assertStored(t, s, batch[0])
	})

	runBatchMembers(t, newStore, t0, success, failure)

	t.Run("Claim", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		key := "key-" + task.NewID()
		first := task.Claim{Key: key, Hash: "h1", TaskIDs: []string{task.NewID()}, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
		if _, err := s.Claim(t.Context(), first); err != nil {
			t.Fatalf("Claim = %v; want nil", err)
		}
		if _, err := s.Claim(t.Context(), first); err != nil {
			t.Errorf("Claim of the same claim again = %v; want nil (a retried write)", err)
		}
		second := task.Claim{Key: key, Hash: "h2", Batch: true, TaskIDs: []string{task.NewID(), task.NewID()}, CreatedAt: t0.Add(time.Minute), ExpiresAt: t0.Add(2 * time.Hour)}
		holder, err := s.Claim(t.Context(), second)
		if !errors.Is(err, task.ErrClaimed) || !holder.Same(first) {
			t.Fatalf("Claim of a held key = %+v, %v; want the first claim and ErrClaimed", holder, err)
		}
		// Release of another request's claim is refused.
		if err := s.Release(t.Context(), second); !errors.Is(err, task.ErrConflict) {
			t.Errorf("Release by another request = %v; want ErrConflict", err)
		}
		if err := s.Release(t.Context(), first); err != nil {
			t.Fatalf("Release = %v; want nil", err)
		}
		if _, err := s.Claim(t.Context(), second); err != nil {
			t.Fatalf("Claim after Release = %v; want nil", err)
		}
		// An expired claim frees its key, even before anything deletes it.
		third := second
		third.Hash, third.TaskIDs, third.CreatedAt = "h3", []string{task.NewID()}, second.ExpiresAt
		if _, err := s.Claim(t.Context(), third); err != nil {
			t.Errorf("Claim once the holder expired = %v; want nil", err)
		}
	})

	// A claim's write may land after its request gave up on it and
	// released it (a timed-out write the SDK retried, or applied late):
	// the key must stay free of it, for the request's retry.
	t.Run("ReleasedClaimLandingLate", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		for _, claimFirst := range []bool{true, false} {
			key := "key-" + task.NewID()
			c := task.Claim{Key: key, Hash: "h1", TaskIDs: []string{task.NewID()}, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
			if claimFirst {
				if _, err := s.Claim(t.Context(), c); err != nil {
					t.Fatalf("Claim = %v; want nil", err)
				}
			}
			// Released before (or without) its claim landing.
			if err := s.Release(t.Context(), c); err != nil {
				t.Fatalf("Release (claimed first: %v) = %v; want nil", claimFirst, err)
			}
			if _, err := s.Claim(t.Context(), c); !errors.Is(err, task.ErrReleased) {
				t.Errorf("Claim of a released claim, landing late (claimed first: %v) = %v; want ErrReleased", claimFirst, err)
			}
			if got, err := s.Holder(t.Context(), key, t0); !errors.Is(err, task.ErrNotFound) {
				t.Errorf("Holder after a late claim of a released one (claimed first: %v) = %+v, %v; want ErrNotFound", claimFirst, got, err)
			}
			// The retry of the request, in the same second, claims the key.
			retry := task.Claim{Key: key, Hash: "h1", TaskIDs: []string{task.NewID()}, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
			if _, err := s.Claim(t.Context(), retry); err != nil {
				t.Errorf("Claim by the retry (claimed first: %v) = %v; want nil", claimFirst, err)
			}
			if got, err := s.Holder(t.Context(), key, t0); err != nil || !got.Same(retry) {
				t.Errorf("Holder after the retry's claim (claimed first: %v) = %+v, %v; want the retry's claim", claimFirst, got, err)
			}
		}
	})

	t.Run("Holder", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		key := "key-" + task.NewID()
		if c, err := s.Holder(t.Context(), key, t0); !errors.Is(err, task.ErrNotFound) {
			t.Errorf("Holder of a key never claimed = %+v, %v; want ErrNotFound", c, err)
		}
		c := task.Claim{Key: key, Hash: "h1", Batch: true, TaskIDs: []string{task.NewID(), task.NewID()}, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
		if _, err := s.Claim(t.Context(), c); err != nil {
			t.Fatalf("Claim = %v; want nil", err)
		}
		for _, at := range []time.Time{t0, t0.Add(59 * time.Minute)} {
			if got, err := s.Holder(t.Context(), key, at); err != nil || !got.Same(c) {
				t.Errorf("Holder at +%v = %+v, %v; want the claim", at.Sub(t0), got, err)
			}
		}
		if got, err := s.Holder(t.Context(), key, c.ExpiresAt); !errors.Is(err, task.ErrNotFound) {
			t.Errorf("Holder once the claim expired = %+v, %v; want ErrNotFound", got, err)
		}
		if err := s.Release(t.Context(), c); err != nil {
			t.Fatalf("Release = %v; want nil", err)
		}
		if got, err := s.Holder(t.Context(), key, t0); !errors.Is(err, task.ErrNotFound) {
			t.Errorf("Holder of a released key = %+v, %v; want ErrNotFound", got, err)
		}
	})

	t.Run("ConcurrentClaimsHaveOneWinner", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		key := "race-" + task.NewID()
		const clients = 8
		claims := make([]task.Claim, clients)
		holders := make([]task.Claim, clients)
		errs := make([]error, clients)
		var wg sync.WaitGroup
		for i := range clients {
			claims[i] = task.Claim{Key: key, Hash: "same", TaskIDs: []string{task.NewID()}, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
			wg.Go(func() { holders[i], errs[i] = s.Claim(t.Context(), claims[i]) })
		}
		wg.Wait()
		var winner *task.Claim
		for i, err := range errs {
			if err == nil {
				if winner != nil {
					t.Fatalf("two claims of one key succeeded: %v and %v", winner.TaskIDs, claims[i].TaskIDs)
				}
				winner = &claims[i]
			} else if !errors.Is(err, task.ErrClaimed) {
				t.Fatalf("Claim = %v; want nil or ErrClaimed", err)
			}
		}
		if winner == nil {
			t.Fatal("no claim succeeded")
		}
		for i, err := range errs {
			if err != nil && !holders[i].Same(*winner) {
				t.Errorf("loser %d learned holder %v; want the winner %v", i, holders[i].TaskIDs, winner.TaskIDs)
			}
		}
	})

	t.Run("ConcurrentFinishHasOneWinner", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		p := create(t, s, "97")
		const workers = 8
		var wg sync.WaitGroup
		errs := make(chan error, workers)
		for i := range workers {
			wg.Go(func() {
				out := success
				out.IsPrime = i%2 == 0
				errs <- s.Finish(t.Context(), p.ID, out)
			})
		}
		wg.Wait()
		close(errs)
		wins := 0
		for err := range errs {
			switch {
			case err == nil:
				wins++
			case !errors.Is(err, task.ErrConflict):
				t.Errorf("Finish = %v; want nil or ErrConflict", err)
			}
		}
		if wins != 1 {
			t.Errorf("%d Finish calls succeeded; want exactly 1", wins)
		}
	})
}

func mustCreate(t *testing.T, s task.Store, tk task.Task) {
	t.Helper()
	if err := s.Create(t.Context(), tk); err != nil {
		t.Fatalf("Create = %v; want nil", err)
	}
}

// assertStored checks that s holds want.
func assertStored(t *testing.T, s task.Store, want task.Task) {
	t.Helper()
	got, err := s.Get(t.Context(), want.ID)
	if err != nil {
		t.Fatalf("Get = %v; want nil", err)
	}
	assertTask(t, got, want)
}

// assertFinal checks that the final task want refuses a worker's
// deliveries, a Start at at and a Finish with out, with a FinalError that
// names its state (the worker logs it), and stays as it is.
func assertFinal(t *testing.T, s task.Store, want task.Task, at time.Time, out task.Outcome) {
	t.Helper()
	isFinal := func(err error) bool {
		fe, ok := errors.AsType[*task.FinalError](err)
		return errors.Is(err, task.ErrConflict) && ok && fe.Status == want.Status
	}
	if _, err := s.Start(t.Context(), want.ID, at); !isFinal(err) {
		t.Errorf("Start after %s = %v; want a FinalError with status %[1]s", want.Status, err)
	}
	if err := s.Finish(t.Context(), want.ID, out); !isFinal(err) {
		t.Errorf("Finish after %s = %v; want a FinalError with status %[1]s", want.Status, err)
	}
	assertStored(t, s, want)
}

func assertTask(t *testing.T, got, want task.Task) {
	t.Helper()
	eq := func(a, b time.Time) bool { return a.IsZero() && b.IsZero() || a.Equal(b) }
	if got.ID != want.ID || got.Status != want.Status || got.Number != want.Number ||
		got.IsPrime != want.IsPrime || got.Error != want.Error || got.Attempts != want.Attempts ||
		!eq(got.CreatedAt, want.CreatedAt) || !eq(got.StartedAt, want.StartedAt) ||
		!eq(got.FinishedAt, want.FinishedAt) || got.ExpiresAt.Unix() != want.ExpiresAt.Unix() {
		t.Errorf("got task %+v;\nwant %+v", got, want)
	}
}
