package task

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"time"
)

// Store outages. A failed store write must not spend a delivery at once:
// each failed delivery brings the message nearer the dead-letter queue, and
// an outage longer than maxReceiveCount deliveries would dead-letter tasks
// that nothing is wrong with. So the worker holds a record whose store
// write fails and retries the write, backing off, until the invocation's
// deadline nears (see retryStore); a message that is dead-lettered all the
// same is settled by the Reaper once the store answers again (and stays
// in its dead-letter queue, for the operator to redrive).

// Backoff bounds of the store retries.
const (
	storeRetryMin = 100 * time.Millisecond
	storeRetryMax = 2 * time.Second
)

// transient reports whether a store error may go away by itself: not a
// refused transition, a missing task or a damaged record, and not the
// caller's own cancellation.
func transient(ctx context.Context, err error) bool {
	return err != nil && ctx.Err() == nil &&
		!errors.Is(err, ErrConflict) && !errors.Is(err, ErrNotFound) && !errors.Is(err, ErrDamaged)
}

// retryStore runs op, and runs it again with exponential backoff while it
// fails transiently and the invocation has time left: until FinishReserve
// before ctx's deadline. Without a deadline it runs op once.
func (p *Processor) retryStore(ctx context.Context, what, id string, op func(context.Context) error) error {
	err := op(ctx)
	deadline, ok := ctx.Deadline()
	if !ok {
		return err
	}
	stop := deadline.Add(-FinishReserve)
	for attempt, backoff := 1, storeRetryMin; transient(ctx, err); attempt, backoff = attempt+1, min(2*backoff, storeRetryMax) {
		wait := backoff/2 + rand.N(backoff/2+1)
		if time.Until(stop) < wait {
			return fmt.Errorf("%s: gave up after %d attempts, near the invocation's deadline: %w", what, attempt, err)
		}
		if attempt == 1 {
			cmp.Or(p.Logger, slog.Default()).WarnContext(ctx, "store write failed; retrying while the invocation has time",
				slog.String("task_id", id), slog.String("op", what), slog.Any("error", err))
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
		err = op(ctx)
	}
	return err
}

// Finisher is the part of a Store the Reaper needs.
type Finisher interface {
	Finish(ctx context.Context, id string, out Outcome) error
}

// Reaper settles one task whose message reached a dead-letter queue: it
// records FAILURE, with DeadLetteredError, for a task that is not final yet
// (its last deliveries could not write to the store, or the worker died
// each time). It never touches the message: dead letters stay in their
// queue for the operator to see, redrive or purge (see
// internal/deadletter, which peeks at the dead-letter queues and calls
// Settle, locally and as the dead-letter function on AWS).
type Reaper struct {
	Store     Finisher
	Retention time.Duration    // DefaultRetention if zero
	Now       func() time.Time // time.Now if nil
	Logger    *slog.Logger     // slog.Default() if nil
}

// DeadLetteredPrefix starts the Error of every task the Reaper settled:
// it marks the FAILURE tasks that a redrive of the dead letters reopens
// (see ReopenDeadLettered and IsDeadLettered).
const DeadLetteredPrefix = "the task's message was dead-lettered"

// DeadLetteredError is the Error of a task the Reaper settled.
const DeadLetteredError = DeadLetteredPrefix + ": every allowed delivery failed before a result was recorded " +
	"(the store was unavailable, the worker was stopped, or its timeout left no time for a check); redrive the dead letters to run it again, or submit the number again"

// IsDeadLettered reports whether t is FAILURE because the Reaper settled it.
func IsDeadLettered(t Task) bool {
	return t.Status == StatusFailure && strings.HasPrefix(t.Error, DeadLetteredPrefix)
}

// Settlement is what settling one dead letter found.
type Settlement int

const (
	// Settled: the task was not final; it is FAILURE now, with
	// DeadLetteredError.
	Settled Settlement = iota + 1
	// AlreadyFinal: the task had its result; nothing changed.
	AlreadyFinal
	// UnknownTask: the task is gone (expired after its retention) or its
	// record is damaged; nothing to settle.
	UnknownTask
)

// Settle records FAILURE for the task id names unless it is final. It
// returns an error only when the store does not answer: the next round
// tries again.
func (r *Reaper) Settle(ctx context.Context, id string) (Settlement, error) {
	now := time.Now()
	if r.Now != nil {
		now = r.Now()
	}
	out := Outcome{Status: StatusFailure, Error: DeadLetteredError, FinishedAt: now,
		ExpiresAt: now.Add(cmp.Or(r.Retention, DefaultRetention))}
	switch err := r.Store.Finish(ctx, id, out); {
	case err == nil:
		cmp.Or(r.Logger, slog.Default()).ErrorContext(ctx, "dead-lettered task recorded as FAILURE; its message stays in the dead-letter queue",
			slog.String("task_id", id))
		return Settled, nil
	case errors.Is(err, ErrConflict):
		return AlreadyFinal, nil
	case errors.Is(err, ErrNotFound), errors.Is(err, ErrDamaged):
		return UnknownTask, nil
	default:
		return 0, fmt.Errorf("settle dead-lettered task %s: %w", id, err)
	}
}
