package bolt

import (
	"context"
	"crypto/md5"
	"encoding/binary"
	"encoding/hex"
	"fmt"

	"go.etcd.io/bbolt"

	"github.com/asyncprime/asyncprime/internal/queue/localq"
	"github.com/asyncprime/asyncprime/internal/task"
)

// Queue is a queue.Queue kept in a bucket of the DB: a localq.Queue, the
// very queue of internal/memory, whose journal is the DB. Its index in
// memory is rebuilt from the bucket at Open and is authoritative while the
// DB is open: Receive never reads the bucket. Send waits for its commit;
// the bookkeeping of Receive and Delete is queued to the committer without
// waiting (see the package comment).
type Queue = localq.Queue

// journal is the DB as the queues' localq.Journal: their changes go
// through the committer.
type journal struct{ db *DB }

var _ localq.Journal = journal{}

// Done implements localq.Journal.
func (j journal) Done() <-chan struct{} { return j.db.closing }

// Err implements localq.Journal.
func (j journal) Err() error { return ErrClosed }

// Write implements localq.Journal.
func (j journal) Write(ctx context.Context, wait bool, changes []localq.Change) error {
	ws, err := encodeChanges(changes)
	if err != nil {
		return err
	}
	fn := func(tx *txn) error { return ws.apply(tx) }
	if wait {
		return j.db.c.Do(ctx, fn)
	}
	return j.db.c.Go("queue", fn)
}

// writes are queue changes encoded for their buckets.
type writes []struct {
	kind             localq.ChangeKind
	bucket, key, val []byte
}

func encodeChanges(changes []localq.Change) (writes, error) {
	ws := make(writes, len(changes))
	for i, c := range changes {
		ws[i].kind, ws[i].bucket, ws[i].key = c.Kind, queueBucket(c.Queue), messageKey(c.Msg.Seq)
		if c.Kind == localq.Delete {
			continue
		}
		m := c.Msg
		val, err := encodeMessage(messageRecord{
			ID: m.ID, Body: m.Body, MD5: m.MD5, Sent: millis(m.Sent),
			Receives: m.Receives, FirstReceive: millis(m.FirstReceive), VisibleAt: millis(m.VisibleAt),
		})
		if err != nil {
			return nil, err
		}
		ws[i].val = val
	}
	return ws, nil
}

func (ws writes) apply(tx *txn) error {
	for _, w := range ws {
		var err error
		switch {
		case w.kind == localq.Delete:
			err = tx.delete(w.bucket, w.key)
		case w.kind == localq.Update && tx.get(w.bucket, w.key) == nil:
			// Deleted or moved meanwhile: never bring it back.
		default:
			err = tx.put(w.bucket, w.key, w.val)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// load restores q's messages from its bucket, in key (sending) order. A
// message whose body does not match its MD5 was damaged on disk: it is an
// error, since the body is what the worker checks (the number of a task up
// to 64 bits travels in it), and a changed digit would record the answer
// for another number.
func load(tx *bbolt.Tx, q *Queue) error {
	c := tx.Bucket(queueBucket(q.Name())).Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if len(k) != 8 {
			return fmt.Errorf("queue %s: key %x is not a sequence number", q.Name(), k)
		}
		r, err := decodeMessage(k, v)
		if err != nil {
			return fmt.Errorf("queue %s: %w", q.Name(), err)
		}
		if sum := md5.Sum([]byte(r.Body)); hex.EncodeToString(sum[:]) != r.MD5 {
			return fmt.Errorf("queue %s: message %s at key %x: its body does not match its MD5", q.Name(), task.Excerpt(r.ID), k)
		}
		q.Restore(localq.Msg{
			Seq: binary.BigEndian.Uint64(k), ID: r.ID, Body: r.Body, MD5: r.MD5, Sent: fromMillis(r.Sent),
			Receives: r.Receives, FirstReceive: fromMillis(r.FirstReceive), VisibleAt: fromMillis(r.VisibleAt),
		})
	}
	return nil
}
