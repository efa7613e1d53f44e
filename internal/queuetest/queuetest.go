// Package queuetest is the conformance suite for queue.Queue. The in-memory,
// embedded and SQS adapters all run it; where an adapter and SQS disagree,
// the adapter is wrong.
package queuetest

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/asyncprime/asyncprime/internal/queue"
)

// Options configures the queues a subtest asks for.
type Options struct {
	VisibilityTimeout time.Duration // whole seconds, as SQS takes it
	MaxReceiveCount   int           // redrive to the dead-letter queue after this many receives
}

// NewFunc returns a fresh, empty queue and its dead-letter queue.
type NewFunc func(t *testing.T, opts Options) (q, dlq queue.Queue)

// Run runs the suite. Subtests run in parallel, each on its own queues; the
// visibility timeouts are a second, so the suite takes a few seconds.
func Run(t *testing.T, newQueue NewFunc) {
	t.Helper()
	opts := Options{VisibilityTimeout: time.Second, MaxReceiveCount: 2}

	t.Run("SendReceiveDelete", func(t *testing.T) {
		t.Parallel()
		q, _ := newQueue(t, opts)
		before := time.Now().Add(-time.Second)
		id, err := q.Send(t.Context(), `{"task_id":"x"}`)
		if err != nil {
			t.Fatalf("Send = %v; want nil", err)
		}
		msgs := receiveN(t, q, 1)
		m := msgs[0]
		if m.MessageId != id || m.Body != `{"task_id":"x"}` || m.ReceiptHandle == "" {
			t.Errorf("got message %q body %q handle %q; want id %q and the sent body", m.MessageId, m.Body, m.ReceiptHandle, id)
		}
		if m.EventSource != "aws:sqs" {
			t.Errorf("got EventSource %q; want aws:sqs", m.EventSource)
		}
		if got := m.Attributes[queue.AttrReceiveCount]; got != "1" {
			t.Errorf("ApproximateReceiveCount = %q; want 1", got)
		}
		for _, attr := range []string{queue.AttrSentTimestamp, queue.AttrFirstReceiveStamp} {
			ms, err := strconv.ParseInt(m.Attributes[attr], 10, 64)
			if err != nil || time.UnixMilli(ms).Before(before) {
				t.Errorf("%s = %q; want epoch milliseconds of about now", attr, m.Attributes[attr])
			}
		}
		if err := q.Delete(t.Context(), m.ReceiptHandle); err != nil {
			t.Fatalf("Delete = %v; want nil", err)
		}
		if err := q.Delete(t.Context(), m.ReceiptHandle); err != nil {
			t.Errorf("second Delete = %v; want nil", err)
		}
		waitEmpty(t, q, opts.VisibilityTimeout+time.Second)
	})

	t.Run("InvisibleThenRedelivered", func(t *testing.T) {
		t.Parallel()
		q, _ := newQueue(t, Options{VisibilityTimeout: time.Second, MaxReceiveCount: 5})
		mustSend(t, q, "again")
		first := receiveN(t, q, 1)[0]
		// Invisible while in flight.
		if got := receive(t, q, 10, 0); len(got) != 0 {
			t.Fatalf("received %d messages while the only one is in flight; want 0", len(got))
		}
		// Not deleted: it comes back, with a higher receive count.
		second := receiveN(t, q, 1)[0]
		if second.MessageId != first.MessageId || second.Body != "again" {
			t.Errorf("redelivered %q %q; want %q %q", second.MessageId, second.Body, first.MessageId, "again")
		}
		if got := second.Attributes[queue.AttrReceiveCount]; got != "2" {
			t.Errorf("ApproximateReceiveCount on redelivery = %q; want 2", got)
		}
		if err := q.Delete(t.Context(), second.ReceiptHandle); err != nil {
			t.Fatalf("Delete = %v; want nil", err)
		}
		waitEmpty(t, q, 2*time.Second)
	})

	t.Run("BatchesHoldEachMessageOnce", func(t *testing.T) {
		t.Parallel()
		q, _ := newQueue(t, Options{VisibilityTimeout: 30 * time.Second, MaxReceiveCount: 5})
		const n = 25
		for i := range n {
			mustSend(t, q, fmt.Sprint(i))
		}
		seen := map[string]bool{}
		deadline := time.Now().Add(20 * time.Second)
		for len(seen) < n && time.Now().Before(deadline) {
			for _, m := range receive(t, q, 10, time.Second) {
				if seen[m.Body] {
					t.Fatalf("message %q received twice within its visibility timeout", m.Body)
				}
				seen[m.Body] = true
			}
		}
		if len(seen) != n {
			t.Fatalf("received %d distinct messages; want %d", len(seen), n)
		}
	})

	t.Run("DeadLetterAfterMaxReceives", func(t *testing.T) {
		t.Parallel()
		q, dlq := newQueue(t, opts)
		id := mustSend(t, q, "poison")
		for i := 1; i <= opts.MaxReceiveCount; i++ {
			m := receiveN(t, q, 1)[0]
			if got := m.Attributes[queue.AttrReceiveCount]; got != strconv.Itoa(i) {
				t.Errorf("receive %d: ApproximateReceiveCount = %q; want %d", i, got, i)
			}
		}
		// The next receive moves it to the dead-letter queue instead.
		waitEmpty(t, q, opts.VisibilityTimeout+2*time.Second)
		dead := receiveN(t, dlq, 1)[0]
		if dead.Body != "poison" || dead.MessageId != id {
			t.Errorf("dead letter %q %q; want %q %q", dead.MessageId, dead.Body, id, "poison")
		}
	})

	t.Run("LongPollWakesOnSend", func(t *testing.T) {
		t.Parallel()
		q, _ := newQueue(t, opts)
		go func() {
			time.Sleep(200 * time.Millisecond)
			mustSend(t, q, "late")
		}()
		// One long poll: it must return the message sent while it waited.
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			if got := receive(t, q, 1, 5*time.Second); len(got) == 1 {
				if got[0].Body != "late" {
					t.Errorf("body = %q; want late", got[0].Body)
				}
				return
			}
		}
		t.Fatal("long poll never returned the message")
	})
}

func mustSend(t *testing.T, q queue.Queue, body string) string {
	t.Helper()
	id, err := q.Send(t.Context(), body)
	if err != nil {
		t.Errorf("Send(%q) = %v; want nil", body, err)
	}
	return id
}

func receive(t *testing.T, q queue.Queue, max int, wait time.Duration) []events.SQSMessage {
	t.Helper()
	msgs, err := q.Receive(t.Context(), max, wait)
	if err != nil {
		t.Fatalf("Receive = %v; want nil", err)
	}
	if len(msgs) > max {
		t.Fatalf("Receive(max=%d) returned %d messages", max, len(msgs))
	}
	return msgs
}

// receiveN long-polls until n messages arrived, for up to 10 s.
func receiveN(t *testing.T, q queue.Queue, n int) []events.SQSMessage {
	t.Helper()
	var got []events.SQSMessage
	deadline := time.Now().Add(10 * time.Second)
	for len(got) < n && time.Now().Before(deadline) {
		got = append(got, receive(t, q, min(n-len(got), 10), time.Second)...)
	}
	if len(got) < n {
		t.Fatalf("received %d messages; want %d", len(got), n)
	}
	return got
}

// waitEmpty checks that nothing is received for d.
func waitEmpty(t *testing.T, q queue.Queue, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if got := receive(t, q, 10, time.Second); len(got) != 0 {
			t.Fatalf("received %q; want an empty queue", got[0].Body)
		}
	}
}
