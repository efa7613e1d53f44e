// Package queuetest is the conformance suite for queue.Queue. The in-memory,
// embedded and SQS adapters all run it; where an adapter and SQS disagree,
// the adapter is wrong.
//
// The suite runs on the queues' own clock (SQS's is real time), so it waits
// for events, never for time: a message that must come back is received
// until it does, a message that must not is checked against a control
// message that came back after it would have, and every wait is bounded only
// by the subtest's context, which ends a failing subtest and never a passing
// one on a loaded machine.
package queuetest

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/asyncprime/asyncprime/internal/queue"
	"github.com/asyncprime/asyncprime/internal/testkit"
)

// Options configures the queues a subtest asks for.
type Options struct {
	VisibilityTimeout time.Duration // whole seconds, as SQS takes it
	MaxReceiveCount   int           // redrive to the dead-letter queue after this many receives
}

// NewFunc returns a fresh, empty queue and its dead-letter queue.
type NewFunc func(t *testing.T, opts Options) (q, dlq queue.Queue)

// subtestTimeout bounds each subtest. It ends a broken queue's wait (a long
// poll that never wakes, a message that never comes back); a working queue
// finishes far sooner, however loaded the machine.
var subtestTimeout = 2 * time.Minute

// Visibility timeouts: short where the suite waits for a message to come
// back, long where it checks that a message stays invisible (a check that
// holds as long as the machine does not stall for that long).
const (
	shortVisibility = time.Second
	longVisibility  = 10 * time.Minute
)

// Run runs the suite. Subtests run in parallel, each on its own queues; the
// short visibility timeouts are a second, so the suite takes a few seconds.
func Run(t *testing.T, newQueue NewFunc) {
	t.Helper()
	// start begins a parallel subtest, bounded by subtestTimeout, on fresh
	// queues.
	start := func(t *testing.T, opts Options) (ctx context.Context, q, dlq queue.Queue) {
		t.Parallel()
		ctx, cancel := context.WithTimeout(t.Context(), subtestTimeout)
		t.Cleanup(cancel)
		q, dlq = newQueue(t, opts)
		return ctx, q, dlq
	}

	t.Run("SendReceiveDelete", func(t *testing.T) {
		ctx, q, _ := start(t, Options{VisibilityTimeout: shortVisibility, MaxReceiveCount: 5})
		before := time.Now().Add(-time.Second)
		id := mustSend(ctx, t, q, `{"task_id":"x"}`)
		m := receiveN(ctx, t, q, 1)[0]
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
		if err := q.Delete(ctx, m.ReceiptHandle); err != nil {
			t.Fatalf("Delete = %v; want nil", err)
		}
		if err := q.Delete(ctx, m.ReceiptHandle); err != nil {
			t.Errorf("second Delete = %v; want nil", err)
		}
		assertGone(ctx, t, q, m)
	})

	t.Run("InvisibleWhileInFlight", func(t *testing.T) {
		ctx, q, _ := start(t, Options{VisibilityTimeout: longVisibility, MaxReceiveCount: 5})
		mustSend(ctx, t, q, "first")
		receiveN(ctx, t, q, 1)
		if got := receive(ctx, t, q, 10, 0); len(got) != 0 {
			t.Fatalf("received %q while the only message is in flight; want nothing", got[0].Body)
		}
		// Another message is still delivered, and only that one.
		mustSend(ctx, t, q, "second")
		if got := receiveN(ctx, t, q, 1); got[0].Body != "second" {
			t.Errorf("received %q; want second (first is in flight)", got[0].Body)
		}
		if got := receive(ctx, t, q, 10, 0); len(got) != 0 {
			t.Errorf("received %q with both messages in flight; want nothing", got[0].Body)
		}
	})

	t.Run("RedeliveredAfterVisibilityTimeout", func(t *testing.T) {
		ctx, q, _ := start(t, Options{VisibilityTimeout: shortVisibility, MaxReceiveCount: 5})
		mustSend(ctx, t, q, "again")
		first := receiveN(ctx, t, q, 1)[0]
		// Not deleted: it comes back, with a higher receive count.
		second := receiveN(ctx, t, q, 1)[0]
		if second.MessageId != first.MessageId || second.Body != "again" {
			t.Errorf("redelivered %q %q; want %q %q", second.MessageId, second.Body, first.MessageId, "again")
		}
		if got := second.Attributes[queue.AttrReceiveCount]; got != "2" {
			t.Errorf("ApproximateReceiveCount on redelivery = %q; want 2", got)
		}
		if second.ReceiptHandle == first.ReceiptHandle {
			t.Errorf("redelivery kept receipt handle %q; want a new one", first.ReceiptHandle)
		}
		if err := q.Delete(ctx, second.ReceiptHandle); err != nil {
			t.Fatalf("Delete = %v; want nil", err)
		}
		assertGone(ctx, t, q, second)
	})

	t.Run("BatchesHoldEachMessageOnce", func(t *testing.T) {
		ctx, q, _ := start(t, Options{VisibilityTimeout: longVisibility, MaxReceiveCount: 5})
		const n = 25
		for i := range n {
			mustSend(ctx, t, q, fmt.Sprint(i))
		}
		seen := map[string]bool{}
		for len(seen) < n {
			for _, m := range receive(ctx, t, q, 10, time.Second) {
				if seen[m.Body] {
					t.Fatalf("message %q received twice within its visibility timeout", m.Body)
				}
				seen[m.Body] = true
			}
		}
	})

	t.Run("SendBatch", func(t *testing.T) {
		ctx, q, _ := start(t, Options{VisibilityTimeout: 30 * time.Second, MaxReceiveCount: 5})
		// More than one SQS call's worth (ten), so adapters split it.
		const n = 23
		bodies := make([]string, n)
		for i := range bodies {
			bodies[i] = "batch-" + strconv.Itoa(i)
		}
		ids, err := q.SendBatch(ctx, bodies)
		if err != nil {
			t.Fatalf("SendBatch = %v; want nil", err)
		}
		if len(ids) != n {
			t.Fatalf("SendBatch returned %d ids; want %d", len(ids), n)
		}
		byID := map[string]string{}
		for i, id := range ids {
			if id == "" || byID[id] != "" {
				t.Fatalf("SendBatch id %d = %q; want a distinct, non-empty id for each message", i, id)
			}
			byID[id] = bodies[i]
		}
		for _, m := range receiveN(ctx, t, q, n) {
			if byID[m.MessageId] != m.Body {
				t.Errorf("received %q with id %q; SendBatch gave that id to %q", m.Body, m.MessageId, byID[m.MessageId])
			}
			delete(byID, m.MessageId)
		}
		if len(byID) != 0 {
			t.Errorf("%d messages of the batch never arrived", len(byID))
		}
	})

	t.Run("DeadLetterAfterMaxReceives", func(t *testing.T) {
		const maxReceives = 2
		ctx, q, dlq := start(t, Options{VisibilityTimeout: shortVisibility, MaxReceiveCount: maxReceives})
		id := mustSend(ctx, t, q, "poison")
		for i := 1; i <= maxReceives; i++ {
			m := receiveN(ctx, t, q, 1)[0]
			if got := m.Attributes[queue.AttrReceiveCount]; got != strconv.Itoa(i) {
				t.Errorf("receive %d: ApproximateReceiveCount = %q; want %d", i, got, i)
			}
		}
		// Once visible again, the next receive moves it to the dead-letter
		// queue instead of delivering it a third time.
		for {
			if got := receive(ctx, t, q, 10, time.Second); len(got) != 0 {
				t.Fatalf("received %q (receive count %s) after %d receives; want it moved to the dead-letter queue",
					got[0].Body, got[0].Attributes[queue.AttrReceiveCount], maxReceives)
			}
			if dead := receive(ctx, t, dlq, 1, 0); len(dead) == 1 {
				if dead[0].Body != "poison" || dead[0].MessageId != id {
					t.Errorf("dead letter %q %q; want %q %q", dead[0].MessageId, dead[0].Body, id, "poison")
				}
				return
			}
		}
	})

	t.Run("LongPollWakesOnSend", func(t *testing.T) {
		ctx, q, _ := start(t, Options{VisibilityTimeout: shortVisibility, MaxReceiveCount: 2})
		// The poll asks for far longer than the subtest may last (SQS caps
		// it at 20 s): a queue that does not wake on Send returns nothing
		// or fails with the subtest's context. The message is sent once
		// the poll asks for ctx.Done(), that is once it has looked for
		// messages and is about to wait.
		pollCtx, waiting := testkit.WaitSignal(ctx)
		stop := make(chan struct{})
		sent := make(chan error, 1)
		go func() {
			select {
			case <-waiting:
				_, err := q.Send(ctx, "late")
				sent <- err
			case <-stop:
				close(sent) // the poll returned before it waited
			}
		}()
		got, err := q.Receive(pollCtx, 1, time.Hour)
		close(stop)
		sendErr, didSend := <-sent
		switch {
		case sendErr != nil:
			t.Fatalf("Send during the long poll = %v; want nil", sendErr)
		case errors.Is(err, context.DeadlineExceeded):
			t.Fatalf("long poll still waiting after %v though a message was sent meanwhile: Send does not wake it", subtestTimeout)
		case err != nil:
			t.Fatalf("Receive = %v; want nil", err)
		case len(got) == 0 && !didSend:
			t.Fatal("long poll on an empty queue returned at once, empty-handed; want it to wait for a message")
		case len(got) != 1:
			t.Fatalf("long poll returned %d messages; want the 1 sent while it waited", len(got))
		case got[0].Body != "late":
			t.Errorf("body = %q; want late", got[0].Body)
		}
	})
}

func mustSend(ctx context.Context, t *testing.T, q queue.Queue, body string) string {
	t.Helper()
	id, err := q.Send(ctx, body)
	if err != nil {
		t.Fatalf("Send(%q) = %v; want nil", body, err)
	}
	if id == "" {
		t.Fatalf("Send(%q) returned an empty message id", body)
	}
	return id
}

func receive(ctx context.Context, t *testing.T, q queue.Queue, max int, wait time.Duration) []events.SQSMessage {
	t.Helper()
	msgs, err := q.Receive(ctx, max, wait)
	if err != nil {
		t.Fatalf("Receive = %v; want nil", err)
	}
	if len(msgs) > max {
		t.Fatalf("Receive(max=%d) returned %d messages", max, len(msgs))
	}
	return msgs
}

// receiveN long-polls until n messages arrived (or ctx ends, failing).
func receiveN(ctx context.Context, t *testing.T, q queue.Queue, n int) []events.SQSMessage {
	t.Helper()
	var got []events.SQSMessage
	for len(got) < n {
		got = append(got, receive(ctx, t, q, min(n-len(got), 10), time.Second)...)
	}
	return got
}

// assertGone checks that the deleted message never comes back, without
// waiting for a time: it sends a control message after the deletion,
// receives it, and waits for it to come back after its visibility timeout.
// The deleted message was received earlier than the control, so had it
// stayed in the queue it would have come back first (or with it).
func assertGone(ctx context.Context, t *testing.T, q queue.Queue, deleted events.SQSMessage) {
	t.Helper()
	mustSend(ctx, t, q, "control")
	var control events.SQSMessage
	for control.Body == "" {
		for _, m := range receive(ctx, t, q, 10, time.Second) {
			if m.Body != "control" {
				t.Fatalf("received %q; want only the control message", m.Body)
			}
			control = m
		}
	}
	for {
		for _, m := range receive(ctx, t, q, 10, time.Second) {
			switch {
			case m.MessageId == deleted.MessageId:
				t.Fatalf("deleted message %q came back (receive count %s)", m.Body, m.Attributes[queue.AttrReceiveCount])
			case m.Body == "control":
				if err := q.Delete(ctx, m.ReceiptHandle); err != nil {
					t.Fatalf("Delete = %v; want nil", err)
				}
				return
			default:
				t.Fatalf("received %q; want only the control message", m.Body)
			}
		}
	}
}
