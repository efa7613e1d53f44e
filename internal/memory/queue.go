package memory

import (
	"container/heap"
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/asyncprime/asyncprime/internal/queue"
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
	seq      uint64
	msgs     map[string]*message // by message id
	ready    []string            // FIFO of visible message ids
	inflight inflightHeap        // received messages by the time they reappear
	notify   chan struct{}       // closed and replaced when a message is sent
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
	if opts.Name == "" {
		opts.Name = "tasks"
	}
	if opts.VisibilityTimeout <= 0 {
		opts.VisibilityTimeout = queue.DefaultVisibilityTimeout
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Queue{
		opts:   opts,
		arn:    "arn:aws:sqs:local:000000000000:" + opts.Name,
		msgs:   make(map[string]*message),
		notify: make(chan struct{}),
	}
}

// Send implements queue.Queue.
func (q *Queue) Send(_ context.Context, body string) (string, error) {
	sum := md5.Sum([]byte(body))
	q.mu.Lock()
	defer q.mu.Unlock()
	q.seq++
	m := &message{id: q.newID(), body: body, md5: hex.EncodeToString(sum[:]), sent: q.opts.Now()}
	q.add(m)
	return m.id, nil
}

func (q *Queue) newID() string { return task.NewID() }

// add makes m visible. The caller holds q.mu.
func (q *Queue) add(m *message) {
	q.msgs[m.id] = m
	q.ready = append(q.ready, m.id)
	close(q.notify)
	q.notify = make(chan struct{})
}

// Receive implements queue.Queue.
func (q *Queue) Receive(ctx context.Context, max int, wait time.Duration) ([]events.SQSMessage, error) {
	if max < 1 || max > 10 {
		return nil, fmt.Errorf("receive: max must be between 1 and 10, got %d", max)
	}
	var deadline <-chan time.Time
	if wait > 0 {
		timer := time.NewTimer(wait)
		defer timer.Stop()
		deadline = timer.C
	}
	for {
		q.mu.Lock()
		got := q.take(max)
		notify := q.notify
		next := q.nextVisible()
		q.mu.Unlock()
		if len(got) > 0 || wait <= 0 {
			return got, nil
		}
		var reappear <-chan time.Time
		if !next.IsZero() {
			timer := time.NewTimer(time.Until(next))
			reappear = timer.C
			defer timer.Stop()
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("receive: %w", ctx.Err())
		case <-deadline:
			return nil, nil
		case <-notify:
		case <-reappear:
		}
	}
}

// take receives up to max visible messages. The caller holds q.mu.
func (q *Queue) take(max int) []events.SQSMessage {
	now := q.opts.Now()
	for len(q.inflight) > 0 && !q.inflight[0].visibleAt.After(now) {
		e := heap.Pop(&q.inflight).(inflightEntry)
		if m, ok := q.msgs[e.id]; ok && m.inflight && m.receives == e.receives {
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
		heap.Push(&q.inflight, inflightEntry{id: id, receives: m.receives, visibleAt: now.Add(q.opts.VisibilityTimeout)})
		out = append(out, q.record(m))
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

// nextVisible is when the first in-flight message reappears, or zero.
func (q *Queue) nextVisible() time.Time {
	if len(q.inflight) == 0 {
		return time.Time{}
	}
	return q.inflight[0].visibleAt
}

func (q *Queue) record(m *message) events.SQSMessage {
	ms := func(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }
	return events.SQSMessage{
		MessageId:     m.id,
		ReceiptHandle: m.id + "#" + strconv.Itoa(m.receives),
		Body:          m.body,
		Md5OfBody:     m.md5,
		Attributes: map[string]string{
			queue.AttrReceiveCount:      strconv.Itoa(m.receives),
			queue.AttrSentTimestamp:     ms(m.sent),
			queue.AttrFirstReceiveStamp: ms(m.firstReceive),
			queue.AttrSenderID:          "local",
		},
		MessageAttributes: map[string]events.SQSMessageAttribute{},
		EventSource:       "aws:sqs",
		EventSourceARN:    q.arn,
		AWSRegion:         "local",
	}
}

// Delete implements queue.Queue.
func (q *Queue) Delete(_ context.Context, receiptHandles ...string) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, h := range receiptHandles {
		id, _, ok := strings.Cut(h, "#")
		if !ok {
			return fmt.Errorf("delete: malformed receipt handle %s", task.Excerpt(h))
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

type inflightEntry struct {
	id        string
	receives  int
	visibleAt time.Time
}

type inflightHeap []inflightEntry

func (h inflightHeap) Len() int           { return len(h) }
func (h inflightHeap) Less(i, j int) bool { return h[i].visibleAt.Before(h[j].visibleAt) }
func (h inflightHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *inflightHeap) Push(x any)        { *h = append(*h, x.(inflightEntry)) }
func (h *inflightHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}
