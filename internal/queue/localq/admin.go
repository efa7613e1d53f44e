package localq

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/asyncprime/asyncprime/internal/queue"
)

// What an operator sees of a queue and does with its dead-letter queue.

// ErrNoDeadLetterQueue means the queue was made without a dead-letter queue.
var ErrNoDeadLetterQueue = errors.New("the queue has no dead-letter queue")

// redriveChunk bounds the messages RedriveDeadLetters moves in one write.
const redriveChunk = 1000

// Counts reports the messages the queue holds, exactly.
func (q *Queue) Counts(context.Context) (queue.Counts, error) {
	if err := q.closed(); err != nil {
		return queue.Counts{}, fmt.Errorf("counts of %s: %w", q.opts.Name, err)
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	var c queue.Counts
	for _, m := range q.msgs {
		if m.VisibleAt.IsZero() {
			c.Visible++
		} else {
			c.InFlight++
		}
		if c.Oldest.IsZero() || m.Sent.Before(c.Oldest) {
			c.Oldest = m.Sent
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

// PeekDeadLetters returns up to max messages of the dead-letter queue, in
// the order they arrived there, leaving them in place.
func (q *Queue) PeekDeadLetters(_ context.Context, max int) ([]queue.Peeked, error) {
	dlq := q.opts.DeadLetter
	if dlq == nil {
		return nil, ErrNoDeadLetterQueue
	}
	if err := dlq.closed(); err != nil {
		return nil, fmt.Errorf("peek %s: %w", dlq.opts.Name, err)
	}
	dlq.mu.Lock()
	defer dlq.mu.Unlock()
	var out []queue.Peeked
	for _, m := range dlq.sorted() {
		if len(out) == max {
			break
		}
		out = append(out, queue.Peeked{ID: m.ID, Body: m.Body, Sent: m.Sent, ReceiveCount: m.Receives})
	}
	return out, nil
}

// RedriveDeadLetters moves every message of the dead-letter queue back to
// this queue, in the order they arrived there, with its id and body and a
// receive count of 0, as SQS's StartMessageMoveTask does. With a journal,
// each message leaves the dead-letter queue in the very write that puts it
// in this one, in chunks, so an interrupted redrive leaves every message in
// one of the two queues; a failed write puts the rest back in the
// dead-letter queue, and the error says how many were moved before.
func (q *Queue) RedriveDeadLetters(ctx context.Context) (queue.Redrive, error) {
	dlq := q.opts.DeadLetter
	if dlq == nil {
		return queue.Redrive{}, ErrNoDeadLetterQueue
	}
	if err := q.closed(); err != nil {
		return queue.Redrive{}, fmt.Errorf("redrive %s: %w", dlq.opts.Name, err)
	}
	dlq.mu.Lock()
	todo := dlq.sorted()
	for _, m := range todo {
		dlq.removeLocked(m)
	}
	dlq.mu.Unlock()

	var res queue.Redrive
	for len(todo) > 0 {
		chunk := todo[:min(redriveChunk, len(todo))]
		moved := make([]Msg, len(chunk))
		changes := make([]Change, 0, 2*len(chunk))
		q.mu.Lock()
		for i, m := range chunk {
			q.seq++
			moved[i] = Msg{Seq: q.seq, ID: m.ID, Body: m.Body, MD5: m.MD5, Sent: m.Sent}
			changes = append(changes, dlq.change(Delete, m.Msg), q.change(Put, moved[i]))
		}
		q.mu.Unlock()
		if err := q.write(ctx, true, changes); err != nil {
			// Nothing of this chunk was written: the rest stays dead.
			dlq.mu.Lock()
			for _, m := range todo {
				m.gone, m.VisibleAt = false, time.Time{}
				dlq.addLocked(m)
			}
			dlq.mu.Unlock()
			return res, fmt.Errorf("redrive %s after %d messages: %w", dlq.opts.Name, res.Moved, err)
		}
		q.Add(moved...)
		res.Moved += len(chunk)
		todo = todo[len(chunk):]
	}
	return res, nil
}

// PurgeDeadLetters deletes every message of the dead-letter queue and
// returns how many there were; the journal's deletes are durable before it
// returns.
func (q *Queue) PurgeDeadLetters(ctx context.Context) (int, error) {
	dlq := q.opts.DeadLetter
	if dlq == nil {
		return 0, ErrNoDeadLetterQueue
	}
	if err := q.closed(); err != nil {
		return 0, fmt.Errorf("purge %s: %w", dlq.opts.Name, err)
	}
	dlq.mu.Lock()
	defer dlq.mu.Unlock()
	ms := dlq.sorted()
	changes := make([]Change, len(ms))
	for i, m := range ms {
		changes[i] = dlq.change(Delete, m.Msg)
	}
	if err := dlq.write(ctx, true, changes); err != nil {
		return 0, fmt.Errorf("purge %s: %w", dlq.opts.Name, err)
	}
	for _, m := range ms {
		dlq.removeLocked(m)
	}
	return len(ms), nil
}

// sorted returns the messages in the order they arrived. The caller holds
// q.mu.
func (q *Queue) sorted() []*message {
	ms := make([]*message, 0, len(q.msgs))
	for _, m := range q.msgs {
		ms = append(ms, m)
	}
	slices.SortFunc(ms, func(a, b *message) int { return cmp.Compare(a.Seq, b.Seq) })
	return ms
}
