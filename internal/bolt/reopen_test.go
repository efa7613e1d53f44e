package bolt_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/asyncprime/asyncprime/internal/bolt"
	"github.com/asyncprime/asyncprime/internal/queue"
	"github.com/asyncprime/asyncprime/internal/task"
	"github.com/asyncprime/asyncprime/internal/testkit"
)

func receiveCount(t *testing.T, m events.SQSMessage) int {
	t.Helper()
	n, err := strconv.Atoi(m.Attributes[queue.AttrReceiveCount])
	if err != nil {
		t.Fatalf("ApproximateReceiveCount = %q; want a number", m.Attributes[queue.AttrReceiveCount])
	}
	return n
}

// receiveNow receives up to max visible messages, without waiting, and
// checks that they are n.
func receiveNow(t *testing.T, q queue.Queue, max, n int) []events.SQSMessage {
	t.Helper()
	got, err := q.Receive(t.Context(), max, 0)
	if err != nil || len(got) != n {
		t.Fatalf("Receive = %d messages, %v; want %d, nil", len(got), err, n)
	}
	return got
}

// TestReopenKeepsMessagesInFlight closes a DB with messages in flight,
// visible and deleted, and reopens it: the messages in flight are visible
// at once (whoever received them has stopped), with their ids, timestamps
// and receive counts kept.
func TestReopenKeepsMessagesInFlight(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	clock := testkit.NewClock(time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC))
	db, path := open(t, bolt.Options{VisibilityTimeout: time.Hour, MaxReceiveCount: 5, Now: clock.Now})
	tk := pendingTask("11")
	if err := db.Store().CreateAndEnqueue(ctx, []task.Job{{Task: tk, Queue: db.Queue()}}); err != nil {
		t.Fatal(err)
	}
	for _, body := range []string{"b", "c", "d"} {
		if _, err := db.Queue().Send(ctx, body); err != nil {
			t.Fatal(err)
		}
	}
	// Receive the outbox message, b and c; delete c; leave d visible.
	clock.Advance(time.Second)
	byBody := map[string]events.SQSMessage{}
	for range 3 {
		m := receiveNow(t, db.Queue(), 1, 1)[0]
		byBody[m.Body] = m
	}
	if err := db.Queue().Delete(ctx, byBody["c"].ReceiptHandle); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	clock.Advance(time.Second) // well within the hour-long visibility timeout
	db = openAt(t, path, bolt.Options{VisibilityTimeout: time.Hour, MaxReceiveCount: 5, Now: clock.Now})
	q := db.Queue()
	if got := q.Len(); got != 3 {
		t.Errorf("reopened queue holds %d messages; want 3 (outbox, b, d)", got)
	}
	got := receiveNow(t, q, 10, 3)
	var order []string
	for _, m := range got {
		order = append(order, m.Body)
		old, ok := byBody[m.Body]
		switch {
		case m.Body == "d":
			if receiveCount(t, m) != 1 {
				t.Errorf("d received with receive count %d; want 1", receiveCount(t, m))
			}
			continue
		case !ok || m.Body == "c":
			t.Errorf("received %q; want the outbox message, b or d", m.Body)
			continue
		}
		if m.MessageId != old.MessageId || receiveCount(t, m) != 2 ||
			m.Attributes[queue.AttrFirstReceiveStamp] != old.Attributes[queue.AttrFirstReceiveStamp] ||
			m.Attributes[queue.AttrSentTimestamp] != old.Attributes[queue.AttrSentTimestamp] {
			t.Errorf("redelivered %+v;\nwant the same id and timestamps as %+v, receive count 2", m.Attributes, old.Attributes)
		}
	}
	if want := []string{tk.ID, "b", "d"}; len(order) != 3 || order[1] != "b" || order[2] != "d" {
		t.Errorf("received in the order %q; want the order sent: outbox (%s), b, d", order, want[0])
	}
}

func TestReopenKeepsDeadLetters(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	clock := testkit.NewClock(time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC))
	opts := bolt.Options{VisibilityTimeout: time.Second, MaxReceiveCount: 1, Now: clock.Now}
	db, path := open(t, opts)
	id, err := db.Queue().Send(ctx, "poison")
	if err != nil {
		t.Fatal(err)
	}
	receiveNow(t, db.Queue(), 10, 1)
	// The next receive, once it is visible, moves it to the DLQ.
	clock.Advance(opts.VisibilityTimeout)
	receiveNow(t, db.Queue(), 10, 0)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = openAt(t, path, opts)
	if got, dead := db.Queue().Len(), db.DLQ().Len(); got != 0 || dead != 1 {
		t.Fatalf("after reopen queue holds %d, DLQ %d; want 0 and 1", got, dead)
	}
	m := receiveNow(t, db.DLQ(), 10, 1)[0]
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
