package queuetest

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/asyncprime/asyncprime/internal/memory"
	"github.com/asyncprime/asyncprime/internal/queue"
)

// neverWakes is a queue whose long poll looks for messages once, then
// sleeps out the whole wait: a Send meanwhile does not wake it.
type neverWakes struct{ *memory.Queue }

func (q neverWakes) Receive(ctx context.Context, max int, wait time.Duration) ([]events.SQSMessage, error) {
	if got, err := q.Queue.Receive(ctx, max, 0); err != nil || len(got) > 0 {
		return got, err
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-timer.C:
	}
	return q.Queue.Receive(ctx, max, 0)
}

// noLongPoll ignores wait: it returns at once, empty-handed.
type noLongPoll struct{ *memory.Queue }

func (q noLongPoll) Receive(ctx context.Context, max int, _ time.Duration) ([]events.SQSMessage, error) {
	return q.Queue.Receive(ctx, max, 0)
}

// keepsDeleted acknowledges Delete and forgets to delete.
type keepsDeleted struct{ *memory.Queue }

func (keepsDeleted) Delete(context.Context, ...string) error { return nil }

// broken are the queues TestBrokenQueue runs the suite on, by name.
var broken = map[string]func(*memory.Queue) queue.Queue{
	"neverWakes":   func(q *memory.Queue) queue.Queue { return neverWakes{q} },
	"noLongPoll":   func(q *memory.Queue) queue.Queue { return noLongPoll{q} },
	"keepsDeleted": func(q *memory.Queue) queue.Queue { return keepsDeleted{q} },
}

// TestBrokenQueue runs the suite on a broken queue, for
// TestSuiteCatchesBrokenQueues, which runs it in a child process and expects
// it to fail.
func TestBrokenQueue(t *testing.T) {
	wrap, ok := broken[os.Getenv("QUEUETEST_BROKEN")]
	if !ok {
		t.Skip("runs only as the child of TestSuiteCatchesBrokenQueues")
	}
	subtestTimeout = 5 * time.Second // how long a never-woken poll may wait
	Run(t, func(_ *testing.T, opts Options) (queue.Queue, queue.Queue) {
		dlq := memory.NewQueue(memory.QueueOptions{Name: "dlq"})
		q := memory.NewQueue(memory.QueueOptions{
			VisibilityTimeout: opts.VisibilityTimeout, DeadLetter: dlq, MaxReceiveCount: opts.MaxReceiveCount,
		})
		return wrap(q), dlq
	})
}

// TestSuiteCatchesBrokenQueues checks that the suite fails each broken
// queue, in the subtest meant to catch it, with a message that says why.
func TestSuiteCatchesBrokenQueues(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, broken, subtest, want string
	}{
		{"long poll not woken by Send", "neverWakes", "LongPollWakesOnSend", "Send does not wake it"},
		{"no long poll at all", "noLongPoll", "LongPollWakesOnSend", "returned at once, empty-handed"},
		{"Delete that keeps the message", "keepsDeleted", "SendReceiveDelete", `deleted message "{\"task_id\":\"x\"}" came back`},
		{"Delete that keeps a redelivered message", "keepsDeleted", "RedeliveredAfterVisibilityTimeout", `deleted message "again" came back`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestBrokenQueue$/^"+tt.subtest+"$", "-test.count=1")
			cmd.Env = append(os.Environ(), "QUEUETEST_BROKEN="+tt.broken)
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("the suite passed a %s queue; want it to fail. Output:\n%s", tt.broken, out)
			}
			if !strings.Contains(string(out), "--- FAIL: TestBrokenQueue/"+tt.subtest) || !strings.Contains(string(out), tt.want) {
				t.Errorf("output of the suite on a %s queue:\n%s\nwant --- FAIL: TestBrokenQueue/%s and %q", tt.broken, out, tt.subtest, tt.want)
			}
		})
	}
}
