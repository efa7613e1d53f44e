package memory

import (
	"context"
	"fmt"
	"time"

	"github.com/asyncprime/asyncprime/internal/task"
)

var _ task.Reopener = (*Store)(nil)

// Reopen implements task.Reopener.
func (s *Store) Reopen(_ context.Context, id string, expiresAt time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tasks[id]
	if !ok {
		return fmt.Errorf("reopen task %s: %w", id, task.ErrNotFound)
	}
	if t.Status != task.StatusFailure {
		return fmt.Errorf("reopen task %s in state %s: %w", id, t.Status, task.ErrConflict)
	}
	s.tasks[id] = reopened(t, expiresAt)
	return nil
}

func reopened(t task.Task, expiresAt time.Time) task.Task {
	t.Status, t.Error, t.IsPrime = task.StatusPending, "", false
	t.StartedAt, t.FinishedAt, t.ExpiresAt = time.Time{}, time.Time{}, expiresAt
	return t
}
