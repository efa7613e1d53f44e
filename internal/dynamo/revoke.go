package dynamo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/asyncprime/asyncprime/internal/task"
)

// Revoke implements task.Store with one conditional UpdateItem: the task
// must be PENDING or STARTED. A failed condition returns the item as it
// was (ALL_OLD), which tells a missing task from a final one without a
// read. A batch member's batch item is read first (own): a batch id that
// no batch item holds is ErrNotFound, never a REVOKED item made up.
func (s *Store) Revoke(ctx context.Context, id string, at, expires time.Time) (task.Task, error) {
	u, err := changes(task.Task{Status: task.StatusRevoked, FinishedAt: at, ExpiresAt: expires},
		"is_prime", "error", "finished_at", AttrExpiresAt)
	if err != nil {
		return task.Task{}, fmt.Errorf("revoke task %s: %w", id, err)
	}
	u, upsert, err := s.own(ctx, id, u, "number", "created_at")
	if err != nil {
		return task.Task{}, fmt.Errorf("revoke task %s: %w", id, err)
	}
	out, err := s.write(ctx, id, upsert, u, task.StatusRevoked, task.StatusPending, task.StatusStarted)
	var ccf *types.ConditionalCheckFailedException
	switch {
	case errors.As(err, &ccf) && len(ccf.Item) > 0:
		return task.Task{}, fmt.Errorf("revoke: %w", &task.FinalError{ID: id, Status: statusOf(ccf.Item)})
	case err != nil:
		return task.Task{}, s.conditionError("revoke", id, upsert, err)
	}
	t, err := decode(out.Attributes)
	if err != nil {
		return task.Task{}, fmt.Errorf("revoke task %s: decode item: %w", id, err)
	}
	return t, nil
}
