package dynamo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/asyncprime/asyncprime/internal/task"
)

// ClaimPrefix starts the task_id of an idempotency claim's item, which
// lives in the tasks table beside the tasks: "idem#<key>". No task id can
// take that form (task ids are UUIDs), and the status function never reads
// one (it looks up UUIDs only).
const ClaimPrefix = "idem#"

// Attributes of a claim item besides task_id, created_at and expires_at
// (the TTL attribute, so DynamoDB deletes expired claims as it does tasks).
const (
	AttrRequestHash = "request_hash"
	AttrBatch       = "batch"
	AttrTaskIDs     = "task_ids"
)

type claimItem struct {
	ID        string    `dynamodbav:"task_id"`
	Hash      string    `dynamodbav:"request_hash"`
	Batch     bool      `dynamodbav:"batch"`
	TaskIDs   []string  `dynamodbav:"task_ids"` // a list (L): the order matters
	CreatedAt time.Time `dynamodbav:"created_at"`
	ExpiresAt time.Time `dynamodbav:"expires_at,unixtime"`
}

func toClaimItem(c task.Claim) claimItem {
	return claimItem{
		ID: ClaimPrefix + c.Key, Hash: c.Hash, Batch: c.Batch, TaskIDs: c.TaskIDs,
		CreatedAt: c.CreatedAt.UTC(), ExpiresAt: c.ExpiresAt,
	}
}

func (it claimItem) claim(key string) task.Claim {
	return task.Claim{
		Key: key, Hash: it.Hash, Batch: it.Batch, TaskIDs: it.TaskIDs,
		CreatedAt: it.CreatedAt, ExpiresAt: it.ExpiresAt.UTC(),
	}
}

// Claim implements task.Store with one conditional PutItem of the claim
// item: attribute_not_exists(task_id) OR (expires_at <= now AND
// task_ids[0] <> c's first task): an expired or released claim that TTL
// has not deleted yet is free, but for the very claim that was released,
// whose write may land late (the SDK retries it after its caller gave up).
// When the condition fails, the holder comes back with the failure
// (ALL_OLD): no read is made.
func (s *Store) Claim(ctx context.Context, c task.Claim) (task.Claim, error) {
	if len(c.TaskIDs) == 0 {
		return task.Claim{}, fmt.Errorf("claim key %s: the claim names no task", task.Excerpt(c.Key))
	}
	cond := expression.AttributeNotExists(expression.Name(AttrID)).Or(
		expression.Name(AttrExpiresAt).LessThanEqual(expression.Value(c.CreatedAt.Unix())).And(
			expression.Name(AttrTaskIDs + "[0]").NotEqual(expression.Value(c.TaskIDs[0]))))
	return s.putClaim(ctx, "claim", c, toClaimItem(c), cond)
}

// Holder implements task.Store with one consistent GetItem of the claim
// item (1 RRU).
func (s *Store) Holder(ctx context.Context, name string, at time.Time) (task.Claim, error) {
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.table),
		Key:            key(ClaimPrefix + name),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return task.Claim{}, fmt.Errorf("look up key %s: %w", task.Excerpt(name), err)
	}
	if len(out.Item) == 0 {
		return task.Claim{}, fmt.Errorf("key %s: %w", task.Excerpt(name), task.ErrNotFound)
	}
	var it claimItem
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return task.Claim{}, fmt.Errorf("look up key %s: decode item: %w", task.Excerpt(name), err)
	}
	c := it.claim(name)
	if c.Expired(at) {
		return task.Claim{}, fmt.Errorf("key %s: %w", task.Excerpt(name), task.ErrNotFound)
	}
	return c, nil
}

// Release implements task.Store: a PutItem of the claim with expires_at
// set to its creation, if the key holds it (same request hash and first
// task id) or nothing: then the released claim refuses c's own write,
// should it land later. It uses PutItem, as Claim, so that the submit
// function's role needs nothing more.
func (s *Store) Release(ctx context.Context, c task.Claim) error {
	if len(c.TaskIDs) == 0 {
		return fmt.Errorf("release key %s: the claim names no task", task.Excerpt(c.Key))
	}
	cond := expression.AttributeNotExists(expression.Name(AttrID)).Or(
		expression.Name(AttrRequestHash).Equal(expression.Value(c.Hash)).
			And(expression.Name(AttrTaskIDs + "[0]").Equal(expression.Value(c.TaskIDs[0]))))
	_, err := s.putClaim(ctx, "release", c, toClaimItem(c.Release()), cond)
	if errors.Is(err, errHeld) {
		return fmt.Errorf("release key %s: held by another request: %w", task.Excerpt(c.Key), task.ErrConflict)
	}
	return err
}

// errHeld is a failed condition of Release: the key holds another claim.
var errHeld = errors.New("idempotency key held")

func (s *Store) putClaim(ctx context.Context, op string, c task.Claim, it claimItem, cond expression.ConditionBuilder) (task.Claim, error) {
	av, err := attributevalue.MarshalMap(it)
	if err != nil {
		return task.Claim{}, fmt.Errorf("%s key %s: encode item: %w", op, task.Excerpt(c.Key), err)
	}
	expr, err := expression.NewBuilder().WithCondition(cond).Build()
	if err != nil {
		return task.Claim{}, fmt.Errorf("%s key %s: build expression: %w", op, task.Excerpt(c.Key), err)
	}
	_, err = s.client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                           aws.String(s.table),
		Item:                                av,
		ConditionExpression:                 expr.Condition(),
		ExpressionAttributeNames:            expr.Names(),
		ExpressionAttributeValues:           expr.Values(),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	var ccf *types.ConditionalCheckFailedException
	if !errors.As(err, &ccf) {
		if err != nil {
			return task.Claim{}, fmt.Errorf("%s key %s: %w", op, task.Excerpt(c.Key), err)
		}
		return c, nil
	}
	if len(ccf.Item) == 0 {
		return task.Claim{}, errHeld
	}
	var cur claimItem
	if err := attributevalue.UnmarshalMap(ccf.Item, &cur); err != nil {
		return task.Claim{}, fmt.Errorf("%s key %s: decode the holder: %w", op, task.Excerpt(c.Key), err)
	}
	holder := cur.claim(c.Key)
	if op == "claim" {
		switch {
		case holder.Same(c) && holder.Released():
			return task.Claim{}, fmt.Errorf("claim key %s: %w", task.Excerpt(c.Key), task.ErrReleased)
		case holder.Same(c):
			return c, nil // our own write, retried by the SDK after its answer was lost
		}
		return holder, fmt.Errorf("claim key %s: %w", task.Excerpt(c.Key), task.ErrClaimed)
	}
	return holder, errHeld
}
