package dynamo

import (
	"context"
	"fmt"
	"time"

	"github.com/asyncprime/asyncprime/internal/task"
)

var _ task.Reopener = (*Store)(nil)

// Reopen implements task.Reopener with one conditional UpdateItem: a
// FAILURE task goes back to PENDING, without its result, error or times.
// A batch member's number is copied from its batch item first (own).
// Only an operator calls it (the console, with the operator's
// credentials): no function's role needs more than it has.
func (s *Store) Reopen(ctx context.Context, id string, expiresAt time.Time) error {
	u, err := changes(task.Task{Status: task.StatusPending, ExpiresAt: expiresAt},
		"is_prime", "error", "started_at", "finished_at", AttrExpiresAt)
	if err != nil {
		return fmt.Errorf("reopen task %s: %w", id, err)
	}
	u, upsert, err := s.own(ctx, id, u, "number", "created_at")
	if err != nil {
		return fmt.Errorf("reopen task %s: %w", id, err)
	}
	if _, err := s.write(ctx, id, upsert, u, task.StatusPending, task.StatusFailure); err != nil {
		return s.conditionError("reopen", id, upsert, err)
	}
	return nil
}
