package bolt

import (
	"context"
	"fmt"
	"time"

	"github.com/asyncprime/asyncprime/internal/task"
)

var _ task.Reopener = (*Store)(nil)

// Reopen implements task.Reopener.
func (s *Store) Reopen(ctx context.Context, id string, expiresAt time.Time) error {
	err := s.update(ctx, id, func(t task.Task) (task.Task, error) {
		if t.Status != task.StatusFailure {
			return t, fmt.Errorf("in state %s: %w", t.Status, task.ErrConflict)
		}
		t.Status, t.Error, t.IsPrime = task.StatusPending, "", false
		t.StartedAt, t.FinishedAt, t.ExpiresAt = time.Time{}, time.Time{}, expiresAt
		return t, nil
	})
	if err != nil {
		return fmt.Errorf("reopen task %s: %w", id, err)
	}
	return nil
}
