package bolt_test

import (
	"testing"
	"time"

	"github.com/asyncprime/asyncprime/internal/bolt"
	"github.com/asyncprime/asyncprime/internal/queuetest"
)

func TestAdminConformance(t *testing.T) {
	t.Parallel()
	queuetest.RunAdmin(t, func(t *testing.T, opts queuetest.Options) queuetest.Admin {
		db, _ := open(t, bolt.Options{VisibilityTimeout: opts.VisibilityTimeout, MaxReceiveCount: opts.MaxReceiveCount, Outbox: true})
		return db.Queue()
	})
}

// TestRedriveSurvivesReopen: a redrive is on disk when it returns.
func TestRedriveSurvivesReopen(t *testing.T) {
	t.Parallel()
	db, path := open(t, bolt.Options{VisibilityTimeout: 10 * time.Millisecond, MaxReceiveCount: 1})
	q := db.Queue()
	if _, err := q.Send(t.Context(), "poison"); err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := q.Receive(t.Context(), 10, 100*time.Millisecond); err != nil {
			t.Fatal(err)
		}
		if c, _ := q.DeadLetterCounts(t.Context()); c.Total() == 1 {
			break
		}
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
