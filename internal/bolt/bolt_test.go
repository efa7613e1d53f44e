package bolt_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/asyncprime/asyncprime/internal/bolt"
	"github.com/asyncprime/asyncprime/internal/queue"
	"github.com/asyncprime/asyncprime/internal/queuetest"
	"github.com/asyncprime/asyncprime/internal/task"
	"github.com/asyncprime/asyncprime/internal/tasktest"
	"github.com/asyncprime/asyncprime/internal/testkit"
)

var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

// open opens a DB in a fresh file that is closed when the test ends.
func open(tb testing.TB, opts bolt.Options) (*bolt.DB, string) {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "data", "local.db")
	return openAt(tb, path, opts), path
}

func openAt(tb testing.TB, path string, opts bolt.Options) *bolt.DB {
	tb.Helper()
	if opts.Logger == nil {
		opts.Logger = discard
	}
	db, err := bolt.Open(path, opts)
	if err != nil {
		tb.Fatalf("Open = %v; want nil", err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

func TestStoreConformance(t *testing.T) {
	t.Parallel()
	for _, outbox := range []bool{false, true} {
		t.Run("outbox="+strconv.FormatBool(outbox), func(t *testing.T) {
			t.Parallel()
			// One fsync'd DB shared by the subtests, as in the local mode.
			db, _ := open(t, bolt.Options{Outbox: outbox})
			tasktest.Run(t, func(*testing.T) task.Store { return db.Store() })
		})
	}
}

func TestQueueConformance(t *testing.T) {
	t.Parallel()
	for _, outbox := range []bool{false, true} {
		t.Run("outbox="+strconv.FormatBool(outbox), func(t *testing.T) {
			t.Parallel()
			queuetest.Run(t, func(t *testing.T, opts queuetest.Options) (queue.Queue, queue.Queue) {
				db, _ := open(t, bolt.Options{
					VisibilityTimeout: opts.VisibilityTimeout,
					MaxReceiveCount:   opts.MaxReceiveCount,
					Outbox:            outbox,
				})
				return db.Queue(), db.DLQ()
			})
		})
	}
}

func pendingTask(n task.Number) task.Task {
	now := time.Now()
	return task.Task{ID: task.NewID(), Status: task.StatusPending, Number: n, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
}

func TestOutbox(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db, _ := open(t, bolt.Options{Outbox: true, VisibilityTimeout: time.Hour})
	store, q := db.Store(), db.Queue()

	tk := pendingTask("11")
	before := db.Stats()
	if err := store.Create(ctx, tk); err != nil {
		t.Fatalf("Create = %v; want nil", err)
	}
	if got := db.Stats().Sub(before); got.Commits != 1 || got.Ops != 1 {
		t.Errorf("Create took %d commits of %d ops; want 1 of 1", got.Commits, got.Ops)
	}
	if got := q.Len(); got != 1 {
		t.Fatalf("after Create the queue holds %d messages; want 1 (the outbox message)", got)
	}

	before = db.Stats()
	id, err := q.Send(ctx, task.MessageFor(tk))
	if err != nil {
		t.Fatalf("Send = %v; want nil", err)
	}
	if got := db.Stats().Sub(before); got.Commits != 0 {
		t.Errorf("Send of the outbox message committed %d times; want 0", got.Commits)
	}
	if got := q.Len(); got != 1 {
		t.Errorf("after Send the queue holds %d messages; want still 1", got)
	}

	if err := store.Create(ctx, tk); err != nil {
		t.Errorf("Create of the same task again = %v; want nil (a retry)", err)
	}
	other := tk
	other.Number = "12"
	if err := store.Create(ctx, other); !errors.Is(err, task.ErrExists) {
		t.Errorf("Create of another task with the same id = %v; want ErrExists", err)
	}
	final := pendingTask("13")
	final.Status, final.Error = task.StatusFailure, "never queued"
	if err := store.Create(ctx, final); err != nil {
		t.Fatalf("Create FAILURE = %v; want nil", err)
	}
	if got := q.Len(); got != 1 {
		t.Errorf("after a retried, a duplicate and a final Create the queue holds %d messages; want 1", got)
	}

	msgs, err := q.Receive(ctx, 10, 0)
	if err != nil || len(msgs) != 1 {
		t.Fatalf("Receive = %d messages, %v; want 1, nil", len(msgs), err)
	}
	if m := msgs[0]; m.MessageId != id || m.Body != task.MessageFor(tk) {
		t.Errorf("received %q %q; want %q %q", m.MessageId, m.Body, id, task.MessageFor(tk))
	}
	// While in flight, Send still finds it.
	if again, err := q.Send(ctx, task.MessageFor(tk)); err != nil || again != id {
		t.Errorf("Send while in flight = %q, %v; want %q, nil", again, err, id)
	}
	if err := q.Delete(ctx, msgs[0].ReceiptHandle); err != nil {
		t.Fatalf("Delete = %v; want nil", err)
	}
	// Once deleted, the same body is an ordinary message again.
	resent, err := q.Send(ctx, task.MessageFor(tk))
	if err != nil || resent == id {
		t.Errorf("Send after Delete = %q, %v; want a new message id", resent, err)
	}
	if got := q.Len(); got != 1 {
		t.Errorf("after Send of a deleted message the queue holds %d; want 1", got)
	}
}

func TestSubmitWithOutboxIsOneCommit(t *testing.T) {
	t.Parallel()
	db, _ := open(t, bolt.Options{Outbox: true})
	s := &task.Submitter{Store: db.Store(), Queue: db.Queue(), Logger: discard}
	before := db.Stats()
	tk, err := s.Submit(t.Context(), "97")
	if err != nil {
		t.Fatalf("Submit = %v; want nil", err)
	}
	if got := db.Stats().Sub(before); got.Commits != 1 {
		t.Errorf("Submit took %d commits; want 1", got.Commits)
	}
	msgs, err := db.Queue().Receive(t.Context(), 10, 0)
	if err != nil || len(msgs) != 1 || msgs[0].Body != task.MessageFor(tk) {
		t.Fatalf("Receive = %v, %v; want the task's one message", msgs, err)
	}
}

func TestRecordAttributes(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	now := t0
	db, _ := open(t, bolt.Options{QueueName: "jobs", Now: func() time.Time { return now }})
	id, err := db.Queue().Send(t.Context(), "hello")
	if err != nil {
		t.Fatal(err)
	}
	now = t0.Add(1500 * time.Millisecond)
	msgs, err := db.Queue().Receive(t.Context(), 1, 0)
	if err != nil || len(msgs) != 1 {
		t.Fatalf("Receive = %d messages, %v; want 1", len(msgs), err)
	}
	m := msgs[0]
	want := map[string]string{
		queue.AttrReceiveCount:      "1",
		queue.AttrSentTimestamp:     strconv.FormatInt(t0.UnixMilli(), 10),
		queue.AttrFirstReceiveStamp: strconv.FormatInt(now.UnixMilli(), 10),
		queue.AttrSenderID:          "local",
	}
	for k, v := range want {
		if m.Attributes[k] != v {
			t.Errorf("attribute %s = %q; want %q", k, m.Attributes[k], v)
		}
	}
	if m.MessageId != id || m.Md5OfBody != "5d41402abc4b2a76b9719d911017c592" || m.EventSource != "aws:sqs" ||
		m.EventSourceARN != "arn:aws:sqs:local:000000000000:jobs" || m.AWSRegion != "local" || m.ReceiptHandle != id+"#1" {
		t.Errorf("got record %+v; want id %s, md5 of hello, aws:sqs, ARN of jobs, region local, handle %s#1", m, id, id)
	}
}

func TestClosed(t *testing.T) {
	t.Parallel()
	db, _ := open(t, bolt.Options{Outbox: true})
	ctx := t.Context()
	tk := pendingTask("11")
	if err := db.Store().Create(ctx, tk); err != nil {
		t.Fatal(err)
	}
	// The poll asks for ctx.Done() once it found nothing and is about to
	// wait: Close comes then. A Close that does not end the poll leaves it
	// waiting until its context ends the test.
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	pollCtx, waiting := testkit.WaitSignal(ctx)
	polled := make(chan error, 1)
	go func() {
		_, err := db.DLQ().Receive(pollCtx, 1, time.Hour)
		polled <- err
	}()
	<-waiting
	if err := db.Close(); err != nil {
		t.Fatalf("Close = %v; want nil", err)
	}
	if err := <-polled; !errors.Is(err, bolt.ErrClosed) {
		t.Errorf("long poll across Close = %v; want ErrClosed", err)
	}
	tests := []struct {
		name string
		call func() error
	}{
		{"Create", func() error { return db.Store().Create(ctx, pendingTask("13")) }},
		{"Get", func() error { _, err := db.Store().Get(ctx, tk.ID); return err }},
		{"Start", func() error { _, err := db.Store().Start(ctx, tk.ID, time.Now()); return err }},
		{"Finish", func() error { return db.Store().Finish(ctx, tk.ID, task.Outcome{Status: task.StatusSuccess}) }},
		{"Send", func() error { _, err := db.Queue().Send(ctx, "x"); return err }},
		{"Receive", func() error { _, err := db.Queue().Receive(ctx, 1, 0); return err }},
		{"Delete", func() error { return db.Queue().Delete(ctx, "a#1") }},
	}
	for _, tt := range tests {
		if err := tt.call(); !errors.Is(err, bolt.ErrClosed) {
			t.Errorf("%s after Close = %v; want ErrClosed", tt.name, err)
		}
	}
	if err := db.Close(); err != nil {
		t.Errorf("second Close = %v; want nil", err)
	}
}

func TestOpenLockedFile(t *testing.T) {
	t.Parallel()
	_, path := open(t, bolt.Options{})
	_, err := bolt.Open(path, bolt.Options{LockTimeout: 50 * time.Millisecond, Logger: discard})
	if err == nil || !strings.Contains(err.Error(), "locked by another process") {
		t.Fatalf("second Open of a file in use = %v; want an error saying it is locked", err)
	}
}

func TestCancelledContext(t *testing.T) {
	t.Parallel()
	db, _ := open(t, bolt.Options{})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	tk := pendingTask("11")
	if err := db.Store().Create(ctx, tk); !errors.Is(err, context.Canceled) {
		t.Fatalf("Create with a cancelled context = %v; want context.Canceled", err)
	}
	if _, err := db.Store().Get(t.Context(), tk.ID); !errors.Is(err, task.ErrNotFound) {
		t.Errorf("Get after a cancelled Create = %v; want ErrNotFound", err)
	}
}
