package queuetest

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/asyncprime/asyncprime/internal/queue"
	"github.com/asyncprime/asyncprime/internal/testkit"
)

// Admin is a queue with what an operator's console asks of it: counts, a
// look at its dead letters, redrive and purge.
type Admin interface {
	queue.Queue
	Counts(ctx context.Context) (queue.Counts, error)
	DeadLetterCounts(ctx context.Context) (queue.Counts, error)
	PeekDeadLetters(ctx context.Context, max int) ([]queue.Peeked, error)
	RedriveDeadLetters(ctx context.Context) (queue.Redrive, error)
	PurgeDeadLetters(ctx context.Context) (int, error)
}

// NewAdminFunc returns a fresh, empty queue with a dead-letter queue.
type NewAdminFunc func(t *testing.T, opts Options) Admin

// RunAdmin runs the conformance suite of Admin.
func RunAdmin(t *testing.T, newQueue NewAdminFunc) {
	t.Helper()
	opts := Options{VisibilityTimeout: time.Second, MaxReceiveCount: 1}

	t.Run("Counts", func(t *testing.T) {
		t.Parallel()
		q := newQueue(t, opts)
		for _, b := range []string{"a", "b", "c"} {
			mustSend(t.Context(), t, q, b)
		}
		receiveN(t.Context(), t, q, 1)
		c, err := q.Counts(t.Context())
		if err != nil || c.Visible != 2 || c.InFlight != 1 {
			t.Errorf("Counts = %+v, %v; want 2 visible, 1 in flight", c, err)
		}
		if d, err := q.DeadLetterCounts(t.Context()); err != nil || d.Total() != 0 {
			t.Errorf("DeadLetterCounts = %+v, %v; want empty", d, err)
		}
	})

	t.Run("PeekRedrive", func(t *testing.T) {
		t.Parallel()
		q := newQueue(t, opts)
		kill(t, q, "poison-1", "poison-2")
		peeked, err := q.PeekDeadLetters(t.Context(), 10)
		if err != nil {
			t.Fatalf("PeekDeadLetters = %v; want nil", err)
		}
		if got := bodies(peeked); !slices.Equal(got, []string{"poison-1", "poison-2"}) {
			t.Errorf("peeked %v; want [poison-1 poison-2]", got)
		}
		// A look leaves them there.
		if d, err := q.DeadLetterCounts(t.Context()); err != nil || d.Total() != 2 {
			t.Errorf("DeadLetterCounts after a peek = %+v, %v; want 2", d, err)
		}
		res, err := q.RedriveDeadLetters(t.Context())
		if err != nil || res.Moved != 2 {
			t.Fatalf("RedriveDeadLetters = %+v, %v; want 2 moved", res, err)
		}
		got := receiveN(t.Context(), t, q, 2)
		slices.SortFunc(got, func(a, b events.SQSMessage) int { return strings.Compare(a.Body, b.Body) })
		if got[0].Body != "poison-1" || got[1].Body != "poison-2" {
			t.Errorf("after redrive received %q, %q; want poison-1, poison-2", got[0].Body, got[1].Body)
		}
		waitDeadLetters(t, q, 0)
	})

	t.Run("Purge", func(t *testing.T) {
		t.Parallel()
		q := newQueue(t, opts)
		kill(t, q, "x")
		n, err := q.PurgeDeadLetters(t.Context())
		if err != nil || n != 1 {
			t.Fatalf("PurgeDeadLetters = %d, %v; want 1", n, err)
		}
		waitDeadLetters(t, q, 0)
		if got := receive(t.Context(), t, q, 10, 0); len(got) != 0 {
			t.Errorf("the queue holds %q after a purge of its dead letters; want nothing", got[0].Body)
		}
	})
}

// kill sends each body and receives it until the redrive policy moves it
// to the dead-letter queue.
func kill(t *testing.T, q Admin, bodies ...string) {
	t.Helper()
	for _, b := range bodies {
		mustSend(t.Context(), t, q, b)
	}
	testkit.Eventually(t, time.Minute, func() bool {
		receive(t.Context(), t, q, 10, time.Second)
		d, err := q.DeadLetterCounts(t.Context())
		if err != nil {
			t.Fatalf("DeadLetterCounts = %v; want nil", err)
		}
		return d.Total() == len(bodies)
	}, "%d messages reach the dead-letter queue", len(bodies))
}

// waitDeadLetters polls until the dead-letter queue counts n messages
// (SQS's counts are approximate, and a purge takes a moment).
func waitDeadLetters(t *testing.T, q Admin, n int) {
	t.Helper()
	testkit.Eventually(t, time.Minute, func() bool {
		d, err := q.DeadLetterCounts(t.Context())
		return err == nil && d.Total() == n
	}, "the dead-letter queue counts %d messages", n)
}

func bodies(ps []queue.Peeked) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Body)
	}
	slices.Sort(out)
	return out
}
