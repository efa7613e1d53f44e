// Package deadletter settles the tasks whose messages reached a
// dead-letter queue, without consuming the dead letters: they stay in
// their queue, the operator's inbox, for the console (and primectl) to
// show, redrive or purge.
//
// A Settler peeks at a dead-letter queue (receives and puts back, as the
// console's PeekDeadLetters does) and, for each message naming a task that
// is not final, records FAILURE with task.DeadLetteredError (task.Reaper).
// The local mode runs one per dead-letter queue every few seconds
// (Settler.Run); on AWS the dead-letter function runs a round of each on a
// schedule (functions/deadletter).
package deadletter

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/asyncprime/asyncprime/internal/queue"
	"github.com/asyncprime/asyncprime/internal/task"
)

// Peeker looks at a dead-letter queue's messages and leaves them there.
// The local queues and sqsqueue implement it on a source queue (its
// dead-letter queue is peeked); PeekFunc adapts anything else.
type Peeker interface {
	PeekDeadLetters(ctx context.Context, max int) ([]queue.Peeked, error)
}

// PeekFunc is a Peeker made of a function.
type PeekFunc func(ctx context.Context, max int) ([]queue.Peeked, error)

// PeekDeadLetters implements Peeker.
func (f PeekFunc) PeekDeadLetters(ctx context.Context, max int) ([]queue.Peeked, error) {
	return f(ctx, max)
}

// Store is the part of a task store a Settler uses: a read, so that a
// final task costs no write, and Finish for the Reaper.
type Store interface {
	Get(ctx context.Context, id string) (task.Task, error)
	task.Finisher
}

// DefaultLimit bounds the dead letters a round looks at.
const DefaultLimit = 100

// DefaultEvery is the local mode's interval between rounds.
const DefaultEvery = 5 * time.Second

// Settler settles the tasks of one dead-letter queue, a round at a time.
//
// A task is settled the second time a round finds its message dead and the
// task not final, never the first: a redrive reopens its tasks to PENDING
// just before it moves their messages (task.ReopenDeadLettered), and a
// round that runs in between must not undo it. So a message found with its
// task not final is remembered, and settled by the next round that still
// finds it dead-lettered (a redrive that failed, or none at all). Memory
// of it is lost with the process (a cold Lambda): that delays the
// settling by a round, never makes it wrong.
type Settler struct {
	// Name names the dead-letter queue in the logs.
	Name   string
	Queue  Peeker
	Store  Store
	Reaper *task.Reaper
	// Limit bounds the messages one round looks at (DefaultLimit if 0).
	Limit int
	// Grace is how long after a message was first found with its task
	// not final a later round waits before settling it: the time a
	// redrive has to move the message after reopening the task. Zero
	// settles at the next round, which suits a queue whose redrive moves
	// the messages before it returns (the local queues); SQS's
	// StartMessageMoveTask moves them in the background.
	Grace  time.Duration
	Now    func() time.Time // time.Now if nil
	Logger *slog.Logger     // slog.Default() if nil

	// seen holds, for each message a round found with its task not
	// final, when it was first found so: a later round that still finds
	// it dead settles its task.
	seen map[string]time.Time
	// last is the previous round's count of messages it cannot settle:
	// the warning about them is logged when it changes.
	lastPoison, lastUnknown int
}

// Round is what one round found.
type Round struct {
	Peeked int // dead letters looked at
	// Settled tasks are FAILURE now; Waiting ones were found not final,
	// for the first time (or within Grace of it), and are settled by a
	// later round if their message is still dead.
	Settled, Waiting int
	// Final tasks had their result already (SUCCESS, FAILURE, REVOKED).
	Final int
	// Poison messages name no task; Unknown ones name a task that is gone
	// (expired) or damaged. Both stay in the queue for the operator.
	Poison, Unknown int
}

// Settle runs one round: it peeks at up to Limit dead letters and settles
// their tasks. It returns an error when the queue or the store does not
// answer; the round's results so far stand, and the next round goes on.
// Settle is not safe for concurrent use.
func (s *Settler) Settle(ctx context.Context) (Round, error) {
	var r Round
	log := cmp.Or(s.Logger, slog.Default())
	peeked, err := s.Queue.PeekDeadLetters(ctx, cmp.Or(s.Limit, DefaultLimit))
	if err != nil {
		return r, fmt.Errorf("settle dead letters of %s: peek: %w", s.Name, err)
	}
	r.Peeked = len(peeked)
	now := time.Now()
	if s.Now != nil {
		now = s.Now()
	}
	seen := make(map[string]time.Time)
	var poison []string
	defer func() {
		s.seen = seen
		changed := r.Poison != s.lastPoison || r.Unknown != s.lastUnknown
		s.lastPoison, s.lastUnknown = r.Poison, r.Unknown
		if r.Poison+r.Unknown > 0 && changed {
			// For the operator, once a round at most, and only when the
			// count changes; the messages are never dropped.
			log.WarnContext(ctx, "dead-letter queue holds messages with no task to settle; they stay there for the operator (console: redrive or purge)",
				slog.String("queue", s.Name), slog.Int("poison", r.Poison), slog.Int("unknown_task", r.Unknown), slog.Any("poison_message_ids", poison))
		}
	}()
	for i, p := range peeked {
		msg, err := task.DecodeMessage(p.Body)
		if err != nil {
			r.Poison++
			if len(poison) < 5 {
				poison = append(poison, p.ID)
			}
			continue
		}
		t, err := s.Store.Get(ctx, msg.TaskID)
		switch {
		case errors.Is(err, task.ErrNotFound), errors.Is(err, task.ErrDamaged):
			r.Unknown++
			continue
		case err != nil:
			keep(seen, s.seen, peeked[i:])
			return r, fmt.Errorf("settle dead letters of %s: %w", s.Name, err)
		case t.Status.Final():
			r.Final++
			continue
		}
		if first, ok := s.seen[p.ID]; !ok || now.Sub(first) < s.Grace {
			seen[p.ID] = cmp.Or(first, now)
			r.Waiting++
			continue
		}
		switch res, err := s.Reaper.Settle(ctx, msg.TaskID); {
		case err != nil:
			keep(seen, s.seen, peeked[i:])
			return r, fmt.Errorf("settle dead letters of %s: %w", s.Name, err)
		case res == task.Settled:
			r.Settled++
		case res == task.AlreadyFinal:
			r.Final++
		default:
			r.Unknown++
		}
	}
	return r, nil
}

// keep carries over the sightings of the messages a failed round did not
// decide (rest: the one it failed on and those after).
func keep(next, prev map[string]time.Time, rest []queue.Peeked) {
	for _, p := range rest {
		if first, ok := prev[p.ID]; ok {
			next[p.ID] = first
		}
	}
}

// Run settles a round at once, then one each time tick fires, until ctx
// is done. A round that fails is logged; the next one goes on.
func (s *Settler) Run(ctx context.Context, tick <-chan time.Time) {
	log := cmp.Or(s.Logger, slog.Default())
	for {
		if _, err := s.Settle(ctx); err != nil && ctx.Err() == nil {
			log.WarnContext(ctx, "dead-letter settle round failed; the next one retries", slog.String("queue", s.Name), slog.Any("error", err))
		}
		select {
		case <-ctx.Done():
			return
		case <-tick:
		}
	}
}
