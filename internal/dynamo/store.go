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

// Client is the part of the DynamoDB API the store uses; *dynamodb.Client
// implements it.
type Client interface {
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, optFns ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
}

var _ Client = (*dynamodb.Client)(nil)

// Attribute names the rest of the tree needs: the key and the TTL attribute
// (internal/provision), the status (tests that scan the table).
const (
	AttrID        = "task_id"
	AttrStatus    = "status"
	AttrExpiresAt = "expires_at"
)

// record is a task as an item; see the package documentation. Times are UTC.
type record struct {
	ID         string      `dynamodbav:"task_id"`
	Status     task.Status `dynamodbav:"status"`
	Number     task.Number `dynamodbav:"number"`
	IsPrime    *bool       `dynamodbav:"is_prime,omitempty"`
	Error      string      `dynamodbav:"error,omitempty"`
	Attempts   int         `dynamodbav:"attempts"`
	CreatedAt  time.Time   `dynamodbav:"created_at,omitempty"`
	StartedAt  time.Time   `dynamodbav:"started_at,omitempty"`
	FinishedAt time.Time   `dynamodbav:"finished_at,omitempty"`
	ExpiresAt  time.Time   `dynamodbav:"expires_at,unixtime,omitempty"`
}

// encode returns the item for t: is_prime only on SUCCESS, error only on a
// FAILURE that says why, no attribute for a zero time.
func encode(t task.Task) (map[string]types.AttributeValue, error) {
	r := record{
		ID: t.ID, Status: t.Status, Number: t.Number, Attempts: t.Attempts,
		CreatedAt: t.CreatedAt.UTC(), StartedAt: t.StartedAt.UTC(), FinishedAt: t.FinishedAt.UTC(), ExpiresAt: t.ExpiresAt,
	}
	switch t.Status {
	case task.StatusSuccess:
		r.IsPrime = &t.IsPrime
	case task.StatusFailure:
		r.Error = t.Error
	}
	it, err := attributevalue.MarshalMapWithOptions(r, func(o *attributevalue.EncoderOptions) { o.OmitEmptyTime = true })
	if err != nil {
		return nil, fmt.Errorf("encode task %s: %w", t.ID, err)
	}
	return it, nil
}

// decode returns the task an item holds. It rejects items that do not follow
// the layout rather than guess.
func decode(it map[string]types.AttributeValue) (task.Task, error) {
	var r record
	if err := attributevalue.UnmarshalMap(it, &r); err != nil {
		return task.Task{}, err
	}
	if !r.Status.Valid() {
		return task.Task{}, fmt.Errorf("attribute status: unknown status %s", task.Excerpt(string(r.Status)))
	}
	if r.ID == "" || r.Number == "" {
		return task.Task{}, errors.New("attribute task_id or number is missing")
	}
	t := task.Task{
		ID: r.ID, Status: r.Status, Number: r.Number, Error: r.Error, Attempts: r.Attempts,
		CreatedAt: r.CreatedAt, StartedAt: r.StartedAt, FinishedAt: r.FinishedAt,
	}
	if r.IsPrime != nil {
		t.IsPrime = *r.IsPrime
	}
	if !r.ExpiresAt.IsZero() {
		t.ExpiresAt = r.ExpiresAt.UTC()
	}
	return t, nil
}

// key returns the primary key of the task with the given id.
func key(id string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{AttrID: &types.AttributeValueMemberS{Value: id}}
}

// Store is a task.Store on a DynamoDB table laid out as the package
// documentation describes.
type Store struct {
	client Client
	table  string
}

var _ task.Store = (*Store)(nil)

// New returns a Store on the named table.
func New(client Client, table string) *Store {
	return &Store{client: client, table: table}
}

// Create implements task.Store. The SDK retries a PutItem whose answer was
// lost; if the first attempt had landed, the retry finds the very item it
// writes, which is a success, not ErrExists.
func (s *Store) Create(ctx context.Context, t task.Task) error {
	it, err := encode(t)
	if err != nil {
		return err
	}
	in, err := s.put(it, expression.AttributeNotExists(expression.Name(AttrID)))
	if err != nil {
		return fmt.Errorf("create task %s: %w", t.ID, err)
	}
	_, err = s.client.PutItem(ctx, in)
	var ccf *types.ConditionalCheckFailedException
	switch {
	case errors.As(err, &ccf) && reflect.DeepEqual(ccf.Item, it):
		return nil
	case errors.As(err, &ccf):
		return fmt.Errorf("create task %s: %w", t.ID, task.ErrExists)
	case err != nil:
		return fmt.Errorf("create task %s: %w", t.ID, err)
	}
	return nil
}

// Get implements task.Store. The read is strongly consistent.
func (s *Store) Get(ctx context.Context, id string) (task.Task, error) {
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.table),
		Key:            key(id),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return task.Task{}, fmt.Errorf("get task %s: %w", id, err)
	}
	if len(out.Item) == 0 {
		return task.Task{}, fmt.Errorf("get task %s: %w", id, task.ErrNotFound)
	}
	t, err := decode(out.Item)
	if err != nil {
		return task.Task{}, fmt.Errorf("get task %s: decode item: %w: %w", id, task.ErrDamaged, err)
	}
	return t, nil
}

// Start implements task.Store.
func (s *Store) Start(ctx context.Context, id string, at time.Time) (task.Task, error) {
	u, err := changes(task.Task{Status: task.StatusStarted, StartedAt: at}, AttrStatus, "started_at")
	if err != nil {
		return task.Task{}, fmt.Errorf("start task %s: %w", id, err)
	}
	out, err := s.transition(ctx, id, u.Add(expression.Name("attempts"), expression.Value(1)))
	if err != nil {
		return task.Task{}, s.conditionError("start", id, err)
	}
	t, err := decode(out.Attributes)
	if err != nil {
		return task.Task{}, fmt.Errorf("start task %s: decode item: %w: %w", id, task.ErrDamaged, err)
	}
	return t, nil
}

// Finish implements task.Store. It writes the fields task.Apply writes.
func (s *Store) Finish(ctx context.Context, id string, out task.Outcome) error {
	if !out.Status.Final() {
		return fmt.Errorf("finish task %s: outcome status %s is not final", id, task.Excerpt(string(out.Status)))
	}
	u, err := changes(task.Apply(task.Task{}, out), AttrStatus, "is_prime", "error", "finished_at", AttrExpiresAt)
	if err != nil {
		return fmt.Errorf("finish task %s: %w", id, err)
	}
	if _, err := s.transition(ctx, id, u); err != nil {
		return s.conditionError("finish", id, err)
	}
	return nil
}

// Abandon implements task.Store. It replaces the whole item with PutItem,
// the one write the submit function is allowed.
func (s *Store) Abandon(ctx context.Context, t task.Task) error {
	it, err := encode(t)
	if err != nil {
		return err
	}
	in, err := s.put(it, expression.Name(AttrStatus).Equal(expression.Value(task.StatusPending)))
	if err != nil {
		return fmt.Errorf("abandon task %s: %w", t.ID, err)
	}
	if _, err := s.client.PutItem(ctx, in); err != nil {
		return s.conditionError("abandon", t.ID, err)
	}
	return nil
}

// put returns the PutItem request that writes it if cond holds, returning
// the item as it was if cond fails.
func (s *Store) put(it map[string]types.AttributeValue, cond expression.ConditionBuilder) (*dynamodb.PutItemInput, error) {
	expr, err := expression.NewBuilder().WithCondition(cond).Build()
	if err != nil {
		return nil, err
	}
	return &dynamodb.PutItemInput{
		TableName:                           aws.String(s.table),
		Item:                                it,
		ConditionExpression:                 expr.Condition(),
		ExpressionAttributeNames:            expr.Names(),
		ExpressionAttributeValues:           expr.Values(),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}, nil
}

// changes returns the update that gives the named attributes their values in
// the item of t, and removes those the item of t does not have.
func changes(t task.Task, attrs ...string) (expression.UpdateBuilder, error) {
	it, err := encode(t)
	var u expression.UpdateBuilder
	for _, a := range attrs {
		if v, ok := it[a]; ok {
			u = u.Set(expression.Name(a), expression.Value(v))
		} else {
			u = u.Remove(expression.Name(a))
		}
	}
	return u, err
}

// transition applies u to the task id if it exists and is not final,
// returning the item as written, or as it was if the condition fails.
func (s *Store) transition(ctx context.Context, id string, u expression.UpdateBuilder) (*dynamodb.UpdateItemOutput, error) {
	return s.update(ctx, id, u, expression.Name(AttrStatus).In(expression.Value(task.StatusPending), expression.Value(task.StatusStarted)))
}

// update applies u to the task id if it exists and cond holds, returning
// the item as written, or as it was if the condition fails.
func (s *Store) update(ctx context.Context, id string, u expression.UpdateBuilder, cond expression.ConditionBuilder) (*dynamodb.UpdateItemOutput, error) {
	expr, err := expression.NewBuilder().WithUpdate(u).WithCondition(expression.AttributeExists(expression.Name(AttrID)).And(cond)).Build()
	if err != nil {
		return nil, err
	}
	return s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                           aws.String(s.table),
		Key:                                 key(id),
		UpdateExpression:                    expr.Update(),
		ConditionExpression:                 expr.Condition(),
		ExpressionAttributeNames:            expr.Names(),
		ExpressionAttributeValues:           expr.Values(),
		ReturnValues:                        types.ReturnValueAllNew,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
}

// conditionError wraps the error of a conditional write of the task id. A
// failed condition whose request asked for ALL_OLD tells a missing task
// (no item returned: ErrNotFound) from one in a state the write may not
// leave (ErrConflict).
func (s *Store) conditionError(op, id string, err error) error {
	var ccf *types.ConditionalCheckFailedException
	if !errors.As(err, &ccf) {
		return fmt.Errorf("%s task %s: %w", op, id, err)
	}
	if len(ccf.Item) == 0 {
		return fmt.Errorf("%s task %s: %w", op, id, task.ErrNotFound)
	}
	var status task.Status
	if attributevalue.Unmarshal(ccf.Item[AttrStatus], &status) != nil || status == "" {
		status = "unknown"
	} else if !status.Valid() {
		status = task.Status(task.Excerpt(string(status)))
	}
	return fmt.Errorf("%s task %s in state %s: %w", op, id, status, task.ErrConflict)
}
