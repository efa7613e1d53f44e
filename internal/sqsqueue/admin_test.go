package sqsqueue_test

import (
	"testing"

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
