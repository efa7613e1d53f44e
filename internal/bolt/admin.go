package bolt

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"

	"go.etcd.io/bbolt"

	"github.com/asyncprime/asyncprime/internal/queue"
)

// ErrNoDeadLetterQueue means the queue is itself a dead-letter queue.
var ErrNoDeadLetterQueue = errors.New("the queue has no dead-letter queue")

// redriveChunk bounds the messages moved in one transaction.
const redriveChunk = 1000

// Counts reports the messages the queue holds, exactly, from its index.
func (q *Queue) Counts(context.Context) (queue.Counts, error) {
	if q.db.closed() {
		return queue.Counts{}, fmt.Errorf("counts of %s: %w", q.name, ErrClosed)
	}
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
	if q.dlq == nil {
		return queue.Counts{}, ErrNoDeadLetterQueue
	}
	return q.dlq.Counts(ctx)
}

// PeekDeadLetters returns up to max messages of the dead-letter queue, in
// the order they arrived there, leaving them in place.
func (q *Queue) PeekDeadLetters(_ context.Context, max int) ([]queue.Peeked, error) {
	if q.dlq == nil {
		return nil, ErrNoDeadLetterQueue
	}
	if q.db.closed() {
		return nil, fmt.Errorf("peek %s: %w", q.dlq.name, ErrClosed)
	}
	q.dlq.mu.Lock()
	defer q.dlq.mu.Unlock()
	var out []queue.Peeked
	for _, m := range q.dlq.sorted() {
		if len(out) == max {
			break
		}
		out = append(out, queue.Peeked{ID: m.id, Body: m.body, Sent: m.sent, ReceiveCount: m.receives})
	}
	return out, nil
}

// RedriveDeadLetters moves every message of the dead-letter queue back to
// this queue, in the order they arrived there, with its id and body and a
// receive count of 0, as SQS's StartMessageMoveTask does. Each message
// leaves the dead-letter bucket in the very transaction that writes it to
// this queue's, so an interrupted redrive leaves every message in one of
// the two queues. A failed commit puts the messages it carried back in the
// dead-letter queue's index, and the error says how many were moved before.
func (q *Queue) RedriveDeadLetters(ctx context.Context) (queue.Redrive, error) {
	dlq := q.dlq
	if dlq == nil {
		return queue.Redrive{}, ErrNoDeadLetterQueue
	}
	if q.db.closed() {
		return queue.Redrive{}, fmt.Errorf("redrive %s: %w", dlq.name, ErrClosed)
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
		moved := make([]*message, len(chunk))
		q.mu.Lock()
		for i, m := range chunk {
			q.seq++
			moved[i] = &message{key: q.seq, id: m.id, body: m.body, md5: m.md5, sent: m.sent}
		}
		q.mu.Unlock()
		err := q.db.c.Do(ctx, func(tx *bbolt.Tx) error {
			from, to := tx.Bucket(dlq.bucket), tx.Bucket(q.bucket)
			for i, m := range chunk {
				val, err := encodeMessage(moved[i].record())
				if err != nil {
					return err
				}
				if err := from.Delete(messageKey(m.key)); err != nil {
					return abort(err)
				}
				if err := to.Put(messageKey(moved[i].key), val); err != nil {
					return abort(err)
				}
			}
			return nil
		})
		if err != nil {
			// Nothing of this chunk was written: the rest stays dead.
			dlq.mu.Lock()
			for _, m := range todo {
				m.gone, m.inflight = false, false
				dlq.addLocked(m)
			}
			dlq.mu.Unlock()
			return res, fmt.Errorf("redrive %s after %d messages: %w", dlq.name, res.Moved, err)
		}
		q.mu.Lock()
		for _, m := range moved {
			q.addLocked(m)
		}
		q.mu.Unlock()
		res.Moved += len(chunk)
		todo = todo[len(chunk):]
	}
	return res, nil
}

// PurgeDeadLetters deletes every message of the dead-letter queue and
// returns how many there were; the deletes are committed before it returns.
func (q *Queue) PurgeDeadLetters(ctx context.Context) (int, error) {
	dlq := q.dlq
	if dlq == nil {
		return 0, ErrNoDeadLetterQueue
	}
	if q.db.closed() {
		return 0, fmt.Errorf("purge %s: %w", dlq.name, ErrClosed)
	}
	dlq.mu.Lock()
	defer dlq.mu.Unlock()
	ms := dlq.sorted()
	err := q.db.c.Do(ctx, func(tx *bbolt.Tx) error {
		b := tx.Bucket(dlq.bucket)
		for _, m := range ms {
			if err := b.Delete(messageKey(m.key)); err != nil {
				return abort(err)
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("purge %s: %w", dlq.name, err)
	}
	for _, m := range ms {
		dlq.removeLocked(m)
	}
	return len(ms), nil
}

// sorted returns the live messages in key order. The caller holds q.mu.
func (q *Queue) sorted() []*message {
	ms := make([]*message, 0, len(q.msgs))
	for _, m := range q.msgs {
		ms = append(ms, m)
	}
	slices.SortFunc(ms, func(a, b *message) int { return cmp.Compare(a.key, b.key) })
	return ms
}
