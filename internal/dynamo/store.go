package dynamo

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
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
	BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
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

// New returns a Store on the named table. Its errors wrap
// task.ErrMissingResource when the table does not exist.
func New(client Client, table string) *Store {
	return &Store{client: tableClient{c: client, table: table}, table: table}
}

// Create implements task.Store.
func (s *Store) Create(ctx context.Context, t task.Task) error {
	it, err := encode(t)
	if err != nil {
		return err
	}
	return s.create(ctx, "task "+t.ID, it)
}

// create writes the new item it, if no item has its key. The SDK retries
// a PutItem whose answer was lost; if the first attempt had landed, the
// retry finds the very item it writes, which is a success, not ErrExists.
func (s *Store) create(ctx context.Context, what string, it map[string]types.AttributeValue) error {
	in, err := s.put(it, expression.AttributeNotExists(expression.Name(AttrID)))
	if err != nil {
		return fmt.Errorf("create %s: %w", what, err)
	}
	_, err = s.client.PutItem(ctx, in)
	var ccf *types.ConditionalCheckFailedException
	switch {
	case errors.As(err, &ccf) && reflect.DeepEqual(ccf.Item, it):
		return nil
	case errors.As(err, &ccf):
		return fmt.Errorf("create %s: %w", what, task.ErrExists)
	case err != nil:
		return fmt.Errorf("create %s: %w", what, err)
	}
	return nil
}

// Get implements task.Store. The read is strongly consistent: a GetItem
// of the task's item, or for a batch member a BatchGetItem of its own item
// and its batch item (getMember).
func (s *Store) Get(ctx context.Context, id string) (task.Task, error) {
	if bk, index, ok := batchKey(id); ok {
		return s.getMember(ctx, id, bk, index)
	}
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
	return decodeTask(id, out.Item)
}

// decodeTask decodes the item of the task id as read.
func decodeTask(id string, it map[string]types.AttributeValue) (task.Task, error) {
	t, err := decode(it)
	if err != nil {
		return task.Task{}, fmt.Errorf("get task %s: decode item: %w: %w", id, task.ErrDamaged, err)
	}
	return t, nil
}

// Start implements task.Store. A batch member's number comes from its
// batch item (own), and is copied into its own item with the write.
func (s *Store) Start(ctx context.Context, id string, at time.Time) (task.Task, error) {
	u, err := changes(task.Task{Status: task.StatusStarted, StartedAt: at}, "started_at")
	if err != nil {
		return task.Task{}, fmt.Errorf("start task %s: %w", id, err)
	}
	u, upsert, err := s.own(ctx, id, u.Add(expression.Name("attempts"), expression.Value(1)), inherited...)
	if err != nil {
		return task.Task{}, fmt.Errorf("start task %s: %w", id, err)
	}
	out, err := s.write(ctx, id, upsert, u, task.StatusStarted, task.StatusPending, task.StatusStarted)
	if err != nil {
		return task.Task{}, s.conditionError("start", id, upsert, err)
	}
	t, err := decode(out.Attributes)
	if err != nil {
		return task.Task{}, fmt.Errorf("start task %s: decode item: %w: %w", id, task.ErrDamaged, err)
	}
	return t, nil
}

// Finish implements task.Store. It writes the fields task.Apply writes,
// with no read: for a batch member, an upsert of its own item, which
// takes its number from the batch item when read.
func (s *Store) Finish(ctx context.Context, id string, out task.Outcome) error {
	if !out.Status.Final() {
		return fmt.Errorf("finish task %s: outcome status %s is not final", id, task.Excerpt(string(out.Status)))
	}
	u, err := changes(task.Apply(task.Task{}, out), "is_prime", "error", "finished_at", AttrExpiresAt)
	if err != nil {
		return fmt.Errorf("finish task %s: %w", id, err)
	}
	_, _, member := task.BatchOf(id)
	if _, err := s.write(ctx, id, member, u, out.Status, task.StatusPending, task.StatusStarted); err != nil {
		return s.conditionError("finish", id, member, err)
	}
	return nil
}

// Abandon implements task.Store. It replaces the whole item with PutItem,
// the one write the submit function is allowed; a task with no item yet
// (a batch member, or a create still on its way) gets t as its item.
func (s *Store) Abandon(ctx context.Context, t task.Task) error {
	it, err := encode(t)
	if err != nil {
		return err
	}
	// An upsert: a create that lands later finds the tombstone
	// (ErrExists), and a batch member's item overrides its batch item.
	in, err := s.put(it, condition(true, task.StatusPending))
	if err != nil {
		return fmt.Errorf("abandon task %s: %w", t.ID, err)
	}
	if _, err := s.client.PutItem(ctx, in); err != nil {
		return s.conditionError("abandon", t.ID, true, err)
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

// condition is the condition of a write to a task whose status is one of
// from. A task with an item of its own must exist. A batch member may
// have no item yet (upsert): its batch item holds it, PENDING, so a
// missing item meets the condition if PENDING is among from, and the
// write creates the item.
func condition(upsert bool, from ...task.Status) expression.ConditionBuilder {
	in := make([]expression.OperandBuilder, len(from))
	for i, st := range from {
		in[i] = expression.Value(st)
	}
	status := expression.Name(AttrStatus).Equal(in[0])
	if len(in) > 1 {
		status = expression.Name(AttrStatus).In(in[0], in[1:]...)
	}
	switch {
	case !upsert:
		return expression.AttributeExists(expression.Name(AttrID)).And(status)
	case slices.Contains(from, task.StatusPending):
		return expression.AttributeNotExists(expression.Name(AttrID)).Or(status)
	}
	return status
}

// write applies u to the task id and moves it to status to, if its status
// is one of from (see condition), returning the item as written, or as it
// was if the condition fails. The status is the update's last action:
// DynamoDB applies an update at once, but moto applies its actions one by
// one while other requests read the item, and a reader must not see the
// new status before the rest of the write (SUCCESS without its answer).
func (s *Store) write(ctx context.Context, id string, upsert bool, u expression.UpdateBuilder, to task.Status, from ...task.Status) (*dynamodb.UpdateItemOutput, error) {
	u = u.Set(expression.Name(AttrStatus), expression.Value(to))
	expr, err := expression.NewBuilder().WithUpdate(u).WithCondition(condition(upsert, from...)).Build()
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
// leave (ErrConflict). With upsert, no item means a batch member that its
// batch item holds, PENDING.
func (s *Store) conditionError(op, id string, upsert bool, err error) error {
	var ccf *types.ConditionalCheckFailedException
	switch {
	case !errors.As(err, &ccf):
		return fmt.Errorf("%s task %s: %w", op, id, err)
	case len(ccf.Item) == 0 && upsert:
		return fmt.Errorf("%s task %s in state %s: %w", op, id, task.StatusPending, task.ErrConflict)
	case len(ccf.Item) == 0:
		return fmt.Errorf("%s task %s: %w", op, id, task.ErrNotFound)
	}
	st := statusOf(ccf.Item)
	if st.Final() {
		return fmt.Errorf("%s: %w", op, &task.FinalError{ID: id, Status: st})
	}
	return fmt.Errorf("%s task %s in state %s: %w", op, id, st, task.ErrConflict)
}

// statusOf returns the status an item holds, excerpted if unknown.
func statusOf(it map[string]types.AttributeValue) task.Status {
	var status task.Status
	if attributevalue.Unmarshal(it[AttrStatus], &status) != nil || status == "" {
		return "unknown"
	} else if !status.Valid() {
		return task.Status(task.Excerpt(string(status)))
	}
	return status
}
