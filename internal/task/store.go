package task

import (
	"context"
	"fmt"
	"time"
)

// Store keeps tasks. Every write is conditional, so that concurrent or
// repeated deliveries of the same message never move a task backwards or
// overwrite one final result with another.
//
// Implementations must pass the conformance suite in internal/tasktest.
type Store interface {
	// Create records a new task. It returns ErrExists if the id is taken
	// by another task; creating the very same task again succeeds, so that
	// a write retried after its answer was lost is not an error.
	Create(ctx context.Context, t Task) error
	// Get returns the task with the given id, read consistently (a Get
	// after a successful write sees that write). It returns ErrNotFound if
	// there is none.
	Get(ctx context.Context, id string) (Task, error)
	// Start moves a PENDING or STARTED task to STARTED, sets StartedAt to
	// at and adds one to Attempts, and returns the task as written. A task
	// that is already final gives ErrConflict (wrapped in a *FinalError
	// that holds its status, where the store knows it); a missing one
	// ErrNotFound.
	Start(ctx context.Context, id string, at time.Time) (Task, error)
	// Finish moves a PENDING or STARTED task to the outcome's final status.
	// A task that is already final gives ErrConflict (its result stands),
	// as Start does; a missing one ErrNotFound.
	Finish(ctx context.Context, id string, out Outcome) error
	// Abandon replaces a task that is still PENDING with t, which must be
	// final. Submit uses it when the task's message could not be queued, so
	// that no PENDING record is left without a message. A task that is not
	// PENDING gives ErrConflict. A missing one is recorded as t, a
	// tombstone: Submit abandons a task whose create failed, and that
	// create may still land (its request gave up waiting, not the store);
	// finding the tombstone, it gives ErrExists instead of leaving a
	// PENDING task that no message will ever run.
	Abandon(ctx context.Context, t Task) error
	// Revoke moves a PENDING or STARTED task to REVOKED, with FinishedAt
	// at and ExpiresAt expires, and returns the task as written. A task
	// that is already final gives ErrConflict (wrapped in a *FinalError
	// that holds its status); a missing one ErrNotFound.
	Revoke(ctx context.Context, id string, at, expires time.Time) (Task, error)
	// CreateBatch records new tasks, as Create each, all or none where the
	// backend allows (DynamoDB: one transaction). Submit of a batch
	// abandons them all if any step fails, so a partial write leaves no
	// PENDING task behind.
	CreateBatch(ctx context.Context, ts []Task) error
	// Claim records that c.Key stands for c, unless the key stands for a
	// claim that has not expired at c.CreatedAt: then it returns that claim
	// and ErrClaimed, writing nothing. It is one conditional write, never a
	// read then a write, so of two racing claims exactly one wins and the
	// other learns the winner. Claiming the very same claim again succeeds
	// (a retried write), unless it was released: then it gives
	// ErrReleased, writing nothing, so that a write that lands late (its
	// request gave up on it, and released it) cannot take the key back.
	Claim(ctx context.Context, c Claim) (Claim, error)
	// Holder returns the claim that holds key at at, read consistently (a
	// Holder after a successful Claim sees it). It returns ErrNotFound if
	// none does: the key was never claimed, or its claim was released or
	// has expired.
	Holder(ctx context.Context, key string, at time.Time) (Claim, error)
	// Release expires the claim of c.Key if it is c (the same task ids), so
	// that a retry of a request that failed may claim the key again; if
	// the key holds no claim, it records c as released, so that c's own
	// write, should it land later, is refused (see Claim). A key that holds
	// another claim gives ErrConflict.
	Release(ctx context.Context, c Claim) error
}

// The transitions of Store's conditional writes, for the stores that read
// a task, change it and write it back in one step (internal/memory under a
// lock, internal/bolt in a transaction), so that they check and write the
// same: each returns the task as the write leaves it, or the domain error
// for which the write leaves t as it is. Revoked is Revoke's.

// Started is Start's: a task that is not final becomes STARTED at at,
// with one attempt more.
func Started(t Task, at time.Time) (Task, error) {
	if t.Status.Final() {
		return t, inState(t)
	}
	t.Status, t.StartedAt = StatusStarted, at
	t.Attempts++
	return t, nil
}

// Finished is Finish's: a task that is not final takes the outcome (Apply).
func Finished(t Task, out Outcome) (Task, error) {
	if t.Status.Final() {
		return t, inState(t)
	}
	return Apply(t, out), nil
}

// Abandoned is Abandon's: a PENDING task is replaced by final.
func Abandoned(t, final Task) (Task, error) {
	if t.Status != StatusPending {
		return t, inState(t)
	}
	return final, nil
}

// Reopened is Reopener.Reopen's: a FAILURE task goes back to PENDING,
// without its result, error or times, keeping its attempts.
func Reopened(t Task, expiresAt time.Time) (Task, error) {
	if t.Status != StatusFailure {
		return t, inState(t)
	}
	t.Status, t.Error, t.IsPrime = StatusPending, "", false
	t.StartedAt, t.FinishedAt, t.ExpiresAt = time.Time{}, time.Time{}, expiresAt
	return t, nil
}

// inState is the error of a transition refused in t's state: a
// *FinalError if t is final, so that the caller can say which.
func inState(t Task) error {
	if t.Status.Final() {
		return &FinalError{ID: t.ID, Status: t.Status}
	}
	return fmt.Errorf("in state %s: %w", t.Status, ErrConflict)
}
