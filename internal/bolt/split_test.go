package bolt_test

import (
	"testing"
	"time"

	"github.com/asyncprime/asyncprime/internal/bolt"
	"github.com/asyncprime/asyncprime/internal/task"
)

// TestOutboxRoutesBigNumbers: with SplitBig, the outbox puts the message of
// a number beyond 64 bits on the big-task queue and the others on the tasks
// queue, for Create and for CreateBatch alike.
func TestOutboxRoutesBigNumbers(t *testing.T) {
	t.Parallel()
	const big = "170141183460469231731687303715884105727" // 2^127 - 1
	for _, tt := range []struct {
		name   string
		create func(*bolt.Store, []task.Task) error
	}{
		{"Create", func(s *bolt.Store, ts []task.Task) error {
			for _, tk := range ts {
				if err := s.Create(t.Context(), tk); err != nil {
					return err
				}
			}
			return nil
		}},
		{"CreateBatch", func(s *bolt.Store, ts []task.Task) error { return s.CreateBatch(t.Context(), ts) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			db, _ := open(t, bolt.Options{Outbox: true, SplitBig: true, VisibilityTimeout: time.Hour})
			ts := []task.Task{pendingTask("11"), pendingTask(big), pendingTask("13")}
			if err := tt.create(db.Store(), ts); err != nil {
				t.Fatalf("%s = %v; want nil", tt.name, err)
			}
			if got := db.Queue().Len(); got != 2 {
				t.Errorf("the tasks queue holds %d messages; want 2 (11 and 13)", got)
			}
			if got := db.BigQueue().Len(); got != 1 {
				t.Errorf("the big-task queue holds %d messages; want 1 (2^127-1)", got)
			}
		})
	}
}
