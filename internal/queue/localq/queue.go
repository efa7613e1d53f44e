package localq

import (
	"cmp"
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/asyncprime/asyncprime/internal/queue"
	"github.com/asyncprime/asyncprime/internal/task"
)

// Options configures a Queue. Zero values take SQS's defaults.
type Options struct {
	// Name appears in the records' EventSourceARN; "tasks" if empty.
	Name string
	// VisibilityTimeout is how long a received message stays invisible;
	// queue.DefaultVisibilityTimeout if zero.
	VisibilityTimeout time.Duration
	// DeadLetter, if set, receives the messages received MaxReceiveCount
	// times, on their next receive, as SQS's redrive policy does.
	DeadLetter      *Queue
	MaxReceiveCount int
	Now             func() time.Time // time.Now if nil
	// Journal, if set, persists every change (internal/bolt); without
	// one the queue lives in memory only.
	Journal Journal
}

// Journal persists a Queue's messages. The Queue's index in memory is
// authoritative: the journal only has to bring it back when the process
// starts again.
type Journal interface {
	// Write persists changes, in order. With wait, it returns once they
	// are durable, and an error means none of them is; without, it queues
	// them behind every earlier write and returns at once (what SQS itself
	// treats as approximate: receive counts, visibility, deletes).
	Write(ctx context.Context, wait bool, changes []Change) error
	// Done is closed when the journal closes; every call on the Queue
	// then fails with Err, and long polls return.
	Done() <-chan struct{}
	Err() error
}

// Change is one write of a Journal.
type Change struct {
	Queue string // the queue's name
	Kind  ChangeKind
	Msg   Msg // as it is after the change
}

// ChangeKind says what a Change does.
type ChangeKind int

const (
	// Put writes a message new to its queue.
	Put ChangeKind = iota
	// Update writes a message's new state, unless it is gone (deleted, or
	// moved meanwhile): an update never brings a message back.
	Update
	// Delete removes a message.
	Delete
)

// Msg is a message as a Journal stores it.
type Msg struct {
	// Seq orders the queue's messages by arrival, from 1; bolt's key.
	Seq           uint64
	ID, Body, MD5 string
	Sent          time.Time
	Receives      int
	FirstReceive  time.Time
	// VisibleAt is when a message in flight becomes visible again; zero
	// for a visible one.
	VisibleAt time.Time
}

type message struct {
	Msg
	gone bool // deleted, or moved to another queue
}

// Queue is a queue.Queue with SQS's semantics, kept in memory and, with a
// Journal, on disk: at-least-once delivery, a visibility timeout, receive
// counts, redrive to a dead-letter queue, and long polls that wake when a
// message arrives. It is the queue of internal/memory and internal/bolt.
type Queue struct {
	opts Options
	arn  string

	mu       sync.Mutex
	seq      uint64              // the last Seq given
	msgs     map[string]*message // by id
	ready    []*message          // FIFO of visible messages; stale entries skipped
	inflight Inflight[*message]  // received messages by when they reappear
	// waiting holds the long polls waiting for a message, oldest first,
	// each by its channel (buffered, 1). A poll joins only when it found
	// nothing visible; each message made visible wakes one (addLocked).
	waiting []chan struct{}
}

var _ queue.Queue = (*Queue)(nil)

// New returns an empty queue.
func New(opts Options) *Queue {
	opts.Name = cmp.Or(opts.Name, "tasks")
	opts.VisibilityTimeout = cmp.Or(opts.VisibilityTimeout, queue.DefaultVisibilityTimeout)
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Queue{opts: opts, arn: ARN(opts.Name), msgs: make(map[string]*message)}
}

// Name returns the queue's name.
func (q *Queue) Name() string { return q.opts.Name }

// DeadLetter returns the dead-letter queue, nil if there is none.
func (q *Queue) DeadLetter() *Queue { return q.opts.DeadLetter }

// Restore puts back a message read from the journal when the process
// starts, in Seq order, before the queue is used. A message that was in
// flight is visible at once, its receive count kept: the journal is opened
// by one process at a time (its file is locked), so whoever received the
// message has stopped and will never delete it, and waiting out its
// visibility timeout would only hold its task up after every restart.
func (q *Queue) Restore(m Msg) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.seq = max(q.seq, m.Seq)
	m.VisibleAt = time.Time{}
	mm := &message{Msg: m}
	q.msgs[m.ID] = mm
	q.ready = append(q.ready, mm)
}

// Prepare returns a new message for body, not yet in the queue: its writer
// persists it, then makes it visible with Add. Send does both; a store
// with an outbox writes the message in its own transaction.
func (q *Queue) Prepare(body string) Msg {
	sum := md5.Sum([]byte(body))
	q.mu.Lock()
	defer q.mu.Unlock()
	q.seq++
	return Msg{Seq: q.seq, ID: task.NewID(), Body: body, MD5: hex.EncodeToString(sum[:]), Sent: q.opts.Now()}
}

// Add makes prepared messages visible, once they are persisted.
func (q *Queue) Add(ms ...Msg) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, m := range ms {
		q.addLocked(&message{Msg: m})
	}
}

// addLocked makes m visible and wakes the long poll that has waited
// longest, if any. The caller holds q.mu.
func (q *Queue) addLocked(m *message) {
	q.msgs[m.ID] = m
	q.ready = append(q.ready, m)
	q.wakeLocked()
}

// wakeLocked wakes the long poll that has waited longest, if any: one per
// message made visible, rather than every poll for each message (sixteen
// pollers on an idle queue would each wake, lock and find nothing, fifteen
// times in sixteen). The caller holds q.mu.
func (q *Queue) wakeLocked() {
	if len(q.waiting) == 0 {
		return
	}
	w := q.waiting[0]
	q.waiting[0] = nil
	q.waiting = q.waiting[1:]
	if len(q.waiting) == 0 {
		q.waiting = nil // let the backing array go
	}
	w <- struct{}{} // never blocks: a poll is in the list once, emptied
}

// unwaitLocked takes w out of the list of waiting polls. It reports false
// if w was no longer there: it was woken, and its channel holds the token,
// which unwaitLocked takes. The caller holds q.mu.
func (q *Queue) unwaitLocked(w chan struct{}) bool {
	if i := slices.Index(q.waiting, w); i >= 0 {
		q.waiting = slices.Delete(q.waiting, i, i+1)
		return true
	}
	<-w
	return false
}

// removeLocked drops m; its ready and in-flight entries are skipped later.
// The caller holds q.mu.
func (q *Queue) removeLocked(m *message) {
	delete(q.msgs, m.ID)
	m.gone = true
}

// write hands changes to the journal, if there is one.
func (q *Queue) write(ctx context.Context, wait bool, changes []Change) error {
	if q.opts.Journal == nil || len(changes) == 0 {
		return nil
	}
	return q.opts.Journal.Write(ctx, wait, changes)
}

// closed returns the journal's error once it is closed.
func (q *Queue) closed() error {
	if q.opts.Journal == nil {
		return nil
	}
	select {
	case <-q.opts.Journal.Done():
		return q.opts.Journal.Err()
	default:
		return nil
	}
}

func (q *Queue) change(kind ChangeKind, m Msg) Change {
	return Change{Queue: q.opts.Name, Kind: kind, Msg: m}
}

// Send implements queue.Queue: the message is persisted before Send returns.
func (q *Queue) Send(ctx context.Context, body string) (string, error) {
	ids, err := q.send(ctx, []string{body})
	if err != nil {
		return "", fmt.Errorf("send: %w", err)
	}
	return ids[0], nil
}

// SendBatch implements queue.Queue: the messages are persisted together,
// all or none, before SendBatch returns.
func (q *Queue) SendBatch(ctx context.Context, bodies []string) ([]string, error) {
	ids, err := q.send(ctx, bodies)
	if err != nil {
		return nil, fmt.Errorf("send batch: %w", err)
	}
	return ids, nil
}

func (q *Queue) send(ctx context.Context, bodies []string) ([]string, error) {
	ms := make([]Msg, len(bodies))
	ids := make([]string, len(bodies))
	changes := make([]Change, len(bodies))
	for i, body := range bodies {
		ms[i] = q.Prepare(body)
		ids[i], changes[i] = ms[i].ID, q.change(Put, ms[i])
	}
	if err := q.write(ctx, true, changes); err != nil {
		return nil, err
	}
	q.Add(ms...)
	return ids, nil
}

// Receive implements queue.Queue. It takes visible messages, and if there
// are none waits until one is added or reappears, for up to wait in all
// (not at all if wait is zero). It returns early when ctx is done, and
// fails once the journal closes.
func (q *Queue) Receive(ctx context.Context, max int, wait time.Duration) ([]events.SQSMessage, error) {
	if max < 1 || max > queue.MaxBatch {
		return nil, fmt.Errorf("receive: max must be between 1 and %d, got %d", queue.MaxBatch, max)
	}
	var closing <-chan struct{}
	if q.opts.Journal != nil {
		closing = q.opts.Journal.Done()
	}
	var deadline <-chan time.Time
	if wait > 0 {
		timer := time.NewTimer(wait)
		defer timer.Stop()
		deadline = timer.C
	}
	var woken chan struct{} // this poll's token while it is in q.waiting
	var reappear *time.Timer
	defer func() {
		if reappear != nil {
			reappear.Stop()
		}
	}()
	for {
		if err := q.closed(); err != nil {
			return nil, fmt.Errorf("receive: %w", err)
		}
		q.mu.Lock()
		got, next := q.take(max), q.inflight.Next()
		if len(got) > 0 || wait <= 0 {
			q.mu.Unlock()
			return got, nil
		}
		if woken == nil {
			woken = make(chan struct{}, 1)
		}
		q.waiting = append(q.waiting, woken)
		q.mu.Unlock()
		var reappeared <-chan time.Time
		if !next.IsZero() {
			if reappear == nil {
				reappear = time.NewTimer(time.Until(next))
			} else {
				reappear.Reset(time.Until(next))
			}
			reappeared = reappear.C
		}
		timedOut := false
		select {
		case <-woken:
			continue // a message was added: take it
		case <-ctx.Done():
		case <-deadline:
			timedOut = true
		case <-closing:
		case <-reappeared:
		}
		q.mu.Lock()
		if !q.unwaitLocked(woken) && (timedOut || ctx.Err() != nil) {
			// Woken for a message as this poll gives up: pass it on.
			q.wakeLocked()
		}
		q.mu.Unlock()
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("receive: %w", err)
		}
		if timedOut {
			return nil, nil
		}
	}
}

// take receives up to max visible messages and hands their new state to
// the journal without waiting. The caller holds q.mu.
func (q *Queue) take(max int) []events.SQSMessage {
	now := q.opts.Now()
	for {
		m, receives, ok := q.inflight.PopDue(now)
		if !ok {
			break
		}
		if !m.gone && !m.VisibleAt.IsZero() && m.Receives == receives {
			m.VisibleAt = time.Time{}
			q.ready = append(q.ready, m)
		}
	}
	var out []events.SQSMessage
	var changes []Change
	for len(out) < max && len(q.ready) > 0 {
		m := q.ready[0]
		q.ready[0] = nil
		q.ready = q.ready[1:]
		if m.gone || !m.VisibleAt.IsZero() {
			continue
		}
		if dlq := q.opts.DeadLetter; dlq != nil && q.opts.MaxReceiveCount > 0 && m.Receives >= q.opts.MaxReceiveCount {
			q.removeLocked(m)
			dlq.deadLetter(q, m.Msg)
			continue
		}
		m.Receives++
		if m.FirstReceive.IsZero() {
			m.FirstReceive = now
		}
		m.VisibleAt = now.Add(q.opts.VisibilityTimeout)
		q.inflight.Push(m, m.Receives, m.VisibleAt)
		out = append(out, Record(m.Msg, q.arn))
		changes = append(changes, q.change(Update, m.Msg))
	}
	if len(q.ready) == 0 {
		q.ready = nil // let the backing array go
	}
	// Not waited for: a lost update only means a lower receive count, or
	// a message visible at once, after a crash.
	_ = q.write(context.Background(), false, changes)
	return out
}

// deadLetter takes m, moved from the source queue src, as SQS does: same id
// and body, receive count reset. The move is handed to the journal before
// the message becomes visible here, so that it is written before any
// bookkeeping of its receipt from this queue.
func (q *Queue) deadLetter(src *Queue, m Msg) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.seq++
	d := Msg{Seq: q.seq, ID: m.ID, Body: m.Body, MD5: m.MD5, Sent: m.Sent}
	_ = q.write(context.Background(), false, []Change{src.change(Delete, m), q.change(Put, d)})
	q.addLocked(&message{Msg: d})
}

// Delete implements queue.Queue. The message leaves the queue at once; the
// journal's delete is not waited for (one lost in a crash means one more
// delivery, which consumers tolerate).
func (q *Queue) Delete(_ context.Context, receiptHandles ...string) error {
	if err := q.closed(); err != nil {
		return fmt.Errorf("delete: %w", err)
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	var changes []Change
	defer func() { _ = q.write(context.Background(), false, changes) }()
	for _, h := range receiptHandles {
		id, err := MessageID(h)
		if err != nil {
			return fmt.Errorf("delete: %w", err)
		}
		if m, ok := q.msgs[id]; ok {
			q.removeLocked(m)
			changes = append(changes, q.change(Delete, m.Msg))
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
