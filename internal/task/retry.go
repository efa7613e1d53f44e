package task

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"
)

// Reopener is the store call an operator's retry needs.
type Reopener interface {
	// Reopen moves a FAILURE task back to PENDING: it clears the error,
	// the start and finish times, keeps Attempts, and sets ExpiresAt. A task that is
	// not FAILURE gives ErrConflict; a missing one ErrNotFound.
	Reopen(ctx context.Context, id string, expiresAt time.Time) error
}

// RetryStore is the part of a store that Retry uses.
type RetryStore interface {
	Get(ctx context.Context, id string) (Task, error)
	Abandon(ctx context.Context, t Task) error
	Reopener
}

// ErrNotFailed means a retry was asked of a task that is not FAILURE.
var ErrNotFailed = errors.New("only a FAILURE task can be retried")

// Retry runs a FAILURE task again, under the same id: it moves the task
// back to PENDING, then queues its message, so that whoever polls the id
// sees it run. If the message cannot be queued, the task is put back as it
// was (FAILURE), so that no PENDING task is left without a message. The
// message goes to big, if not nil, for a number beyond 64 bits (see Big),
// else to q. This is the one way a final task changes, and only an operator
// takes it.
func Retry(ctx context.Context, store RetryStore, q, big Sender, id string, retention time.Duration, now time.Time) (Task, error) {
	old, err := store.Get(ctx, id)
	if err != nil {
		return Task{}, fmt.Errorf("retry task %s: %w", id, err)
	}
	if old.Status != StatusFailure {
		return Task{}, fmt.Errorf("retry task %s in state %s: %w", id, old.Status, ErrNotFailed)
	}
	if err := store.Reopen(ctx, id, now.Add(retention)); err != nil {
		if errors.Is(err, ErrConflict) {
			return Task{}, fmt.Errorf("retry task %s: %w (%w)", id, ErrNotFailed, err)
		}
		return Task{}, fmt.Errorf("retry task %s: %w", id, err)
	}
	if big != nil && Big(old.Number) {
		q = big
	}
	// The same message as a submit's: a number of up to 64 bits travels in
	// it, so that the retried task goes from PENDING to its result in one
	// write, as a new one does.
	if _, err := q.Send(ctx, MessageFor(old)); err != nil {
		restore, cancel := context.WithTimeout(context.WithoutCancel(ctx), DefaultAbandonTimeout)
		defer cancel()
		if aerr := store.Abandon(restore, old); aerr != nil {
			return Task{}, fmt.Errorf("retry task %s: queue: %w; and putting it back to FAILURE failed too: %v", id, err, aerr)
		}
		return Task{}, fmt.Errorf("%w: retry task %s: queue: %w", ErrUnavailable, id, err)
	}
	t, err := store.Get(ctx, id)
	if err != nil {
		return Task{}, fmt.Errorf("retry task %s: read it back: %w", id, err)
	}
	return t, nil
}

// DeadLetterStore is the part of a store that ReopenDeadLettered uses.
type DeadLetterStore interface {
	Get(ctx context.Context, id string) (Task, error)
	Reopener
}

// ReopenDeadLettered prepares a redrive of dead letters: each body that
// names a task the Reaper settled (IsDeadLettered) has that task moved back
// to PENDING, so that its redriven message runs it again instead of being
// dropped as final. Bodies naming no task, and tasks that are not FAILURE
// for that reason (a check's own failure, SUCCESS, REVOKED, missing), are
// left as they are. It returns the ids reopened, also when it stops on an
// error. Should the messages then not move, the next settle round finds
// them still dead-lettered and records FAILURE again: nothing is left
// PENDING without a message.
func ReopenDeadLettered(ctx context.Context, store DeadLetterStore, bodies []string, retention time.Duration, now time.Time) ([]string, error) {
	var reopened []string
	done := make(map[string]bool, len(bodies))
	for _, body := range bodies {
		msg, err := DecodeMessage(body)
		if err != nil || done[msg.TaskID] {
			continue
		}
		done[msg.TaskID] = true
		t, err := store.Get(ctx, msg.TaskID)
		switch {
		case errors.Is(err, ErrNotFound), errors.Is(err, ErrDamaged):
			continue
		case err != nil:
			return reopened, fmt.Errorf("reopen dead-lettered task %s: %w", msg.TaskID, err)
		case !IsDeadLettered(t):
			continue
		}
		switch err := store.Reopen(ctx, msg.TaskID, now.Add(cmp.Or(retention, DefaultRetention))); {
		case err == nil:
			reopened = append(reopened, msg.TaskID)
		case errors.Is(err, ErrConflict), errors.Is(err, ErrNotFound):
			// Changed meanwhile (retried by hand, or expired).
		default:
			return reopened, fmt.Errorf("reopen dead-lettered task %s: %w", msg.TaskID, err)
		}
	}
	return reopened, nil
}
