package task

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"
)

// Store outages. A failed store write must not spend a delivery at once:
// each failed delivery brings the message nearer the dead-letter queue, and
// an outage longer than maxReceiveCount deliveries would dead-letter tasks
// that nothing is wrong with. So the worker holds a record whose store
// write fails and retries the write, backing off, until the invocation's
// deadline nears (see retryStore); a message that is dead-lettered all the
// same is settled by the Reaper once the store answers again.

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

// Reaper settles the tasks whose messages reached the dead-letter queue:
// it records FAILURE, with the reason, for a task that is not final yet
// (its last deliveries could not write to the store, or the worker died
// each time). It runs on the dead-letter queue's records: as the
// dead-letter function on AWS, as a poller of each dead-letter queue in the
// local mode. Process returns an error only while the store does not
// answer; the record then comes back after its visibility timeout.
type Reaper struct {
	Store     Finisher
	Retention time.Duration    // DefaultRetention if zero
	Now       func() time.Time // time.Now if nil
	Logger    *slog.Logger     // slog.Default() if nil
}

// DeadLetteredError is the Error of a task the Reaper settled.
const DeadLetteredError = "the task's message was dead-lettered: every allowed delivery failed before a result was recorded " +
	"(the store was unavailable, or the worker was stopped); submit the number again"

// Process settles one dead-lettered delivery.
func (r *Reaper) Process(ctx context.Context, d Delivery) error {
	log := r.Logger
	if log == nil {
		log = slog.Default()
	}
	msg, err := DecodeMessage(d.Body)
	if err != nil {
		// Nothing to settle; the log keeps the message for the operator.
		log.ErrorContext(ctx, "dead-lettered message names no task; dropped", slog.Any("error", err))
		return nil
	}
	now := time.Now()
	if r.Now != nil {
		now = r.Now()
	}
	out := Outcome{Status: StatusFailure, Error: DeadLetteredError, FinishedAt: now,
		ExpiresAt: now.Add(cmp.Or(r.Retention, DefaultRetention))}
	switch err := r.Store.Finish(ctx, msg.TaskID, out); {
	case err == nil:
		log.ErrorContext(ctx, "dead-lettered task recorded as FAILURE", slog.String("task_id", msg.TaskID),
			slog.Int("receive_count", d.ReceiveCount))
	case errors.Is(err, ErrConflict):
		log.InfoContext(ctx, "dead-lettered task was already final", slog.String("task_id", msg.TaskID))
	case errors.Is(err, ErrNotFound), errors.Is(err, ErrDamaged):
		log.ErrorContext(ctx, "dead-lettered task cannot be settled; dropped", slog.String("task_id", msg.TaskID), slog.Any("error", err))
	default:
		return fmt.Errorf("settle dead-lettered task %s: %w", msg.TaskID, err)
	}
	return nil
}
