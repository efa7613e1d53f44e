package memory

import (
	"cmp"
	"context"
	"errors"
	"slices"

	"github.com/asyncprime/asyncprime/internal/queue"
)

// ErrNoDeadLetterQueue means the queue was made without a dead-letter queue.
var ErrNoDeadLetterQueue = errors.New("the queue has no dead-letter queue")

// Counts reports the messages the queue holds, exactly.
func (q *Queue) Counts(context.Context) (queue.Counts, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	var c queue.Counts
	for _, m := range q.msgs {
		if m.inflight {
			c.InFlight++
		} else {
			c.Visible++
		}
		if c.Oldest.IsZero() || m.sent.Before(c.Oldest) {
			c.Oldest = m.sent
		}
	}
	return c, nil
}

// DeadLetterCounts reports the messages of the dead-letter queue.
func (q *Queue) DeadLetterCounts(ctx context.Context) (queue.Counts, error) {
	if q.opts.DeadLetter == nil {
		return queue.Counts{}, ErrNoDeadLetterQueue
	}
	return q.opts.DeadLetter.Counts(ctx)
}

// PeekDeadLetters returns up to max messages of the dead-letter queue, the
// oldest first, leaving them there.
func (q *Queue) PeekDeadLetters(_ context.Context, max int) ([]queue.Peeked, error) {
	dlq := q.opts.DeadLetter
	if dlq == nil {
		return nil, ErrNoDeadLetterQueue
	}
	dlq.mu.Lock()
	defer dlq.mu.Unlock()
	out := make([]queue.Peeked, 0, min(max, len(dlq.msgs)))
	for _, m := range dlq.sorted() {
		if len(out) == max {
			break
		}
		out = append(out, queue.Peeked{ID: m.id, Body: m.body, Sent: m.sent, ReceiveCount: m.receives})
	}
	return out, nil
}

// RedriveDeadLetters moves every message of the dead-letter queue back to
// this queue, oldest first, with its id and body and a receive count of 0,
// as SQS's StartMessageMoveTask does.
func (q *Queue) RedriveDeadLetters(context.Context) (queue.Redrive, error) {
	dlq := q.opts.DeadLetter
	if dlq == nil {
		return queue.Redrive{}, ErrNoDeadLetterQueue
	}
	dlq.mu.Lock()
	moved := dlq.sorted()
	for _, m := range moved {
		delete(dlq.msgs, m.id)
	}
	dlq.mu.Unlock()
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, m := range moved {
		q.add(&message{id: m.id, body: m.body, md5: m.md5, sent: m.sent})
	}
	return queue.Redrive{Moved: len(moved)}, nil
}

// PurgeDeadLetters deletes every message of the dead-letter queue and
// returns how many there were.
func (q *Queue) PurgeDeadLetters(context.Context) (int, error) {
	dlq := q.opts.DeadLetter
	if dlq == nil {
		return 0, ErrNoDeadLetterQueue
	}
	dlq.mu.Lock()
	defer dlq.mu.Unlock()
	n := len(dlq.msgs)
	clear(dlq.msgs)
	dlq.ready = nil
	return n, nil
}

// sorted returns the messages, oldest first. The caller holds q.mu.
func (q *Queue) sorted() []*message {
	ms := make([]*message, 0, len(q.msgs))
	for _, m := range q.msgs {
		ms = append(ms, m)
	}
	slices.SortFunc(ms, func(a, b *message) int { return cmp.Or(a.sent.Compare(b.sent), cmp.Compare(a.id, b.id)) })
	return ms
}
