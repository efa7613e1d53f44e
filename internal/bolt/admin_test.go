package bolt_test

import (
	"context"
	"testing"
	"time"

	"github.com/asyncprime/asyncprime/internal/bolt"
	"github.com/asyncprime/asyncprime/internal/testkit"
)

// kill receives from q until its dead-letter queue holds n messages.
func kill(t *testing.T, q *bolt.Queue, n int) {
	t.Helper()
	testkit.Eventually(t, time.Minute, func() bool {
		if _, err := q.Receive(t.Context(), 10, 100*time.Millisecond); err != nil {
			t.Fatal(err)
		}
		c, _ := q.DeadLetterCounts(t.Context())
		return c.Total() == n
	})
}

// TestRedriveSurvivesReopen: a redrive is on disk when it returns, and one
// that fails leaves the messages where they were.
func TestRedriveSurvivesReopen(t *testing.T) {
	t.Parallel()
	db, path := open(t, bolt.Options{VisibilityTimeout: 10 * time.Millisecond, MaxReceiveCount: 1})
	q := db.Queue()
	if _, err := q.Send(t.Context(), "poison"); err != nil {
		t.Fatal(err)
	}
	kill(t, q, 1)
	// A redrive that cannot commit (here: its context is over) moves
	// nothing, and loses nothing.
	done, cancel := context.WithCancel(t.Context())
	cancel()
	if res, err := q.RedriveDeadLetters(done); err == nil || res.Moved != 0 {
		t.Fatalf("RedriveDeadLetters(cancelled) = %+v, %v; want an error and nothing moved", res, err)
	}
	if d, _ := q.DeadLetterCounts(t.Context()); d.Total() != 1 {
		t.Fatalf("after an interrupted redrive the DLQ holds %d; want 1", d.Total())
	}
	if res, err := q.RedriveDeadLetters(t.Context()); err != nil || res.Moved != 1 {
		t.Fatalf("RedriveDeadLetters = %+v, %v; want 1 moved", res, err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db2 := openAt(t, path, bolt.Options{MaxReceiveCount: 1})
	c, _ := db2.Queue().Counts(t.Context())
	d, _ := db2.Queue().DeadLetterCounts(t.Context())
	if c.Total() != 1 || d.Total() != 0 {
		t.Errorf("after reopening: queue %+v, dead letters %+v; want 1 message back in the queue, none dead", c, d)
	}
}
