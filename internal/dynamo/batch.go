package dynamo

import (
	"context"
	"errors"
	"fmt"
	"reflect"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/asyncprime/asyncprime/internal/task"
)

// MaxTransactItems is the most actions one TransactWriteItems may carry,
// and so the largest batch CreateBatch writes that is not one batch's
// tasks.
const MaxTransactItems = 100

// CreateBatch implements task.Store. The tasks of one batch (ids from
// task.NewBatchIDs, in index order, as Submitter creates them) are one
// PutItem of their batch item if attribute_not_exists(task_id), which
// holds them until each one's first write; creating the very same batch
// again succeeds, as for Create, and any other batch item under that key
// is ErrExists. Other tasks are one TransactWriteItems: a Put of
// each task if attribute_not_exists(task_id), all or none. Its
// ClientRequestToken (the first task's id) makes the SDK's retry of a
// transaction whose answer was lost a success rather than a failed
// condition; should the condition fail anyway on the very items written
// (an emulator without tokens), that is a success too, as for Create.
// IAM authorises each Put as dynamodb:PutItem.
func (s *Store) CreateBatch(ctx context.Context, ts []task.Task) error {
	if len(ts) == 0 {
		return nil
	}
	if b, ok := asBatchItem(ts); ok {
		it, err := attributevalue.MarshalMap(b)
		if err != nil {
			return fmt.Errorf("create batch %s: encode item: %w", b.ID, err)
		}
		return s.create(ctx, fmt.Sprintf("%d tasks (batch %s)", len(ts), b.ID), it)
	}
	if len(ts) > MaxTransactItems {
		return fmt.Errorf("create %d tasks: at most %d per batch", len(ts), MaxTransactItems)
	}
	cond, err := expression.NewBuilder().WithCondition(expression.AttributeNotExists(expression.Name(AttrID))).Build()
	if err != nil {
		return fmt.Errorf("create %d tasks: build expression: %w", len(ts), err)
	}
	items := make([]map[string]types.AttributeValue, len(ts))
	actions := make([]types.TransactWriteItem, len(ts))
	for i, t := range ts {
		if items[i], err = encode(t); err != nil {
			return err
		}
		actions[i] = types.TransactWriteItem{Put: &types.Put{
			TableName:                           aws.String(s.table),
			Item:                                items[i],
			ConditionExpression:                 cond.Condition(),
			ExpressionAttributeNames:            cond.Names(),
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		}}
	}
	_, err = s.client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{
		TransactItems:      actions,
		ClientRequestToken: aws.String(ts[0].ID),
	})
	var canceled *types.TransactionCanceledException
	switch {
	case errors.As(err, &canceled):
		return s.batchCanceled(ts, items, canceled)
	case err != nil:
		return fmt.Errorf("create %d tasks (first %s): %w", len(ts), ts[0].ID, err)
	}
	return nil
}

// batchCanceled maps a cancelled transaction: failed conditions on items
// other than those written are ErrExists; on the very items, a retry.
func (s *Store) batchCanceled(ts []task.Task, items []map[string]types.AttributeValue, canceled *types.TransactionCanceledException) error {
	conflicts, retries := 0, 0
	for i, r := range canceled.CancellationReasons {
		if aws.ToString(r.Code) != "ConditionalCheckFailed" || i >= len(items) {
			continue
		}
		conflicts++
		if len(r.Item) > 0 && reflect.DeepEqual(r.Item, items[i]) {
			retries++
		}
	}
	switch {
	case conflicts > 0 && conflicts == retries:
		return nil
	case conflicts > 0:
		return fmt.Errorf("create %d tasks (first %s): %w", len(ts), ts[0].ID, task.ErrExists)
	}
	return fmt.Errorf("create %d tasks (first %s): %w", len(ts), ts[0].ID, canceled)
}
