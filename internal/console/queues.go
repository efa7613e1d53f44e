package console

import (
	"context"
	"strings"

	"github.com/asyncprime/asyncprime/internal/queue"
)

// The console shows and acts on the task queues as one: the task queue
// and, when the backend gives tasks beyond 64 bits a queue of their own,
// that one too (Config.BigQueue). Counts add up; a redrive or a purge acts
// on each dead-letter queue that holds messages.

// queueStats sums the counts of several queues.
type queueStats []QueueStats

func (qs queueStats) Counts(ctx context.Context) (queue.Counts, error) {
	return sum(ctx, qs, QueueStats.Counts)
}

// deadLetterQueues acts on the dead-letter queues of several queues.
type deadLetterQueues []DeadLetters

func (ds deadLetterQueues) DeadLetterCounts(ctx context.Context) (queue.Counts, error) {
	return sum(ctx, ds, DeadLetters.DeadLetterCounts)
}

func (ds deadLetterQueues) PeekDeadLetters(ctx context.Context, max int) ([]queue.Peeked, error) {
	var out []queue.Peeked
	for _, d := range ds {
		if len(out) >= max {
			break
		}
		p, err := d.PeekDeadLetters(ctx, max-len(out))
		if err != nil {
			return nil, err
		}
		out = append(out, p...)
	}
	return out, nil
}

// RedriveDeadLetters moves each non-empty dead-letter queue back to its
// source queue. It stops at the first failure, with the moves so far.
func (ds deadLetterQueues) RedriveDeadLetters(ctx context.Context) (queue.Redrive, error) {
	var total queue.Redrive
	var handles []string
	for _, d := range ds {
		if n, err := d.DeadLetterCounts(ctx); err != nil || n.Total() == 0 {
			if err != nil {
				return total, err
			}
			continue
		}
		r, err := d.RedriveDeadLetters(ctx)
		total.Moved += r.Moved
		total.Async = total.Async || r.Async
		if r.TaskHandle != "" {
			handles = append(handles, r.TaskHandle)
		}
		total.TaskHandle = strings.Join(handles, ", ")
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

func (ds deadLetterQueues) PurgeDeadLetters(ctx context.Context) (int, error) {
	purged := 0
	for _, d := range ds {
		n, err := d.PurgeDeadLetters(ctx)
		purged += n
		if err != nil {
			return purged, err
		}
	}
	return purged, nil
}

// sum adds up the counts of qs; the oldest message is the oldest of any.
func sum[Q any](ctx context.Context, qs []Q, count func(Q, context.Context) (queue.Counts, error)) (queue.Counts, error) {
	var total queue.Counts
	for _, q := range qs {
		n, err := count(q, ctx)
		if err != nil {
			return queue.Counts{}, err
		}
		if total.Oldest.IsZero() || !n.Oldest.IsZero() && n.Oldest.Before(total.Oldest) {
			total.Oldest = n.Oldest
		}
		total.Visible += n.Visible
		total.InFlight += n.InFlight
		total.Delayed += n.Delayed
	}
	return total, nil
}

// AdminQueue is a queue an operator sees and acts on: its counts and its
// dead letters.
type AdminQueue interface {
	QueueStats
	DeadLetters
}

// Join returns qs as one AdminQueue, as the console shows the task queue and
// the big-task queue: counts add up, a redrive or a purge acts on each
// dead-letter queue that holds messages.
func Join(qs ...AdminQueue) AdminQueue {
	var j joined
	for _, q := range qs {
		j.queueStats = append(j.queueStats, q)
		j.deadLetterQueues = append(j.deadLetterQueues, q)
	}
	return j
}

type joined struct {
	queueStats
	deadLetterQueues
}
