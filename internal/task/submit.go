package task

import (
	"cmp"
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

// Message is the body of a queued job: the task id and, for a number of up
// to 64 bits, the number (see MessageFor). Both are copied from the record
// when the task is created and never change, so the message cannot
// disagree with the record.
type Message struct {
	TaskID string `json:"task_id"`
	// Number is set for a number of up to 64 bits, whose check takes a
	// microsecond: the worker checks it and records the result in one
	// write, without recording STARTED (which also reads the number).
	Number Number `json:"number,omitempty"`
}

// EncodeMessage returns the queue message body that names just the task:
// the worker reads the number when it records STARTED.
func EncodeMessage(id string) string {
	return `{"task_id":"` + id + `"}`
}

// MessageFor returns the queue message body for a new task: its id, and
// its number unless it is Big, so that the worker records only the result
// (a number of up to 64 bits, or a negative one, is checked at once).
// For a Big number it is EncodeMessage(t.ID).
func MessageFor(t Task) string {
	if Big(t.Number) {
		return EncodeMessage(t.ID)
	}
	return `{"task_id":"` + t.ID + `","number":` + string(t.Number) + `}`
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
	CreateBatch(ctx context.Context, ts []Task) error
	Abandon(ctx context.Context, t Task) error
	Claim(ctx context.Context, c Claim) (Claim, error)
	Holder(ctx context.Context, key string, at time.Time) (Claim, error)
	Release(ctx context.Context, c Claim) error
}

// Sender puts a message on the job queue.
type Sender interface {
	Send(ctx context.Context, body string) (messageID string, err error)
}

// Outbox is a store that records new tasks and queues their messages in
// one atomic write (a transactional outbox), so that neither exists
// without the other. Submitter uses it, instead of Create then Send, when
// its Store has it; internal/bolt's store does.
type Outbox interface {
	// CreateAndEnqueue records the jobs' tasks as CreateBatch does, all or
	// none, and in the same write queues each task's message (MessageFor)
	// on its job's queue. A task created before, the very same (a retried
	// write), gets no second message. It returns ErrNoOutbox, having
	// written nothing, if it cannot write to a job's queue itself.
	CreateAndEnqueue(ctx context.Context, jobs []Job) error
}

// Job is a new task and the queue its message goes to.
type Job struct {
	Task  Task
	Queue Sender
}

// ErrNoOutbox means a store cannot queue the messages of the jobs it was
// given: a queue is not its own, or it is a decorator over a store without
// an outbox. The caller then creates and sends as usual.
var ErrNoOutbox = errors.New("the store has no outbox for these queues")

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
	// does not respond. If zero: the invocation's time left less
	// AbandonReserve when the context has a deadline (a Lambda
	// invocation's: raising the function's timeout gives a submit more
	// time), else DefaultSubmitTimeout.
	Timeout time.Duration
	// AbandonTimeout bounds the roll-back of a task whose message was not
	// sent. DefaultAbandonTimeout if zero. Either way it ends before ctx's
	// own deadline (the Lambda invocation's).
	AbandonTimeout time.Duration
	Retention      time.Duration    // DefaultRetention if zero
	Now            func() time.Time // time.Now if nil
	Logger         *slog.Logger     // slog.Default() if nil
}

// Defaults of Submitter's timeouts. With the template's 5 s function
// timeout, a submit gets 3 s, and the roll-back and the response the rest.
const (
	DefaultSubmitTimeout  = 3 * time.Second
	DefaultAbandonTimeout = 5 * time.Second
	AbandonReserve        = 2 * time.Second
)

// budget returns how long the create and the send may take (see Timeout).
func (s *Submitter) budget(ctx context.Context) time.Duration {
	if s.Timeout > 0 {
		return s.Timeout
	}
	if d, ok := ctx.Deadline(); ok {
		left := time.Until(d)
		return max(left-AbandonReserve, left/2)
	}
	return DefaultSubmitTimeout
}

// Submit records a PENDING task for n and queues its message. The record is
// written before the message is sent, so a worker always finds it, or with
// it, when the store is an Outbox. If the message cannot be sent, the
// record is replaced by a FAILURE so that no PENDING task is left without a
// message, and Submit returns an error that wraps ErrUnavailable, or
// ErrMissingResource if the table or the queue does not exist.
func (s *Submitter) Submit(ctx context.Context, n Number) (Task, error) {
	r, ts, err := s.accept(ctx, Request{Numbers: []Number{n}})
	if err != nil {
		return Task{}, err
	}
	if r.Replayed {
		return Task{ID: r.TaskIDs[0], Number: n}, nil
	}
	return ts[0], nil
}

// Accept records the request's tasks as PENDING and queues their messages,
// as Submit does for one. A batch is written with Store.CreateBatch and
// queued with the queue's SendBatch when it has one (or both in one write
// by an Outbox); if any step fails, every task of the batch is replaced by
// a FAILURE, none was accepted, and the error wraps ErrUnavailable (or
// ErrMissingResource: the table or a queue does not exist).
//
// With an idempotency key, Accept first reads the key's claim
// (Store.Holder): a retry of a request that was accepted gets that
// request's task ids (Receipt.Replayed) and writes nothing. Otherwise the
// key is claimed (Store.Claim) once the tasks are written and their
// messages queued, so that a claim only ever names tasks that run. If the
// same request claimed it meanwhile, Accept abandons its own new tasks
// and answers the first request's task ids; so two racing requests with
// one key get the same ids, and ids that exist. If another request holds
// the key, the error is ErrKeyReused. A request that fails before its
// claim leaves the key free, so that the client's retry with it runs
// afresh; one whose claim write fails releases the claim (it may have
// landed) and withdraws its tasks, or, if the store does not answer,
// leaves both: the retry then gets those tasks, which run.
func (s *Submitter) Accept(ctx context.Context, r Request) (Receipt, error) {
	rc, _, err := s.accept(ctx, r)
	return rc, err
}

func (s *Submitter) accept(ctx context.Context, r Request) (Receipt, []Task, error) {
	if len(r.Numbers) == 0 || len(r.Numbers) > MaxBatch {
		return Receipt{}, nil, fmt.Errorf("submit: %d numbers; want 1 to %d", len(r.Numbers), MaxBatch)
	}
	now := s.now()
	callCtx, cancel := context.WithTimeout(ctx, s.budget(ctx))
	defer cancel()
	if r.Key != "" {
		// Most often a client's retry of a request that was accepted:
		// answer it with a read, rather than write its tasks only to
		// abandon them when the claim fails.
		holder, err := s.Store.Holder(callCtx, r.Key, now)
		switch {
		case err == nil:
			rc, err := replay(r, holder)
			return rc, nil, err
		case !errors.Is(err, ErrNotFound):
			return Receipt{}, nil, notAccepted(err)
		}
	}
	ts := make([]Task, len(r.Numbers))
	// A batch's tasks get ids that name their batch (NewBatchIDs), so
	// that a store may keep the batch as one record; a single task a
	// time-ordered id of its own.
	ids := []string{NewID()}
	if len(r.Numbers) > 1 {
		ids = NewBatchIDs(len(r.Numbers))
	}
	for i, n := range r.Numbers {
		ts[i] = Task{ID: ids[i], Status: StatusPending, Number: n, CreatedAt: now, ExpiresAt: now.Add(cmp.Or(s.Retention, DefaultRetention))}
	}
	queued, err := s.create(callCtx, ts)
	if err != nil {
		// The write may have been applied even though its answer was lost
		// (a dropped connection, a timeout): make sure it is not left
		// PENDING, since its message will never be sent; unless the store
		// knows that it wrote nothing (a full disk would refuse the
		// roll-back too, for as long as it is allowed to retry).
		if !errors.Is(err, ErrNotWritten) {
			s.abandon(ctx, ts, nil, false, err)
		}
		return Receipt{}, nil, notAccepted(err)
	}
	if !queued {
		if err := s.send(callCtx, ts); err != nil {
			s.abandon(ctx, ts, nil, false, err)
			return Receipt{}, nil, notAccepted(fmt.Errorf("queue %s: %w", describe(ts), err))
		}
	}
	if r.Key != "" {
		// Claimed only now that the messages are queued, so that a claim
		// always names tasks that run: a claim whose request then failed
		// and that could not be released answers its retries with those.
		c := Claim{Key: r.Key, Hash: r.Hash(), Batch: r.Batch, TaskIDs: ids, CreatedAt: now, ExpiresAt: now.Add(cmp.Or(s.Retention, DefaultRetention))}
		holder, err := s.Store.Claim(callCtx, c)
		switch {
		case errors.Is(err, ErrClaimed):
			// Another request holds the key; these tasks were never shown
			// to anyone. Their deliveries find them final and are
			// acknowledged unchecked.
			s.abandon(ctx, ts, nil, true, err)
			rc, err := replay(r, holder)
			return rc, nil, err
		case err != nil:
			// The claim may have landed: release it, then withdraw the
			// tasks; if it cannot be released, they stay to run.
			s.abandon(ctx, ts, &c, true, err)
			return Receipt{}, nil, notAccepted(err)
		}
	}
	return Receipt{TaskIDs: ids, Batch: r.Batch}, ts, nil
}

// notAccepted is the error of a request whose step failed with err: it
// wraps ErrUnavailable, unless a resource is missing (ErrMissingResource)
// or a record it read is damaged (ErrDamaged: an idempotency key's claim),
// which no retry mends. A store's error names the task or key already
// (Store's errors say what they were doing), so it is not named again.
func notAccepted(err error) error {
	if errors.Is(err, ErrMissingResource) || errors.Is(err, ErrDamaged) {
		return fmt.Errorf("not accepted: %w", err)
	}
	return fmt.Errorf("%w: %w", ErrUnavailable, err)
}

// replay answers r with the tasks of holder, the claim of r's key, if
// holder is r's own (the same request, retried); otherwise the key was
// used for another request.
func replay(r Request, holder Claim) (Receipt, error) {
	if holder.Hash != r.Hash() || holder.Batch != r.Batch {
		return Receipt{}, fmt.Errorf("claim key %s: %w", Excerpt(r.Key), ErrKeyReused)
	}
	return Receipt{TaskIDs: holder.TaskIDs, Batch: holder.Batch, Replayed: true}, nil
}

// create records ts. When the store is an Outbox it queues their messages
// in the same write, and says so (queued); the claim of an idempotency key
// then comes after the messages, and a replay abandons tasks whose
// messages are queued: their deliveries find them final.
func (s *Submitter) create(ctx context.Context, ts []Task) (queued bool, err error) {
	if o, ok := s.Store.(Outbox); ok {
		jobs := make([]Job, len(ts))
		for i, t := range ts {
			jobs[i] = Job{Task: t, Queue: s.Queue}
			if s.big(t) {
				jobs[i].Queue = s.BigQueue
			}
		}
		if err := o.CreateAndEnqueue(ctx, jobs); !errors.Is(err, ErrNoOutbox) {
			return err == nil, err
		}
	}
	if len(ts) == 1 {
		return false, s.Store.Create(ctx, ts[0])
	}
	return false, s.Store.CreateBatch(ctx, ts)
}

// big reports whether t's message goes to BigQueue: a number beyond 64
// bits, when there is a BigQueue (so that small tasks never wait behind big
// ones).
func (s *Submitter) big(t Task) bool { return s.BigQueue != nil && Big(t.Number) }

// send queues each task's message, on BigQueue or Queue (see big).
func (s *Submitter) send(ctx context.Context, ts []Task) error {
	var small, big []string
	for _, t := range ts {
		if s.big(t) {
			big = append(big, MessageFor(t))
		} else {
			small = append(small, MessageFor(t))
		}
	}
	if err := sendAll(ctx, s.Queue, small); err != nil {
		return err
	}
	return sendAll(ctx, s.BigQueue, big)
}

// sendAll queues bodies on q: one with Send, more with q's SendBatch if it
// has one, or one by one.
func sendAll(ctx context.Context, q Sender, bodies []string) error {
	if len(bodies) == 0 {
		return nil
	}
	if b, ok := q.(BatchSender); ok && len(bodies) > 1 {
		_, err := b.SendBatch(ctx, bodies)
		return err
	}
	for _, body := range bodies {
		if _, err := q.Send(ctx, body); err != nil {
			return err
		}
	}
	return nil
}

func describe(ts []Task) string {
	if len(ts) == 1 {
		return "task " + ts[0].ID
	}
	return fmt.Sprintf("%d tasks (first %s)", len(ts), ts[0].ID)
}

// abandon replaces the tasks of a request that was not accepted by
// FAILUREs, where they were recorded at all, after releasing their claim if
// given (the tasks are withdrawn only once it is released), retrying with
// backoff while the store does not answer, for up to AbandonTimeout; not
// when the store's table does not exist (ErrMissingResource), which no
// retry mends. queued says whether the tasks' messages are queued: a
// withdrawn task's delivery finds it final and is acknowledged.
// Only if the store stays unreachable all that time is a PENDING record
// left: without a message (not queued), its id was never given to a
// client, and it expires with the retention; with one, it runs, and a
// retry with the claim's key answers it.
func (s *Submitter) abandon(ctx context.Context, ts []Task, claim *Claim, queued bool, cause error) {
	// The request's context may be what failed; the roll-back gets its own,
	// ending a little before the invocation's deadline, if it has one.
	deadline := time.Now().Add(cmp.Or(s.AbandonTimeout, DefaultAbandonTimeout))
	if d, ok := ctx.Deadline(); ok && d.Add(-250*time.Millisecond).Before(deadline) {
		deadline = d.Add(-250 * time.Millisecond)
	}
	ctx, cancel := context.WithDeadline(context.WithoutCancel(ctx), deadline)
	defer cancel()
	now := s.now()
	left := make([]Task, len(ts))
	for i, t := range ts {
		t.Status = StatusFailure
		t.Error = "the task was withdrawn before it ran (its submit failed or was a replay); submit the number again"
		t.FinishedAt = now
		// The client never saw this id; keep the tombstone only briefly.
		t.ExpiresAt = now.Add(time.Hour)
		left[i] = t
	}
	for backoff := 50 * time.Millisecond; ; backoff = min(2*backoff, time.Second) {
		var err error
		if claim != nil {
			// First, so that a retry with the same key runs afresh.
			attemptCtx, cancelAttempt := context.WithTimeout(ctx, abandonAttemptTimeout)
			err = s.Store.Release(attemptCtx, *claim)
			cancelAttempt()
			// A damaged claim holds the key for no request: nothing to
			// release, and no retry would read it.
			if err == nil || errors.Is(err, ErrConflict) || errors.Is(err, ErrNotFound) || errors.Is(err, ErrDamaged) {
				claim, err = nil, nil
			}
		}
		for err == nil && len(left) > 0 {
			// Each attempt gets a short deadline of its own, so that a store
			// that hangs cannot use the whole window on one attempt.
			attemptCtx, cancelAttempt := context.WithTimeout(ctx, abandonAttemptTimeout)
			err = s.Store.Abandon(attemptCtx, left[0])
			cancelAttempt()
			if err == nil || errors.Is(err, ErrConflict) || errors.Is(err, ErrNotFound) {
				left, err = left[1:], nil
			}
		}
		if err == nil && claim == nil {
			return
		}
		if errors.Is(err, ErrMissingResource) {
			// Nothing to roll back in a table that does not exist.
			cmp.Or(s.Logger, slog.Default()).ErrorContext(ctx, "could not abandon unqueued tasks: the store's table does not exist",
				slog.Int("tasks", len(left)), slog.Bool("claim", claim != nil), slog.Any("cause", cause), slog.Any("error", err))
			return
		}
		timer := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			timer.Stop()
			log := cmp.Or(s.Logger, slog.Default())
			if claim != nil {
				// Its tasks are left as they are: queued, they run.
				log.ErrorContext(ctx, "could not release an idempotency key; if its claim landed, retries with it answer the failed request's tasks, which are queued and run",
					slog.String("key", Excerpt(claim.Key)), slog.String("tasks", describe(left)), slog.Any("cause", cause), slog.Any("error", err))
				return
			}
			for _, t := range left {
				if queued {
					log.WarnContext(ctx, "could not withdraw a task that was not accepted; its message is queued, so it runs (or ends withdrawn, should the write land late), though no client has its id",
						slog.String("task_id", t.ID), slog.Any("cause", cause), slog.Any("error", err))
					continue
				}
				// Not the tombstone's hour: the record keeps the
				// expiry it was created with.
				log.ErrorContext(ctx, "could not abandon a task whose message was not queued; if its create was written (the store may have failed before it), its PENDING record stays until it expires, unless the send that failed went out after all (then it runs)",
					slog.String("task_id", t.ID), slog.Time("expires_at", t.CreatedAt.Add(cmp.Or(s.Retention, DefaultRetention))), slog.Any("cause", cause), slog.Any("error", err))
			}
			return
		case <-timer.C:
		}
	}
}

const abandonAttemptTimeout = time.Second

func (s *Submitter) now() time.Time { return now(s.Now) }

// now calls clock, or time.Now if clock is nil.
func now(clock func() time.Time) time.Time {
	if clock != nil {
		return clock()
	}
	return time.Now()
}

// Big reports whether n is a positive number beyond 64 bits (2^64 or
// more). Its check takes milliseconds to a tenth of a second rather than a
// microsecond, so its task goes to the big-task queue, and its worker
// records STARTED first. A negative number is never prime, at once,
// however long. An empty n (a message that names just its task) is Big:
// the worker reads its number with the STARTED write.
func Big(n Number) bool {
	if _, ok := n.Int64(); ok || strings.HasPrefix(string(n), "-") {
		return false
	}
	_, err := strconv.ParseUint(string(n), 10, 64)
	return err != nil
}
