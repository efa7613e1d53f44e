package bolt

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"go.etcd.io/bbolt"

	"github.com/asyncprime/asyncprime/internal/task"
)

// Store is a task.Store in the DB's tasks bucket. Every write waits for its
// commit; Get reads in a bbolt read transaction, by key.
type Store struct{ db *DB }

var _ task.Store = (*Store)(nil)

// Create implements task.Store. With Options.Outbox, a PENDING task's queue
// message (body task.MessageFor(t)) is written in the same commit as
// its record, and is visible to Receive once Create returns.
func (s *Store) Create(ctx context.Context, t task.Task) error {
	rec, err := encodeTask(t)
	if err != nil {
		return fmt.Errorf("create task %s: %w", t.ID, err)
	}
	key := []byte(t.ID)
	var out *outbound
	q := s.queueFor(t)
	if s.db.opts.Outbox && t.Status == task.StatusPending {
		if out, err = q.prepare(task.MessageFor(t), t.ID); err != nil {
			return fmt.Errorf("create task %s: %w", t.ID, err)
		}
	}
	again := false
	err = s.db.c.Do(ctx, func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketTasks)
		if v := b.Get(key); v != nil {
			if bytes.Equal(v, rec) {
				again = true // the same task, created before: a retry
				return nil
			}
			return task.ErrExists
		}
		if err := b.Put(key, rec); err != nil {
			return abort(err)
		}
		if out != nil {
			return abort(out.put(tx))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("create task %s: %w", t.ID, err)
	}
	if out != nil && !again {
		q.add(out)
	}
	return nil
}

// queueFor returns the queue t's message goes to: the big-task queue for a
// number beyond 64 bits when Options.SplitBig, else the tasks queue.
func (s *Store) queueFor(t task.Task) *Queue {
	if s.db.opts.SplitBig && task.Big(t.Number) {
		return s.db.big
	}
	return s.db.queue
}

// Get implements task.Store.
func (s *Store) Get(_ context.Context, id string) (task.Task, error) {
	if s.db.closed() {
		return task.Task{}, fmt.Errorf("get task %s: %w", id, ErrClosed)
	}
	var t task.Task
	err := s.db.bolt.View(func(tx *bbolt.Tx) error {
		v := tx.Bucket(bucketTasks).Get([]byte(id))
		if v == nil {
			return task.ErrNotFound
		}
		var err error
		t, err = decodeTask(id, v)
		return err
	})
	if err != nil {
		return task.Task{}, fmt.Errorf("get task %s: %w", id, err)
	}
	return t, nil
}

// Start implements task.Store.
func (s *Store) Start(ctx context.Context, id string, at time.Time) (task.Task, error) {
	var started task.Task
	err := s.update(ctx, id, func(t task.Task) (task.Task, error) {
		if t.Status.Final() {
			return t, fmt.Errorf("in state %s: %w", t.Status, task.ErrConflict)
		}
		t.Status, t.StartedAt = task.StatusStarted, at
		t.Attempts++
		started = t
		return t, nil
	})
	if err != nil {
		return task.Task{}, fmt.Errorf("start task %s: %w", id, err)
	}
	return started, nil
}

// Finish implements task.Store.
func (s *Store) Finish(ctx context.Context, id string, out task.Outcome) error {
	err := s.update(ctx, id, func(t task.Task) (task.Task, error) {
		if t.Status.Final() {
			return t, fmt.Errorf("in state %s: %w", t.Status, task.ErrConflict)
		}
		return task.Apply(t, out), nil
	})
	if err != nil {
		return fmt.Errorf("finish task %s: %w", id, err)
	}
	return nil
}

// Abandon implements task.Store. With the outbox, the task's message stays
// queued; its delivery finds the task final and is acknowledged.
func (s *Store) Abandon(ctx context.Context, t task.Task) error {
	rec, err := encodeTask(t)
	if err != nil {
		return fmt.Errorf("abandon task %s: %w", t.ID, err)
	}
	key := []byte(t.ID)
	err = s.db.c.Do(ctx, func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketTasks)
		v := b.Get(key)
		if v == nil {
			return task.ErrNotFound
		}
		cur, err := decodeTask(t.ID, v)
		if err != nil {
			return err
		}
		if cur.Status != task.StatusPending {
			return fmt.Errorf("in state %s: %w", cur.Status, task.ErrConflict)
		}
		return abort(b.Put(key, rec))
	})
	if err != nil {
		return fmt.Errorf("abandon task %s: %w", t.ID, err)
	}
	return nil
}

// update reads task id, applies change and writes the result, all in the
// committer's transaction. An error from change is the caller's result and
// writes nothing.
func (s *Store) update(ctx context.Context, id string, change func(task.Task) (task.Task, error)) error {
	key := []byte(id)
	return s.db.c.Do(ctx, func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketTasks)
		v := b.Get(key)
		if v == nil {
			return task.ErrNotFound
		}
		cur, err := decodeTask(id, v)
		if err != nil {
			return err
		}
		next, err := change(cur)
		if err != nil {
			return err
		}
		rec, err := encodeTask(next)
		if err != nil {
			return err
		}
		return abort(b.Put(key, rec))
	})
}
