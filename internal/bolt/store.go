package bolt

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"go.etcd.io/bbolt"

	"github.com/asyncprime/asyncprime/internal/queue/localq"
	"github.com/asyncprime/asyncprime/internal/task"
)

// Store is a task.Store in the DB's tasks bucket, and a task.Outbox for
// the DB's queues. Every write waits for its commit; Get reads in a bbolt
// read transaction, by key.
type Store struct{ db *DB }

var (
	_ task.Store    = (*Store)(nil)
	_ task.Outbox   = (*Store)(nil)
	_ task.Reopener = (*Store)(nil)
)

// Create implements task.Store.
func (s *Store) Create(ctx context.Context, t task.Task) error {
	return s.create(ctx, []task.Job{{Task: t}})
}

// CreateBatch implements task.Store: every record in one transaction, all
// or none.
func (s *Store) CreateBatch(ctx context.Context, ts []task.Task) error {
	jobs := make([]task.Job, len(ts))
	for i, t := range ts {
		jobs[i].Task = t
	}
	return s.create(ctx, jobs)
}

// CreateAndEnqueue implements task.Outbox: every record and every message
// in one transaction, all or none. The jobs' queues must be the DB's own
// (Queue, BigQueue); for any other it returns task.ErrNoOutbox.
func (s *Store) CreateAndEnqueue(ctx context.Context, jobs []task.Job) error {
	for _, j := range jobs {
		if q, ok := j.Queue.(*Queue); !ok || (q != s.db.queue && q != s.db.big) {
			return fmt.Errorf("create task %s: queue %T: %w", j.Task.ID, j.Queue, task.ErrNoOutbox)
		}
	}
	return s.create(ctx, jobs)
}

// create writes the jobs' tasks and, for jobs with a queue, their
// messages, in one commit. A task already there, the very same, is a
// retried write: it gets no second message.
func (s *Store) create(ctx context.Context, jobs []task.Job) error {
	recs := make([][]byte, len(jobs))
	msgs := make([]localq.Msg, len(jobs))
	msgWrites := make([]writes, len(jobs))
	for i, j := range jobs {
		rec, err := encodeTask(j.Task)
		if err != nil {
			return fmt.Errorf("create task %s: %w", j.Task.ID, err)
		}
		recs[i] = rec
		if q, ok := j.Queue.(*Queue); ok {
			msgs[i] = q.Prepare(task.MessageFor(j.Task))
			if msgWrites[i], err = encodeChanges([]localq.Change{{Queue: q.Name(), Kind: localq.Put, Msg: msgs[i]}}); err != nil {
				return fmt.Errorf("create task %s: %w", j.Task.ID, err)
			}
		}
	}
	again := make([]bool, len(jobs))
	err := s.db.c.Do(ctx, func(tx *txn) error {
		for i, j := range jobs {
			key := []byte(j.Task.ID)
			v := tx.get(bucketTasks, key)
			again[i] = v != nil
			switch {
			case v != nil && !bytes.Equal(v, recs[i]) && len(jobs) == 1:
				return task.ErrExists
			case v != nil && !bytes.Equal(v, recs[i]):
				return fmt.Errorf("task %s: %w", j.Task.ID, task.ErrExists)
			case v != nil:
				continue // the same task, created before: a retry
			}
			if err := tx.put(bucketTasks, key, recs[i]); err != nil {
				return err
			}
			if err := msgWrites[i].apply(tx); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("create %s: %w", describe(jobs), err)
	}
	for i, j := range jobs {
		if q, ok := j.Queue.(*Queue); ok && !again[i] {
			q.Add(msgs[i])
		}
	}
	return nil
}

func describe(jobs []task.Job) string {
	if len(jobs) == 1 {
		return "task " + jobs[0].Task.ID
	}
	return fmt.Sprintf("%d tasks", len(jobs))
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
	return s.update(ctx, "start", id, func(t task.Task) (task.Task, error) { return task.Started(t, at) })
}

// Finish implements task.Store.
func (s *Store) Finish(ctx context.Context, id string, out task.Outcome) error {
	_, err := s.update(ctx, "finish", id, func(t task.Task) (task.Task, error) { return task.Finished(t, out) })
	return err
}

// Abandon implements task.Store: a missing task is recorded as t. A
// message the outbox queued for the task stays; its delivery finds the
// task final and is acknowledged.
func (s *Store) Abandon(ctx context.Context, t task.Task) error {
	key := []byte(t.ID)
	rec, err := encodeTask(t)
	if err == nil {
		err = s.db.c.Do(ctx, func(tx *txn) error {
			if v := tx.get(bucketTasks, key); v != nil {
				cur, err := decodeTask(t.ID, v)
				if err != nil {
					return err
				}
				if _, err := task.Abandoned(cur, t); err != nil {
					return err
				}
			}
			return tx.put(bucketTasks, key, rec)
		})
	}
	if err != nil {
		return fmt.Errorf("abandon task %s: %w", t.ID, err)
	}
	return nil
}

// Revoke implements task.Store.
func (s *Store) Revoke(ctx context.Context, id string, at, expires time.Time) (task.Task, error) {
	return s.update(ctx, "revoke", id, func(t task.Task) (task.Task, error) { return task.Revoked(t, at, expires) })
}

// Reopen implements task.Reopener.
func (s *Store) Reopen(ctx context.Context, id string, expiresAt time.Time) error {
	_, err := s.update(ctx, "reopen", id, func(t task.Task) (task.Task, error) { return task.Reopened(t, expiresAt) })
	return err
}

// update reads task id, applies change and writes the result, all in the
// committer's transaction, and returns the task as written. An error from
// change is the caller's result and writes nothing.
func (s *Store) update(ctx context.Context, op, id string, change func(task.Task) (task.Task, error)) (task.Task, error) {
	key := []byte(id)
	var next task.Task
	err := s.db.c.Do(ctx, func(tx *txn) error {
		v := tx.get(bucketTasks, key)
		if v == nil {
			return task.ErrNotFound
		}
		cur, err := decodeTask(id, v)
		if err != nil {
			return err
		}
		if next, err = change(cur); err != nil {
			return err
		}
		rec, err := encodeTask(next)
		if err != nil {
			return err
		}
		return tx.put(bucketTasks, key, rec)
	})
	if err != nil {
		return task.Task{}, fmt.Errorf("%s task %s: %w", op, id, err)
	}
	return next, nil
}
