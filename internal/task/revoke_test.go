package task_test

import (
	"context"
	"testing"
	"time"

	"github.com/asyncprime/asyncprime/internal/memory"
	"github.com/asyncprime/asyncprime/internal/task"
)

// TestRevokedTaskIsAcknowledgedUnchecked: a delivery of a task revoked
// while PENDING, or while another delivery was checking it, is done with
// (nil: delete the message), the number is never checked after the
// revoke, and the task stays REVOKED.
func TestRevokedTaskIsAcknowledgedUnchecked(t *testing.T) {
	t.Parallel()
	for _, whileChecking := range []bool{false, true} {
		store := memory.NewStore()
		id := submitted(t, store, "11")
		p := newProcessor(store)
		checks := 0
		p.Check = func(ctx context.Context, n task.Number) (bool, error) {
			checks++
			if whileChecking {
				// The client cancels while the worker checks.
				if _, err := store.Revoke(ctx, id, t0, t0.Add(time.Hour)); err != nil {
					t.Errorf("Revoke = %v", err)
				}
			}
			return true, nil
		}
		if !whileChecking {
			if _, err := store.Revoke(t.Context(), id, t0, t0.Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
		}
		if err := p.Process(t.Context(), task.Delivery{Body: task.EncodeMessage(id), ReceiveCount: 1}); err != nil {
			t.Errorf("Process = %v; want nil (acknowledge)", err)
		}
		if want := map[bool]int{false: 0, true: 1}[whileChecking]; checks != want {
			t.Errorf("while checking %v: %d checks; want %d", whileChecking, checks, want)
		}
		if got, _ := store.Get(t.Context(), id); got.Status != task.StatusRevoked {
			t.Errorf("while checking %v: task is %s; want REVOKED", whileChecking, got.Status)
		}
	}
}
