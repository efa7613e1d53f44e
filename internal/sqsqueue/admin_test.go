package sqsqueue_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/asyncprime/asyncprime/internal/provision"
	"github.com/asyncprime/asyncprime/internal/queuetest"
	"github.com/asyncprime/asyncprime/internal/sqsqueue"
)

func TestAdminConformance(t *testing.T) {
	t.Parallel()
	queuetest.RunAdmin(t, func(t *testing.T, opts queuetest.Options) queuetest.Admin {
		_, _, q, _ := newQueues(t, provision.Settings{VisibilityTimeout: opts.VisibilityTimeout, MaxReceiveCount: opts.MaxReceiveCount})
		return q
	})
}

// TestAdminNeedsAdminClient: a queue built on a client without the admin
// calls says so rather than panicking.
func TestAdminNeedsAdminClient(t *testing.T) {
	t.Parallel()
	q := sqsqueue.New(&fakeClient{}, "https://sqs.us-east-1.amazonaws.com/123456789012/q")
	if _, err := q.Counts(t.Context()); err == nil {
		t.Error("Counts on a client without GetQueueAttributes = nil error; want one")
	}
}

// failingDelete is the SQS client with DeleteMessageBatch failing: a move
// interrupted between its send and its delete.
type failingDelete struct{ *sqs.Client }

func (failingDelete) DeleteMessageBatch(context.Context, *sqs.DeleteMessageBatchInput, ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error) {
	return nil, errors.New("connection reset")
}

// TestInterruptedMoveLosesNothing: where the API has no
// StartMessageMoveTask (moto), the move sends before it deletes, so a move
// cut between the two leaves the message in both queues, never in neither.
func TestInterruptedMoveLosesNothing(t *testing.T) {
	t.Parallel()
	client, res, q, _ := newQueues(t, provision.Settings{VisibilityTimeout: time.Second, MaxReceiveCount: 1})
	if _, err := q.Send(t.Context(), "poison"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := q.Receive(t.Context(), 10, time.Second); err != nil {
			t.Fatal(err)
		}
		if d, _ := q.DeadLetterCounts(t.Context()); d.Total() == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the message never reached the dead-letter queue")
		}
	}
	cut := sqsqueue.New(failingDelete{client}, res.QueueURL, sqsqueue.WithRegion("us-east-1"))
	if _, err := cut.RedriveDeadLetters(t.Context()); err == nil || !strings.Contains(err.Error(), "now in both queues") {
		t.Fatalf("RedriveDeadLetters with failing deletes = %v; want an error saying the batch is in both queues", err)
	}
	c, err := q.Counts(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	d, err := q.DeadLetterCounts(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if c.Total() != 1 || d.Total() != 1 {
		t.Errorf("after the cut move: queue %+v, dead letters %+v; want the message in both", c, d)
	}
}

// TestPeekManyLeavesThemAll: a peek beyond one receive's ten messages
// holds each batch hidden while it takes the next, so it sees distinct
// messages, and leaves every one visible in the queue.
func TestPeekManyLeavesThemAll(t *testing.T) {
	t.Parallel()
	_, _, _, dlq := newQueues(t, provision.Settings{VisibilityTimeout: time.Minute, MaxReceiveCount: 1})
	const n = 25
	bodies := make([]string, n)
	for i := range bodies {
		bodies[i] = fmt.Sprint("dead ", i)
	}
	if _, err := dlq.SendBatch(t.Context(), bodies); err != nil {
		t.Fatal(err)
	}
	peeked, err := dlq.Peek(t.Context(), 100)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, p := range peeked {
		ids[p.ID] = true
	}
	if len(peeked) != n || len(ids) != n {
		t.Errorf("Peek = %d messages, %d distinct; want %d", len(peeked), len(ids), n)
	}
	// All visible again at once: a receive takes them now.
	again, err := dlq.Peek(t.Context(), 100)
	if err != nil || len(again) != n {
		t.Errorf("a second Peek = %d messages, %v; want %d", len(again), err, n)
	}
	if c, err := dlq.Counts(t.Context()); err != nil || c.Visible != n {
		t.Errorf("counts after peeking = %+v, %v; want %d visible", c, err, n)
	}
}
