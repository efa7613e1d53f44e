package bolt

import (
	"context"
	"crypto/md5"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"go.etcd.io/bbolt"

	"github.com/asyncprime/asyncprime/internal/queue"
	"github.com/asyncprime/asyncprime/internal/queue/localq"
	"github.com/asyncprime/asyncprime/internal/task"
)

// Queue is a queue.Queue kept in a bucket of the DB, with the semantics of
// memory.Queue: at-least-once delivery, a visibility timeout, receive counts
// and redrive to a dead-letter queue on the receive after MaxReceiveCount.
//
// An index in memory (every message by id, a FIFO of visible ones and a
// heap of those in flight) is rebuilt from the bucket at Open and is
// authoritative while the DB is open: Receive never reads the bucket. Send
// waits for its commit; the bookkeeping of Receive and Delete is queued to
// the committer without waiting (see the package comment).
type Queue struct {
	db         *DB
	name       string
	bucket     []byte
	arn        string
	dlq        *Queue // nil for a dead-letter queue
	maxReceive int
	outbox     bool

	mu       sync.Mutex
	seq      uint64                    // the last key used in the bucket
	msgs     map[string]*message       // by message id
	byTask   map[string]*message       // messages written by the outbox, by task id
	ready    []*message                // FIFO of visible messages; stale entries skipped
	inflight localq.Inflight[*message] // received messages by the time they reappear
	notify   chan struct{}             // closed and replaced when a message is added
}

type message struct {
	key           uint64 // in the bucket
	id, body, md5 string
	taskID        string // set if written by the outbox
	sent          time.Time
	firstReceive  time.Time
	visibleAt     time.Time // when an in-flight message reappears
	receives      int
	inflight      bool
	gone          bool // deleted, or moved to the dead-letter queue
}

var _ queue.Queue = (*Queue)(nil)

func newQueue(db *DB, name string, dlq *Queue, maxReceive int, outbox bool) *Queue {
	return &Queue{
		db:         db,
		name:       name,
		bucket:     queueBucket(name),
		arn:        localq.ARN(name),
		dlq:        dlq,
		maxReceive: maxReceive,
		outbox:     outbox,
		msgs:       make(map[string]*message),
		byTask:     make(map[string]*message),
		notify:     make(chan struct{}),
	}
}

// load fills the index from the bucket, in key (sending) order. A message
// that was in flight stays so until its persisted visibleAt, but no later
// than now plus the visibility timeout.
func (q *Queue) load(tx *bbolt.Tx, now time.Time) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	c := tx.Bucket(q.bucket).Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if len(k) != 8 {
			return fmt.Errorf("queue %s: key %x is not a sequence number", q.name, k)
		}
		r, err := decodeMessage(k, v)
		if err != nil {
			return fmt.Errorf("queue %s: %w", q.name, err)
		}
		m := &message{
			key: binary.BigEndian.Uint64(k), id: r.ID, body: r.Body, md5: r.MD5, taskID: r.TaskID,
			sent: fromMillis(r.Sent), firstReceive: fromMillis(r.FirstReceive), receives: r.Receives,
		}
		q.seq = max(q.seq, m.key)
		q.msgs[m.id] = m
		if m.taskID != "" {
			q.byTask[m.taskID] = m
		}
		if at := fromMillis(r.VisibleAt); at.After(now) {
			if limit := now.Add(q.db.opts.VisibilityTimeout); at.After(limit) {
				at = limit
			}
			m.inflight, m.visibleAt = true, at
			q.inflight.Push(m, m.receives, m.visibleAt)
			continue
		}
		q.ready = append(q.ready, m)
	}
	return nil
}

// outbound is a message prepared for writing: Store.Create and Send put
// it in a transaction, then add it to the index once that commits.
type outbound struct {
	q   *Queue
	m   *message
	key []byte
	val []byte
}

func (o *outbound) put(tx *bbolt.Tx) error { return tx.Bucket(o.q.bucket).Put(o.key, o.val) }

// prepare takes the next key and encodes a new message.
func (q *Queue) prepare(body, taskID string) (*outbound, error) {
	sum := md5.Sum([]byte(body))
	m := &message{id: task.NewID(), body: body, md5: hex.EncodeToString(sum[:]), taskID: taskID, sent: q.db.opts.Now()}
	q.mu.Lock()
	q.seq++
	m.key = q.seq
	q.mu.Unlock()
	val, err := encodeMessage(m.record())
	if err != nil {
		return nil, err
	}
	return &outbound{q: q, m: m, key: messageKey(m.key), val: val}, nil
}

// add makes a committed message visible.
func (q *Queue) add(o *outbound) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.addLocked(o.m)
}

// addLocked makes m visible. The caller holds q.mu.
func (q *Queue) addLocked(m *message) {
	q.msgs[m.id] = m
	if m.taskID != "" {
		q.byTask[m.taskID] = m
	}
	q.ready = append(q.ready, m)
	close(q.notify)
	q.notify = make(chan struct{})
}

// removeLocked drops m from the index; its ready and in-flight entries are
// skipped later. The caller holds q.mu.
func (q *Queue) removeLocked(m *message) {
	delete(q.msgs, m.id)
	if m.taskID != "" && q.byTask[m.taskID] == m {
		delete(q.byTask, m.taskID)
	}
	m.gone = true
}

// Send implements queue.Queue. With the outbox, a body that is exactly
// task.MessageFor(t) for a task whose outbox message is still queued
// returns that message's id and writes nothing. Any other body is written
// and committed before Send returns.
func (q *Queue) Send(ctx context.Context, body string) (string, error) {
	if q.outbox {
		if id, ok := q.outboxed(body); ok {
			return id, nil
		}
	}
	o, err := q.prepare(body, "")
	if err != nil {
		return "", fmt.Errorf("send: %w", err)
	}
	if err := q.db.c.Do(ctx, func(tx *bbolt.Tx) error { return abort(o.put(tx)) }); err != nil {
		return "", fmt.Errorf("send: %w", err)
	}
	q.add(o)
	return o.m.id, nil
}

// outboxed returns the id of the outbox message whose body is body.
func (q *Queue) outboxed(body string) (string, bool) {
	const prefix = `{"task_id":"`
	if len(body) < len(prefix)+36 || !strings.HasPrefix(body, prefix) {
		return "", false
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	m, ok := q.byTask[body[len(prefix):len(prefix)+36]]
	if !ok || m.body != body {
		return "", false
	}
	return m.id, true
}

// Receive implements queue.Queue.
func (q *Queue) Receive(ctx context.Context, max int, wait time.Duration) ([]events.SQSMessage, error) {
	return localq.Poll(ctx, max, wait, q.db.closing, func() ([]events.SQSMessage, <-chan struct{}, time.Time, error) {
		if q.db.closed() {
			return nil, nil, time.Time{}, fmt.Errorf("receive: %w", ErrClosed)
		}
		q.mu.Lock()
		defer q.mu.Unlock()
		return q.take(max), q.notify, q.inflight.Next(), nil
	})
}

// snapshot is the state of a received message to persist.
type snapshot struct {
	key []byte
	rec messageRecord
}

// take receives up to max visible messages and queues their bookkeeping
// to the committer. The caller holds q.mu.
func (q *Queue) take(max int) []events.SQSMessage {
	now := q.db.opts.Now()
	for {
		m, receives, ok := q.inflight.PopDue(now)
		if !ok {
			break
		}
		if !m.gone && m.inflight && m.receives == receives {
			m.inflight = false
			q.ready = append(q.ready, m)
		}
	}
	var out []events.SQSMessage
	var snaps []snapshot
	for len(out) < max && len(q.ready) > 0 {
		m := q.ready[0]
		q.ready[0] = nil
		q.ready = q.ready[1:]
		if m.gone || m.inflight {
			continue
		}
		if q.dlq != nil && q.maxReceive > 0 && m.receives >= q.maxReceive {
			q.removeLocked(m)
			q.dlq.redrive(q, m)
			continue
		}
		m.receives++
		if m.firstReceive.IsZero() {
			m.firstReceive = now
		}
		m.inflight = true
		m.visibleAt = now.Add(q.db.opts.VisibilityTimeout)
		q.inflight.Push(m, m.receives, m.visibleAt)
		out = append(out, localq.Record(localq.Message{
			ID: m.id, Body: m.body, MD5: m.md5, Receives: m.receives, Sent: m.sent, FirstReceive: m.firstReceive,
		}, q.arn))
		snaps = append(snaps, snapshot{key: messageKey(m.key), rec: m.record()})
	}
	if len(q.ready) == 0 {
		q.ready = nil // let the backing array go
	}
	if len(snaps) > 0 {
		// Not waited for: the index is authoritative while open. A lost
		// update only means a lower receive count, or a message visible
		// at once, after a crash.
		_ = q.db.c.Go("receive", func(tx *bbolt.Tx) error {
			b := tx.Bucket(q.bucket)
			for _, s := range snaps {
				if b.Get(s.key) == nil {
					continue // deleted meanwhile: never bring it back
				}
				val, err := encodeMessage(s.rec)
				if err != nil {
					return err
				}
				if err := b.Put(s.key, val); err != nil {
					return abort(err)
				}
			}
			return nil
		})
	}
	return out
}

// redrive takes a message moved from the source queue src, as SQS does:
// same id and body, receive count reset. The move is queued to the
// committer before the message becomes visible here, so that it is written
// before any bookkeeping of its receipt from this queue.
func (q *Queue) redrive(src *Queue, m *message) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.seq++
	d := &message{key: q.seq, id: m.id, body: m.body, md5: m.md5, sent: m.sent}
	srcKey, key, rec := messageKey(m.key), messageKey(d.key), d.record()
	_ = q.db.c.Go("redrive", func(tx *bbolt.Tx) error {
		val, err := encodeMessage(rec)
		if err != nil {
			return err
		}
		if err := tx.Bucket(src.bucket).Delete(srcKey); err != nil {
			return abort(err)
		}
		return abort(tx.Bucket(q.bucket).Put(key, val))
	})
	q.addLocked(d)
}

func (m *message) record() messageRecord {
	r := messageRecord{
		ID: m.id, Body: m.body, MD5: m.md5, TaskID: m.taskID,
		Sent: millis(m.sent), Receives: m.receives, FirstReceive: millis(m.firstReceive),
	}
	if m.inflight {
		r.VisibleAt = millis(m.visibleAt)
	}
	return r
}

// Delete implements queue.Queue. The message leaves the index at once; its
// removal from the bucket is queued to the committer without waiting (a
// delete lost in a crash means one more delivery, which consumers tolerate).
func (q *Queue) Delete(_ context.Context, receiptHandles ...string) error {
	if q.db.closed() {
		return fmt.Errorf("delete: %w", ErrClosed)
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	var keys [][]byte
	defer func() {
		if len(keys) == 0 {
			return
		}
		_ = q.db.c.Go("delete", func(tx *bbolt.Tx) error {
			b := tx.Bucket(q.bucket)
			for _, k := range keys {
				if err := b.Delete(k); err != nil {
					return abort(err)
				}
			}
			return nil
		})
	}()
	for _, h := range receiptHandles {
		id, err := localq.MessageID(h)
		if err != nil {
			return fmt.Errorf("delete: %w", err)
		}
		if m, ok := q.msgs[id]; ok {
			q.removeLocked(m)
			keys = append(keys, messageKey(m.key))
		}
	}
	return nil
}

// Len returns the number of messages in the queue, visible or in flight.
func (q *Queue) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.msgs)
}
