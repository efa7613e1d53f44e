package bolt_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/asyncprime/asyncprime/internal/bolt"
	"github.com/asyncprime/asyncprime/internal/queue"
	"github.com/asyncprime/asyncprime/internal/task"
)

func receiveCount(t *testing.T, m events.SQSMessage) int {
	t.Helper()
	n, err := strconv.Atoi(m.Attributes[queue.AttrReceiveCount])
	if err != nil {
		t.Fatalf("ApproximateReceiveCount = %q; want a number", m.Attributes[queue.AttrReceiveCount])
	}
	return n
}

// receiveAll long-polls until n messages arrived, for up to 10 s.
func receiveAll(t *testing.T, q queue.Queue, n int) []events.SQSMessage {
	t.Helper()
	var got []events.SQSMessage
	deadline := time.Now().Add(10 * time.Second)
	for len(got) < n && time.Now().Before(deadline) {
		msgs, err := q.Receive(t.Context(), min(n-len(got), 10), time.Second)
		if err != nil {
			t.Fatalf("Receive = %v; want nil", err)
		}
		got = append(got, msgs...)
	}
	if len(got) < n {
		t.Fatalf("received %d messages; want %d", len(got), n)
	}
	return got
}

// TestReopenKeepsMessagesInFlight closes a DB with messages in flight,
// visible and deleted, and reopens it with a shorter visibility timeout.
func TestReopenKeepsMessagesInFlight(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db, path := open(t, bolt.Options{VisibilityTimeout: time.Hour, MaxReceiveCount: 5, Outbox: true})
	tk := pendingTask("11")
	if err := db.Store().Create(ctx, tk); err != nil {
		t.Fatal(err)
	}
	for _, body := range []string{"b", "c", "d"} {
		if _, err := db.Queue().Send(ctx, body); err != nil {
			t.Fatal(err)
		}
	}
	// Receive the outbox message, b and c; delete c; leave d visible.
	first := receiveAll(t, db.Queue(), 3)
	byBody := map[string]events.SQSMessage{}
	for _, m := range first {
		byBody[m.Body] = m
	}
	if err := db.Queue().Delete(ctx, byBody["c"].ReceiptHandle); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	const vt = time.Second
	reopened := time.Now()
	db = openAt(t, path, bolt.Options{VisibilityTimeout: vt, MaxReceiveCount: 5, Outbox: true})
	q := db.Queue()
	if got := q.Len(); got != 3 {
		t.Errorf("reopened queue holds %d messages; want 3 (outbox, b, d)", got)
	}
	// The outbox message is still known: Send writes nothing.
	before := db.Stats()
	if id, err := q.Send(ctx, task.EncodeMessage(tk.ID)); err != nil || id != byBody[task.EncodeMessage(tk.ID)].MessageId {
		t.Errorf("Send of the outbox message after reopen = %q, %v; want %q", id, err, byBody[task.EncodeMessage(tk.ID)].MessageId)
	}
	if got := db.Stats().Sub(before).Commits; got != 0 {
		t.Errorf("Send of the outbox message after reopen committed %d times; want 0", got)
	}
	// Only d is visible at once; the two in flight come back after the
	// (new, shorter) visibility timeout, with their counts kept.
	now, err := q.Receive(ctx, 10, 0)
	if err != nil || len(now) != 1 || now[0].Body != "d" || receiveCount(t, now[0]) != 1 {
		t.Fatalf("Receive at reopen = %v, %v; want just d, first receive", now, err)
	}
	again := receiveAll(t, q, 2)
	if waited := time.Since(reopened); waited < vt-100*time.Millisecond {
		t.Errorf("in-flight messages came back %v after reopen; want about %v", waited, vt)
	}
	for _, m := range again {
		old, ok := byBody[m.Body]
		if !ok || m.Body == "c" {
			t.Errorf("redelivered %q; want the outbox message or b", m.Body)
			continue
		}
		if m.MessageId != old.MessageId || receiveCount(t, m) != 2 ||
			m.Attributes[queue.AttrFirstReceiveStamp] != old.Attributes[queue.AttrFirstReceiveStamp] ||
			m.Attributes[queue.AttrSentTimestamp] != old.Attributes[queue.AttrSentTimestamp] {
			t.Errorf("redelivered %+v;\nwant the same id and timestamps as %+v, receive count 2", m.Attributes, old.Attributes)
		}
	}
}

func TestReopenKeepsDeadLetters(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	opts := bolt.Options{VisibilityTimeout: time.Second, MaxReceiveCount: 1}
	db, path := open(t, opts)
	id, err := db.Queue().Send(ctx, "poison")
	if err != nil {
		t.Fatal(err)
	}
	receiveAll(t, db.Queue(), 1)
	// The next receive, once it is visible, moves it to the DLQ.
	time.Sleep(opts.VisibilityTimeout)
	if msgs, err := db.Queue().Receive(ctx, 10, 0); err != nil || len(msgs) != 0 {
		t.Fatalf("Receive after max receives = %v, %v; want nothing", msgs, err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = openAt(t, path, opts)
	if got, dead := db.Queue().Len(), db.DLQ().Len(); got != 0 || dead != 1 {
		t.Fatalf("after reopen queue holds %d, DLQ %d; want 0 and 1", got, dead)
	}
	m := receiveAll(t, db.DLQ(), 1)[0]
	if m.MessageId != id || m.Body != "poison" || receiveCount(t, m) != 1 {
		t.Errorf("dead letter %q %q count %d; want %q poison 1", m.MessageId, m.Body, receiveCount(t, m), id)
	}
	if m.EventSourceARN != "arn:aws:sqs:local:000000000000:tasks-dlq" {
		t.Errorf("dead letter ARN %q; want the DLQ's", m.EventSourceARN)
	}
}

func TestReopenKeepsTasks(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db, path := open(t, bolt.Options{})
	tk := pendingTask("2305843009213693951")
	tk.CreatedAt = time.Date(2026, 11, 24, 12, 0, 0, 123456789, time.UTC)
	if err := db.Store().Create(ctx, tk); err != nil {
		t.Fatal(err)
	}
	started, err := db.Store().Start(ctx, tk.ID, tk.CreatedAt.Add(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = openAt(t, path, bolt.Options{})
	got, err := db.Store().Get(ctx, tk.ID)
	if err != nil {
		t.Fatalf("Get after reopen = %v; want nil", err)
	}
	if got.Status != task.StatusStarted || got.Number != tk.Number || got.Attempts != 1 ||
		!got.CreatedAt.Equal(started.CreatedAt) || !got.StartedAt.Equal(started.StartedAt) || !got.ExpiresAt.Equal(started.ExpiresAt) {
		t.Errorf("after reopen task = %+v; want %+v", got, started)
	}
}
