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
	// One fsync'd DB shared by the subtests, as in the local mode.
	db, _ := open(t, bolt.Options{})
	tasktest.Run(t, func(*testing.T) task.Store { return db.Store() })
}

func TestReopenConformance(t *testing.T) {
	t.Parallel()
	db, _ := open(t, bolt.Options{})
	tasktest.RunReopen(t, func(*testing.T) tasktest.ReopenStore { return db.Store() })
}

func TestOutboxConformance(t *testing.T) {
	t.Parallel()
	tasktest.RunOutbox(t, func(t *testing.T) tasktest.Outbox {
		db, _ := open(t, bolt.Options{VisibilityTimeout: time.Hour})
		other, _ := open(t, bolt.Options{})
		return tasktest.Outbox{Store: db.Store(), Queue: db.Queue(), BigQueue: db.BigQueue(), Foreign: other.Queue()}
	})
}

func TestQueueConformance(t *testing.T) {
	t.Parallel()
	queuetest.Run(t, func(t *testing.T, opts queuetest.Options) (queue.Queue, queue.Queue) {
		db, _ := open(t, bolt.Options{VisibilityTimeout: opts.VisibilityTimeout, MaxReceiveCount: opts.MaxReceiveCount})
		return db.Queue(), db.DLQ()
	})
}

func TestAdminConformance(t *testing.T) {
	t.Parallel()
	queuetest.RunAdmin(t, func(t *testing.T, opts queuetest.Options) queuetest.Admin {
		db, _ := open(t, bolt.Options{VisibilityTimeout: opts.VisibilityTimeout, MaxReceiveCount: opts.MaxReceiveCount})
		return db.Queue()
	})
}

func pendingTask(n task.Number) task.Task {
	now := time.Now()
	return task.Task{ID: task.NewID(), Status: task.StatusPending, Number: n, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
}

// TestSubmitIsOneCommit: task.Submitter uses the store's outbox, so that a
// submit, of one task or of a batch with small and big numbers, is one
// commit of one operation, with each message on its queue; and Send no
// longer knows the outbox: a Send of the same body is a message of its own.
func TestSubmitIsOneCommit(t *testing.T) {
	t.Parallel()
	const big = "170141183460469231731687303715884105727" // 2^127 - 1
	tests := []struct {
		name           string
		numbers        []task.Number
		small, bigOnes int
	}{
		{"one", []task.Number{"97"}, 1, 0},
		{"batch", []task.Number{"11", big, "13"}, 2, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			db, _ := open(t, bolt.Options{VisibilityTimeout: time.Hour})
			s := &task.Submitter{Store: db.Store(), Queue: db.Queue(), BigQueue: db.BigQueue(), Logger: discard}
			before := db.Stats()
			if _, err := s.Accept(t.Context(), task.Request{Numbers: tt.numbers}); err != nil {
				t.Fatalf("Accept = %v; want nil", err)
			}
			if got := db.Stats().Sub(before); got.Commits != 1 || got.Ops != 1 {
				t.Errorf("Accept took %d commits of %d ops; want 1 of 1", got.Commits, got.Ops)
			}
			if got, got2 := db.Queue().Len(), db.BigQueue().Len(); got != tt.small || got2 != tt.bigOnes {
				t.Errorf("queues hold %d and %d (big) messages; want %d and %d", got, got2, tt.small, tt.bigOnes)
			}
			msgs, err := db.Queue().Receive(t.Context(), 10, 0)
			if err != nil || len(msgs) == 0 {
				t.Fatalf("Receive = %v, %v; want the messages", msgs, err)
			}
			if _, err := db.Queue().Send(t.Context(), msgs[0].Body); err != nil {
				t.Fatal(err)
			}
			if got := db.Queue().Len(); got != tt.small+1 {
				t.Errorf("after a Send of a submitted body the queue holds %d; want %d", got, tt.small+1)
			}
		})
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
	db, _ := open(t, bolt.Options{})
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
