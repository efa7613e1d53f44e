package bolt

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"go.etcd.io/bbolt"

	"github.com/asyncprime/asyncprime/internal/task"
)

// bucketClaims holds idempotency claims by key:
//
//	idempotency            bucket, created on the first claim
//	  <key>                the Idempotency-Key → {"hash","batch","task_ids",
//	                       "created_at","expires_at"}
var bucketClaims = []byte("idempotency")

type claimRecord struct {
	Hash      string    `json:"hash"`
	Batch     bool      `json:"batch,omitempty"`
	TaskIDs   []string  `json:"task_ids"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
}

func encodeClaim(c task.Claim) ([]byte, error) {
	return json.Marshal(claimRecord{Hash: c.Hash, Batch: c.Batch, TaskIDs: c.TaskIDs, CreatedAt: c.CreatedAt, ExpiresAt: c.ExpiresAt})
}

func decodeClaim(key string, b []byte) (task.Claim, error) {
	var r claimRecord
	if err := json.Unmarshal(b, &r); err != nil {
		return task.Claim{}, fmt.Errorf("decode claim %s: %w", task.Excerpt(key), err)
	}
	return task.Claim{Key: key, Hash: r.Hash, Batch: r.Batch, TaskIDs: r.TaskIDs, CreatedAt: r.CreatedAt, ExpiresAt: r.ExpiresAt}, nil
}

// Revoke implements task.Store.
func (s *Store) Revoke(ctx context.Context, id string, at, expires time.Time) (task.Task, error) {
	var revoked task.Task
	err := s.update(ctx, id, func(t task.Task) (task.Task, error) {
		if t.Status.Final() {
			return t, &task.FinalError{ID: id, Status: t.Status}
		}
		revoked = task.Revoked(t, at, expires)
		return revoked, nil
	})
	if err != nil {
		return task.Task{}, fmt.Errorf("revoke task %s: %w", id, err)
	}
	return revoked, nil
}

// CreateBatch implements task.Store: every record (and, with the outbox,
// every message) in one transaction, all or none.
func (s *Store) CreateBatch(ctx context.Context, ts []task.Task) error {
	recs := make([][]byte, len(ts))
	outs := make([]*outbound, len(ts))
	for i, t := range ts {
		rec, err := encodeTask(t)
		if err != nil {
			return fmt.Errorf("create task %s: %w", t.ID, err)
		}
		recs[i] = rec
		if s.db.opts.Outbox && t.Status == task.StatusPending {
			if outs[i], err = s.queueFor(t).prepare(task.MessageFor(t), t.ID); err != nil {
				return fmt.Errorf("create task %s: %w", t.ID, err)
			}
		}
	}
	again := make([]bool, len(ts))
	err := s.db.c.Do(ctx, func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketTasks)
		for i, t := range ts {
			again[i] = false
			if v := b.Get([]byte(t.ID)); v != nil {
				if bytes.Equal(v, recs[i]) {
					again[i] = true // the same task, created before: a retry
					continue
				}
				return fmt.Errorf("task %s: %w", t.ID, task.ErrExists)
			}
		}
		for i, t := range ts {
			if again[i] {
				continue
			}
			if err := b.Put([]byte(t.ID), recs[i]); err != nil {
				return abort(err)
			}
			if outs[i] != nil {
				if err := outs[i].put(tx); err != nil {
					return abort(err)
				}
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("create %d tasks: %w", len(ts), err)
	}
	for i, o := range outs {
		if o != nil && !again[i] {
			s.queueFor(ts[i]).add(o)
		}
	}
	return nil
}

// Claim implements task.Store: the check and the write in one transaction.
func (s *Store) Claim(ctx context.Context, c task.Claim) (task.Claim, error) {
	val, err := encodeClaim(c)
	if err != nil {
		return task.Claim{}, fmt.Errorf("claim key %s: %w", task.Excerpt(c.Key), err)
	}
	var holder task.Claim
	err = s.db.c.Do(ctx, func(tx *bbolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketClaims)
		if err != nil {
			return abort(err)
		}
		if v := b.Get([]byte(c.Key)); v != nil {
			cur, err := decodeClaim(c.Key, v)
			if err != nil {
				return err
			}
			if !cur.Expired(c.CreatedAt) {
				if cur.Same(c) {
					return nil // a retry
				}
				holder = cur
				return task.ErrClaimed
			}
		}
		return abort(b.Put([]byte(c.Key), val))
	})
	if err != nil {
		return holder, fmt.Errorf("claim key %s: %w", task.Excerpt(c.Key), err)
	}
	return c, nil
}

// Release implements task.Store.
func (s *Store) Release(ctx context.Context, c task.Claim) error {
	err := s.db.c.Do(ctx, func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketClaims)
		var v []byte
		if b != nil {
			v = b.Get([]byte(c.Key))
		}
		if v == nil {
			return task.ErrNotFound
		}
		cur, err := decodeClaim(c.Key, v)
		if err != nil {
			return err
		}
		if !cur.Same(c) {
			return fmt.Errorf("held by another request: %w", task.ErrConflict)
		}
		cur.ExpiresAt = c.CreatedAt
		val, err := encodeClaim(cur)
		if err != nil {
			return err
		}
		return abort(b.Put([]byte(c.Key), val))
	})
	if err != nil {
		return fmt.Errorf("release key %s: %w", task.Excerpt(c.Key), err)
	}
	return nil
}

// sweepClaims deletes the claims expired at now, in the committer, as the
// task sweep does; it returns how many.
func (db *DB) sweepClaims(ctx context.Context, now time.Time) (int, error) {
	n := 0
	err := db.c.Do(ctx, func(tx *bbolt.Tx) error {
		n = 0
		b := tx.Bucket(bucketClaims)
		if b == nil {
			return nil
		}
		var expired [][]byte
		err := b.ForEach(func(k, v []byte) error {
			if c, err := decodeClaim(string(k), v); err != nil || c.Expired(now) {
				expired = append(expired, append([]byte(nil), k...))
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, k := range expired {
			if err := b.Delete(k); err != nil {
				return abort(err)
			}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("sweep claims: %w", err)
	}
	return n, nil
}

// SendBatch implements queue.Queue: the messages not already in the outbox
// are written in one commit.
func (q *Queue) SendBatch(ctx context.Context, bodies []string) ([]string, error) {
	ids := make([]string, len(bodies))
	var outs []*outbound
	for i, body := range bodies {
		if q.outbox {
			if id, ok := q.outboxed(body); ok {
				ids[i] = id
				continue
			}
		}
		o, err := q.prepare(body, "")
		if err != nil {
			return nil, fmt.Errorf("send batch: %w", err)
		}
		ids[i] = o.m.id
		outs = append(outs, o)
	}
	if len(outs) == 0 {
		return ids, nil
	}
	err := q.db.c.Do(ctx, func(tx *bbolt.Tx) error {
		for _, o := range outs {
			if err := o.put(tx); err != nil {
				return abort(err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("send batch: %w", err)
	}
	for _, o := range outs {
		q.add(o)
	}
	return ids, nil
}
