package task

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"
)

// DefaultRetention is how long a task's record is kept after it is created
// and again after it finishes, as Celery's result_expires.
const DefaultRetention = 24 * time.Hour

// Message is the body of a queued job: just the task id. The task record is
// the source of truth for the number, so a message can never disagree with it.
type Message struct {
	TaskID string `json:"task_id"`
}

// EncodeMessage returns the queue message body for a task.
func EncodeMessage(id string) string {
	return `{"task_id":"` + id + `"}`
}

// DecodeMessage parses a queue message body. It fails for anything that
// does not name a well-formed task id.
func DecodeMessage(body string) (Message, error) {
	var m Message
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		return Message{}, fmt.Errorf("decode message %s: %w", Excerpt(body), err)
	}
	if !ValidID(m.TaskID) {
		return Message{}, fmt.Errorf("decode message %s: no valid task_id", Excerpt(body))
	}
	return m, nil
}

// Creator is the part of a Store that Submitter needs.
type Creator interface {
	Create(ctx context.Context, t Task) error
	Abandon(ctx context.Context, t Task) error
}

// Sender puts a message on the job queue.
type Sender interface {
	Send(ctx context.Context, body string) (messageID string, err error)
}

// ErrUnavailable means the task could not be accepted because the store or
// the queue did not answer; the client should retry later.
var ErrUnavailable = errors.New("service unavailable")

// Submitter accepts tasks: it records each one as PENDING, then queues its
// message.
type Submitter struct {
	Store Creator
	Queue Sender
	// BigQueue, if set, takes the tasks of numbers beyond 64 bits (see
	// Big), so that small tasks never wait behind big ones: each queue has
	// its own workers.
	BigQueue Sender
	// Timeout bounds the create and the send together, retries included,
	// so that the client gets an answer rather than a hang when a backend
	// does not respond. DefaultSubmitTimeout if zero.
	Timeout time.Duration
	// AbandonTimeout bounds the roll-back of a task whose message was not
	// sent. DefaultAbandonTimeout if zero. Either way it ends before ctx's
	// own deadline (the Lambda invocation's).
	AbandonTimeout time.Duration
	Retention      time.Duration    // DefaultRetention if zero
	Now            func() time.Time // time.Now if nil
	Logger         *slog.Logger     // slog.Default() if nil
}

// Defaults of Submitter's timeouts. Together they fit the template's 5 s
// function timeout with a margin for the response.
const (
	DefaultSubmitTimeout  = 3 * time.Second
	DefaultAbandonTimeout = 5 * time.Second
)

// Submit records a PENDING task for n and queues its message. The record is
// written before the message is sent, so a worker always finds it. If the
// message cannot be sent, the record is replaced by a FAILURE so that no
// PENDING task is left without a message, and Submit returns an error that
// wraps ErrUnavailable.
func (s *Submitter) Submit(ctx context.Context, n Number) (Task, error) {
	now := s.now()
	t := Task{
		ID:        NewID(),
		Status:    StatusPending,
		Number:    n,
		CreatedAt: now,
		ExpiresAt: now.Add(s.retention()),
	}
	callCtx, cancel := context.WithTimeout(ctx, orDefault(s.Timeout, DefaultSubmitTimeout))
	defer cancel()
	if err := s.Store.Create(callCtx, t); err != nil {
		// The write may have been applied even though its answer was lost
		// (a dropped connection, a timeout): make sure it is not left
		// PENDING, since its message will never be sent.
		s.abandon(ctx, t, err)
		return Task{}, fmt.Errorf("%w: create task %s: %w", ErrUnavailable, t.ID, err)
	}
	q := s.Queue
	if s.BigQueue != nil && Big(n) {
		q = s.BigQueue
	}
	if _, err := q.Send(callCtx, EncodeMessage(t.ID)); err != nil {
		s.abandon(ctx, t, err)
		return Task{}, fmt.Errorf("%w: queue task %s: %w", ErrUnavailable, t.ID, err)
	}
	return t, nil
}

// abandon replaces a task whose message was not sent by a FAILURE, if it was
// recorded at all, retrying with backoff while the store does not answer, for
// up to AbandonTimeout.
// Only if the store stays unreachable all that time is a PENDING record left
// without a message; its id was never given to a client, and it expires
// with the retention.
func (s *Submitter) abandon(ctx context.Context, t Task, cause error) {
	// The request's context may be what failed; the roll-back gets its own,
	// ending a little before the invocation's deadline, if it has one.
	deadline := time.Now().Add(orDefault(s.AbandonTimeout, DefaultAbandonTimeout))
	if d, ok := ctx.Deadline(); ok && d.Add(-250*time.Millisecond).Before(deadline) {
		deadline = d.Add(-250 * time.Millisecond)
	}
	ctx, cancel := context.WithDeadline(context.WithoutCancel(ctx), deadline)
	defer cancel()
	now := s.now()
	t.Status = StatusFailure
	t.Error = "the task was not queued, so it never ran; submit the number again"
	t.FinishedAt = now
	// The client never saw this id; keep the tombstone only briefly.
	t.ExpiresAt = now.Add(time.Hour)
	for backoff := 50 * time.Millisecond; ; backoff = min(2*backoff, time.Second) {
		// Each attempt gets a short deadline of its own, so that a store that
		// hangs cannot use the whole window on one attempt.
		attemptCtx, cancelAttempt := context.WithTimeout(ctx, abandonAttemptTimeout)
		err := s.Store.Abandon(attemptCtx, t)
		cancelAttempt()
		if err == nil || errors.Is(err, ErrConflict) || errors.Is(err, ErrNotFound) {
			return
		}
		timer := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			timer.Stop()
			s.logger().ErrorContext(ctx, "could not abandon an unqueued task; its PENDING record stays until it expires",
				slog.String("task_id", t.ID), slog.Time("expires_at", t.ExpiresAt), slog.Any("cause", cause), slog.Any("error", err))
			return
		case <-timer.C:
		}
	}
}

const abandonAttemptTimeout = time.Second

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

func (s *Submitter) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Submitter) retention() time.Duration {
	if s.Retention > 0 {
		return s.Retention
	}
	return DefaultRetention
}

func (s *Submitter) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

// Big reports whether n is a positive number beyond 64 bits (2^64 or
// more). Its check takes milliseconds to a tenth of a second rather than a
// microsecond, so its task goes to the big-task queue. A negative number is
// never prime, at once, however long.
func Big(n Number) bool {
	if _, ok := n.Int64(); ok || strings.HasPrefix(string(n), "-") {
		return false
	}
	_, err := strconv.ParseUint(string(n), 10, 64)
	return err != nil
}
