package dynamo

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"

	"github.com/asyncprime/asyncprime/internal/task"
)

var _ task.Reopener = (*Store)(nil)

// Reopen implements task.Reopener with one conditional UpdateItem: a
// FAILURE task goes back to PENDING, without its result, error or times.
// Only an operator calls it (the console, with the operator's
// credentials): no function's role needs more than it has.
func (s *Store) Reopen(ctx context.Context, id string, expiresAt time.Time) error {
	u, err := changes(task.Task{Status: task.StatusPending, ExpiresAt: expiresAt},
		AttrStatus, "is_prime", "error", "started_at", "finished_at", AttrExpiresAt)
	if err == nil {
		_, err = s.update(ctx, id, u, expression.Name(AttrStatus).Equal(expression.Value(task.StatusFailure)))
	}
	if err != nil {
		return s.conditionError("reopen", id, err)
	}
	return nil
}
