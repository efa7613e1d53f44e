package dynamo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/asyncprime/asyncprime/internal/task"
)

// Revoke implements task.Store with one conditional UpdateItem: the task
// must exist and be PENDING or STARTED. A failed condition returns the
// item as it was (ALL_OLD), which tells a missing task from a final one
// without a read.
func (s *Store) Revoke(ctx context.Context, id string, at, expires time.Time) (task.Task, error) {
	cond := expression.AttributeExists(expression.Name(AttrID)).And(
		expression.Name(AttrStatus).In(expression.Value(string(task.StatusPending)), expression.Value(string(task.StatusStarted))))
	upd := expression.Set(expression.Name(AttrStatus), expression.Value(string(task.StatusRevoked))).
		Set(expression.Name(AttrFinishedAt), expression.Value(formatTime(at))).
		Set(expression.Name(AttrExpiresAt), expression.Value(expires.Unix())).
		Remove(expression.Name(AttrIsPrime)).
		Remove(expression.Name(AttrError))
	expr, err := expression.NewBuilder().WithCondition(cond).WithUpdate(upd).Build()
	if err != nil {
		return task.Task{}, fmt.Errorf("revoke task %s: build expression: %w", id, err)
	}
	out, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                           aws.String(s.table),
		Key:                                 map[string]types.AttributeValue{AttrID: &types.AttributeValueMemberS{Value: id}},
		ConditionExpression:                 expr.Condition(),
		UpdateExpression:                    expr.Update(),
		ExpressionAttributeNames:            expr.Names(),
		ExpressionAttributeValues:           expr.Values(),
		ReturnValues:                        types.ReturnValueAllNew,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	var ccf *types.ConditionalCheckFailedException
	switch {
	case errors.As(err, &ccf) && len(ccf.Item) == 0:
		return task.Task{}, fmt.Errorf("revoke task %s: %w", id, task.ErrNotFound)
	case errors.As(err, &ccf):
		cur, derr := unmarshalTask(ccf.Item)
		if derr != nil {
			return task.Task{}, fmt.Errorf("revoke task %s: %w (%w)", id, task.ErrConflict, derr)
		}
		return task.Task{}, fmt.Errorf("revoke: %w", &task.FinalError{ID: id, Status: cur.Status})
	case err != nil:
		return task.Task{}, fmt.Errorf("revoke task %s: %w", id, err)
	}
	t, err := unmarshalTask(out.Attributes)
	if err != nil {
		return task.Task{}, fmt.Errorf("revoke task %s: %w", id, err)
	}
	return t, nil
}
