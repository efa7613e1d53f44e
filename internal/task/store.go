package task

import (
	"context"
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
	// that is already final gives ErrConflict; a missing one ErrNotFound.
	Start(ctx context.Context, id string, at time.Time) (Task, error)
	// Finish moves a PENDING or STARTED task to the outcome's final status.
	// A task that is already final gives ErrConflict (its result stands); a
	// missing one ErrNotFound.
	Finish(ctx context.Context, id string, out Outcome) error
	// Abandon replaces a task that is still PENDING with t, which must be
	// final. Submit uses it when the task's message could not be queued, so
	// that no PENDING record is left without a message. A task that is not
	// PENDING gives ErrConflict; a missing one ErrNotFound.
	Abandon(ctx context.Context, t Task) error
}
