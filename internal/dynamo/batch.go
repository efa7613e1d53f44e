package dynamo

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"time"

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

// What follows is the one place where the two kinds of task differ: a
// task with an item of its own (a single submit's, version 7 or 4 id), and
// a member of a batch (a version 8 id, task.NewBatchIDs) whose record is
// its batch's item until its first write. See the package documentation.

// BatchPrefix starts the task_id of a batch item: "batch#<batch name>",
// the name task.BatchOf reads from its tasks' ids. No task id has that
// form, and the status function reads UUIDs only.
const BatchPrefix = "batch#"

// Attributes of a batch item besides task_id and created_at.
const (
	AttrNumbers       = "numbers"
	AttrTaskExpiresAt = "task_expires_at"
)

// batchItem is the item of a batch of tasks created together: their
// numbers in index order, and what they share while PENDING. Its TTL
// (expires_at) is its tasks' expiry plus their retention again, so that a
// task that finishes before its own expiry keeps its number, which its
// own item lacks, for as long as its result is kept.
type batchItem struct {
	ID            string        `dynamodbav:"task_id"`
	Numbers       []task.Number `dynamodbav:"numbers"` // L of S: the order is the index
	CreatedAt     time.Time     `dynamodbav:"created_at"`
	TaskExpiresAt time.Time     `dynamodbav:"task_expires_at,unixtime"`
	ExpiresAt     time.Time     `dynamodbav:"expires_at,unixtime"`
}

// batchKey returns the key of the batch item that holds the task id, and
// the task's index in it, if id is a batch member's; ok is false for a
// task with an item of its own.
func batchKey(id string) (k map[string]types.AttributeValue, index int, ok bool) {
	batch, index, ok := task.BatchOf(id)
	if !ok {
		return nil, 0, false
	}
	return key(BatchPrefix + batch), index, true
}

// asBatchItem returns the batch item that holds ts, if ts are exactly the
// tasks of one batch in index order (ids from task.NewBatchIDs), all
// PENDING as created, with the same created_at and expires_at.
func asBatchItem(ts []task.Task) (batchItem, bool) {
	if len(ts) == 0 {
		return batchItem{}, false
	}
	first := ts[0]
	batch, _, ok := task.BatchOf(first.ID)
	if !ok || first.CreatedAt.IsZero() || !first.ExpiresAt.After(first.CreatedAt) {
		return batchItem{}, false
	}
	it := batchItem{
		ID: BatchPrefix + batch, Numbers: make([]task.Number, len(ts)), CreatedAt: first.CreatedAt.UTC(),
		TaskExpiresAt: first.ExpiresAt, ExpiresAt: first.ExpiresAt.Add(first.ExpiresAt.Sub(first.CreatedAt)),
	}
	for i, t := range ts {
		b, index, ok := task.BatchOf(t.ID)
		fresh := task.Task{ID: t.ID, Status: task.StatusPending, Number: t.Number, CreatedAt: first.CreatedAt, ExpiresAt: first.ExpiresAt}
		if !ok || b != batch || index != i || t.Number == "" || !equalTasks(t, fresh) {
			return batchItem{}, false
		}
		it.Numbers[i] = t.Number
	}
	return it, true
}

// equalTasks reports whether a and b are the same task (times compared as
// instants).
func equalTasks(a, b task.Task) bool {
	eq := func(x, y time.Time) bool { return x.Equal(y) }
	return a.ID == b.ID && a.Status == b.Status && a.Number == b.Number && a.IsPrime == b.IsPrime &&
		a.Error == b.Error && a.Attempts == b.Attempts && eq(a.CreatedAt, b.CreatedAt) &&
		eq(a.StartedAt, b.StartedAt) && eq(a.FinishedAt, b.FinishedAt) && eq(a.ExpiresAt, b.ExpiresAt)
}

// memberOf returns the task id as its batch item holds it, PENDING; ok is
// false if the item (nil: none) does not hold it.
func memberOf(it map[string]types.AttributeValue, id string, index int) (t task.Task, ok bool, err error) {
	if len(it) == 0 {
		return task.Task{}, false, nil
	}
	var b batchItem
	if err := attributevalue.UnmarshalMap(it, &b); err != nil {
		return task.Task{}, false, fmt.Errorf("decode batch item: %w: %w", task.ErrDamaged, err)
	}
	if index >= len(b.Numbers) {
		return task.Task{}, false, nil
	}
	return task.Task{
		ID: id, Status: task.StatusPending, Number: b.Numbers[index],
		CreatedAt: b.CreatedAt, ExpiresAt: b.TaskExpiresAt.UTC(),
	}, true, nil
}

// inherited are the attributes a member's own item takes from its batch
// item: where it lacks them, reads fill them in, and writes that need the
// number copy them (own).
var inherited = []string{"number", "created_at", AttrExpiresAt}

// own prepares a write of a task that must exist. For a batch member
// that its batch item holds, it returns u with the member's number,
// created_at and the inherited attributes among attrs copied from the
// batch item where the member's item lacks them (if_not_exists), so that
// its item is self-sufficient, and upsert true: the write may create the
// member's item. Otherwise (a task with an item of its own, or a batch id
// that no batch item holds: a made-up id, or a member created in full) it
// returns u as it is and false: the task's item must exist.
func (s *Store) own(ctx context.Context, id string, u expression.UpdateBuilder, attrs ...string) (expression.UpdateBuilder, bool, error) {
	bk, index, ok := batchKey(id)
	if !ok {
		return u, false, nil
	}
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: bk, ConsistentRead: aws.Bool(true)})
	if err != nil {
		return u, false, fmt.Errorf("read batch item: %w", err)
	}
	t, ok, err := memberOf(out.Item, id, index)
	if err != nil || !ok {
		return u, false, err
	}
	it, err := encode(t)
	if err != nil {
		return u, false, err
	}
	for _, a := range attrs {
		if it[a] == nil {
			continue
		}
		u = u.Set(expression.Name(a), expression.IfNotExists(expression.Name(a), expression.Value(it[a])))
	}
	return u, true, nil
}

// getMember reads a batch member: its own item and its batch item in one
// strongly consistent BatchGetItem. Its own item wins when it has the
// number (a member written by Start, Revoke, Reopen or Abandon, or created
// in full); an item without one (written by Finish alone) takes the
// inherited attributes from the batch item; no item of its own is a
// PENDING task, if the batch item holds it.
func (s *Store) getMember(ctx context.Context, id string, bk map[string]types.AttributeValue, index int) (task.Task, error) {
	items, err := s.batchGet(ctx, key(id), bk)
	if err != nil {
		return task.Task{}, fmt.Errorf("get task %s: %w", id, err)
	}
	var own, batch map[string]types.AttributeValue
	for _, it := range items {
		if v, _ := it[AttrID].(*types.AttributeValueMemberS); v != nil && v.Value == id {
			own = it
		} else {
			batch = it
		}
	}
	if _, ok := own[AttrStatus]; !ok {
		// An item without a status is the first write of the member caught
		// half done, which only an emulator shows (see write): the task is
		// as its batch item holds it until that write ends.
		own = nil
	}
	if _, ok := own["number"]; ok {
		return decodeTask(id, own)
	}
	t, ok, err := memberOf(batch, id, index)
	switch {
	case err != nil:
		return task.Task{}, fmt.Errorf("get task %s: %w", id, err)
	case !ok:
		return task.Task{}, fmt.Errorf("get task %s: %w", id, task.ErrNotFound)
	case own == nil:
		return t, nil
	}
	base, err := encode(t)
	if err != nil {
		return task.Task{}, err
	}
	for _, a := range inherited {
		if _, ok := own[a]; !ok && base[a] != nil {
			own[a] = base[a]
		}
	}
	return decodeTask(id, own)
}

// batchGet reads the items with keys k, strongly consistent, in one
// BatchGetItem, asking again for any that DynamoDB leaves unprocessed.
func (s *Store) batchGet(ctx context.Context, keys ...map[string]types.AttributeValue) ([]map[string]types.AttributeValue, error) {
	req := map[string]types.KeysAndAttributes{s.table: {Keys: keys, ConsistentRead: aws.Bool(true)}}
	var items []map[string]types.AttributeValue
	for backoff := 10 * time.Millisecond; ; backoff *= 2 {
		out, err := s.client.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: req})
		if err != nil {
			return nil, err
		}
		items = append(items, out.Responses[s.table]...)
		if len(out.UnprocessedKeys[s.table].Keys) == 0 {
			return items, nil
		}
		req = out.UnprocessedKeys
		timer := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil, fmt.Errorf("keys left unprocessed: %w", ctx.Err())
		case <-timer.C:
		}
	}
}
