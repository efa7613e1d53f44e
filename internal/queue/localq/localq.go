// Package localq is the embedded queue with SQS's semantics that
// internal/memory uses as it is and internal/bolt with a Journal that
// persists it: the index (take, visibility, redrive, receive counts), the
// long poll of Receive, the SQS record it hands out and its receipt
// handles.
package localq

import (
	"container/heap"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/asyncprime/asyncprime/internal/queue"
	"github.com/asyncprime/asyncprime/internal/task"
)

// ARN is the EventSourceARN of the local queue name.
func ARN(name string) string { return "arn:aws:sqs:local:000000000000:" + name }

// Record returns the record Lambda would pass for m, with the attributes
// SQS sets.
func Record(m Msg, arn string) events.SQSMessage {
	ms := func(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }
	return events.SQSMessage{
		MessageId:     m.ID,
		ReceiptHandle: m.ID + "#" + strconv.Itoa(m.Receives),
		Body:          m.Body,
		Md5OfBody:     m.MD5,
		Attributes: map[string]string{
			queue.AttrReceiveCount:      strconv.Itoa(m.Receives),
			queue.AttrSentTimestamp:     ms(m.Sent),
			queue.AttrFirstReceiveStamp: ms(m.FirstReceive),
			queue.AttrSenderID:          "local",
		},
		MessageAttributes: map[string]events.SQSMessageAttribute{},
		EventSource:       "aws:sqs",
		EventSourceARN:    arn,
		AWSRegion:         "local",
	}
}

// MessageID returns the id of the message a receipt handle from Record names.
func MessageID(receiptHandle string) (string, error) {
	id, _, ok := strings.Cut(receiptHandle, "#")
	if !ok {
		return "", fmt.Errorf("malformed receipt handle %s", task.Excerpt(receiptHandle))
	}
	return id, nil
}

// Inflight orders received messages by the time they become visible again.
// Entries are never removed early: a message deleted or received again
// meanwhile is recognised, when its entry comes due, by its receive count.
type Inflight[T any] struct{ h entries[T] }

type entry[T any] struct {
	value     T
	receives  int
	visibleAt time.Time
}

// Push adds a message received for the receives-th time, hidden until visibleAt.
func (f *Inflight[T]) Push(v T, receives int, visibleAt time.Time) {
	heap.Push(&f.h, entry[T]{value: v, receives: receives, visibleAt: visibleAt})
}

// PopDue removes and returns the first entry visible again at now.
func (f *Inflight[T]) PopDue(now time.Time) (v T, receives int, ok bool) {
	if len(f.h) == 0 || f.h[0].visibleAt.After(now) {
		return v, 0, false
	}
	e := heap.Pop(&f.h).(entry[T])
	return e.value, e.receives, true
}

// Next is when the first entry becomes visible, or zero if there is none.
func (f *Inflight[T]) Next() time.Time {
	if len(f.h) == 0 {
		return time.Time{}
	}
	return f.h[0].visibleAt
}

type entries[T any] []entry[T]

func (h entries[T]) Len() int           { return len(h) }
func (h entries[T]) Less(i, j int) bool { return h[i].visibleAt.Before(h[j].visibleAt) }
func (h entries[T]) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *entries[T]) Push(x any)        { *h = append(*h, x.(entry[T])) }
func (h *entries[T]) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = entry[T]{}
	*h = old[:len(old)-1]
	return e
}
