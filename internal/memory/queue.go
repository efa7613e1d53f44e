package memory

import (
	"cmp"
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/asyncprime/asyncprime/internal/queue"
	"github.com/asyncprime/asyncprime/internal/queue/localq"
	"github.com/asyncprime/asyncprime/internal/task"
)

// QueueOptions configures a Queue. Zero values take SQS's defaults.
type QueueOptions struct {
	// Name appears in the records' EventSourceARN.
	Name string
	// VisibilityTimeout is how long a received message stays invisible.
	VisibilityTimeout time.Duration
	// DeadLetter, if set, receives messages that were received more than
	// MaxReceiveCount times, as SQS's redrive policy does.
	DeadLetter      *Queue
	MaxReceiveCount int
	Now             func() time.Time
}

// Queue is a queue.Queue in memory with SQS's semantics: at-least-once
// delivery, a visibility timeout, receive counts and a dead-letter queue.
type Queue struct {
	opts QueueOptions
	arn  string

	mu       sync.Mutex
	msgs     map[string]*message       // by message id
	ready    []string                  // FIFO of visible message ids
	inflight localq.Inflight[*message] // received messages by the time they reappear
	notify   chan struct{}             // closed and replaced when a message is sent
}

type message struct {
	id, body, md5 string
	sent          time.Time
	firstReceive  time.Time
	receives      int
	inflight      bool
}

var _ queue.Queue = (*Queue)(nil)

// NewQueue returns an empty queue.
func NewQueue(opts QueueOptions) *Queue {
	opts.Name = cmp.Or(opts.Name, "tasks")
	opts.VisibilityTimeout = cmp.Or(opts.VisibilityTimeout, queue.DefaultVisibilityTimeout)
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Queue{
		opts:   opts,
		arn:    localq.ARN(opts.Name),
		msgs:   make(map[string]*message),
		notify: make(chan struct{}),
	}
}

// Send implements queue.Queue.
func (q *Queue) Send(_ context.Context, body string) (string, error) {
	sum := md5.Sum([]byte(body))
	q.mu.Lock()
	defer q.mu.Unlock()
	m := &message{id: task.NewID(), body: body, md5: hex.EncodeToString(sum[:]), sent: q.opts.Now()}
	q.add(m)
	return m.id, nil
}

// add makes m visible. The caller holds q.mu.
func (q *Queue) add(m *message) {
	q.msgs[m.id] = m
	q.ready = append(q.ready, m.id)
	close(q.notify)
	q.notify = make(chan struct{})
}

// Receive implements queue.Queue.
func (q *Queue) Receive(ctx context.Context, max int, wait time.Duration) ([]events.SQSMessage, error) {
	return localq.Poll(ctx, max, wait, nil, func() ([]events.SQSMessage, <-chan struct{}, time.Time, error) {
		q.mu.Lock()
		defer q.mu.Unlock()
		return q.take(max), q.notify, q.inflight.Next(), nil
	})
}

// take receives up to max visible messages. The caller holds q.mu.
func (q *Queue) take(max int) []events.SQSMessage {
	now := q.opts.Now()
	for {
		m, receives, ok := q.inflight.PopDue(now)
		if !ok {
			break
		}
		if _, live := q.msgs[m.id]; live && m.inflight && m.receives == receives {
			m.inflight = false
			q.ready = append(q.ready, m.id)
		}
	}
	var out []events.SQSMessage
	for len(out) < max && len(q.ready) > 0 {
		id := q.ready[0]
		q.ready[0] = ""
		q.ready = q.ready[1:]
		m, ok := q.msgs[id]
		if !ok || m.inflight {
			continue
		}
		if q.opts.DeadLetter != nil && q.opts.MaxReceiveCount > 0 && m.receives >= q.opts.MaxReceiveCount {
			delete(q.msgs, id)
			q.opts.DeadLetter.redrive(m)
			continue
		}
		m.receives++
		if m.firstReceive.IsZero() {
			m.firstReceive = now
		}
		m.inflight = true
		q.inflight.Push(m, m.receives, now.Add(q.opts.VisibilityTimeout))
		out = append(out, localq.Record(localq.Message{
			ID: m.id, Body: m.body, MD5: m.md5, Receives: m.receives, Sent: m.sent, FirstReceive: m.firstReceive,
		}, q.arn))
	}
	if len(q.ready) == 0 {
		q.ready = nil // let the backing array go
	}
	return out
}

// redrive takes a message moved from a source queue, as SQS does: same id
// and body, receive count reset.
func (q *Queue) redrive(m *message) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.add(&message{id: m.id, body: m.body, md5: m.md5, sent: m.sent})
}

// Delete implements queue.Queue.
func (q *Queue) Delete(_ context.Context, receiptHandles ...string) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, h := range receiptHandles {
		id, err := localq.MessageID(h)
		if err != nil {
			return fmt.Errorf("delete: %w", err)
		}
		delete(q.msgs, id) // in-flight and ready entries are dropped lazily
	}
	return nil
}

// Len returns the number of messages in the queue, visible or in flight.
func (q *Queue) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.msgs)
}

// SendBatch implements queue.Queue.
func (q *Queue) SendBatch(ctx context.Context, bodies []string) ([]string, error) {
	ids := make([]string, len(bodies))
	for i, b := range bodies {
		id, err := q.Send(ctx, b)
		if err != nil {
			return ids[:i], err
		}
		ids[i] = id
	}
	return ids, nil
}
