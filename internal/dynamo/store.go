package dynamo

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
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
}

var _ Client = (*dynamodb.Client)(nil)

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
	it := encode(t)
	_, err := s.client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                           aws.String(s.table),
		Item:                                it,
		ConditionExpression:                 aws.String("attribute_not_exists(#id)"),
		ExpressionAttributeNames:            map[string]string{"#id": AttrID},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	var ccf *types.ConditionalCheckFailedException
	switch {
	case errors.As(err, &ccf) && sameItem(ccf.Item, it):
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
	var u update
	u.set(AttrStatus, avS(string(task.StatusStarted)))
	u.setTime(AttrStartedAt, at, avTime)
	u.sets = append(u.sets, fmt.Sprintf("%s = if_not_exists(%s, %s) + %s",
		u.name(AttrAttempts), u.name(AttrAttempts), u.value("zero", avN(0)), u.value("one", avN(1))))
	out, err := s.client.UpdateItem(ctx, s.transition(id, &u))
	if err != nil {
		return task.Task{}, s.conditionError("start", id, err)
	}
	t, err := decode(out.Attributes)
	if err != nil {
		return task.Task{}, fmt.Errorf("start task %s: decode item: %w: %w", id, task.ErrDamaged, err)
	}
	return t, nil
}

// Finish implements task.Store.
func (s *Store) Finish(ctx context.Context, id string, out task.Outcome) error {
	if !out.Status.Final() {
		return fmt.Errorf("finish task %s: outcome status %s is not final", id, task.Excerpt(string(out.Status)))
	}
	// The same fields as task.Apply writes.
	var u update
	u.set(AttrStatus, avS(string(out.Status)))
	if out.Status == task.StatusSuccess {
		u.set(AttrIsPrime, avBool(out.IsPrime))
		u.remove(AttrError)
	} else {
		if out.Error != "" {
			u.set(AttrError, avS(out.Error))
		} else {
			u.remove(AttrError)
		}
		u.remove(AttrIsPrime)
	}
	u.setTime(AttrFinishedAt, out.FinishedAt, avTime)
	u.setTime(AttrExpiresAt, out.ExpiresAt, avExpiry)
	if _, err := s.client.UpdateItem(ctx, s.transition(id, &u)); err != nil {
		return s.conditionError("finish", id, err)
	}
	return nil
}

// Abandon implements task.Store. It replaces the whole item with PutItem,
// the one write the submit function is allowed.
func (s *Store) Abandon(ctx context.Context, t task.Task) error {
	_, err := s.client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                           aws.String(s.table),
		Item:                                encode(t),
		ConditionExpression:                 aws.String("#status = :pending"),
		ExpressionAttributeNames:            map[string]string{"#status": AttrStatus},
		ExpressionAttributeValues:           item{":pending": avS(string(task.StatusPending))},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if err != nil {
		return s.conditionError("abandon", t.ID, err)
	}
	return nil
}

// transition returns the UpdateItem request that applies u to a task that
// exists and is not final, returning the item as written, or as it was if
// the condition fails.
func (s *Store) transition(id string, u *update) *dynamodb.UpdateItemInput {
	cond := fmt.Sprintf("attribute_exists(%s) AND %s IN (%s, %s)",
		u.name(AttrID), u.name(AttrStatus),
		u.value("pending", avS(string(task.StatusPending))), u.value("started", avS(string(task.StatusStarted))))
	return &dynamodb.UpdateItemInput{
		TableName:                           aws.String(s.table),
		Key:                                 key(id),
		UpdateExpression:                    aws.String(u.expression()),
		ConditionExpression:                 aws.String(cond),
		ExpressionAttributeNames:            u.names,
		ExpressionAttributeValues:           u.values,
		ReturnValues:                        types.ReturnValueAllNew,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}
}

// sameItem reports whether the stored item a is the item b that Create
// writes: same attributes, same string, number and boolean values.
func sameItem(a, b item) bool {
	if len(a) != len(b) {
		return false
	}
	for k, bv := range b {
		av, ok := a[k]
		if !ok {
			return false
		}
		switch bv := bv.(type) {
		case *types.AttributeValueMemberS:
			if av, ok := av.(*types.AttributeValueMemberS); !ok || av.Value != bv.Value {
				return false
			}
		case *types.AttributeValueMemberN:
			if av, ok := av.(*types.AttributeValueMemberN); !ok || av.Value != bv.Value {
				return false
			}
		case *types.AttributeValueMemberBOOL:
			if av, ok := av.(*types.AttributeValueMemberBOOL); !ok || av.Value != bv.Value {
				return false
			}
		default:
			return false
		}
	}
	return true
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
	status := "unknown"
	if v, ok := ccf.Item[AttrStatus].(*types.AttributeValueMemberS); ok {
		status = v.Value
		if !task.Status(status).Valid() {
			status = task.Excerpt(status)
		}
	}
	return fmt.Errorf("%s task %s in state %s: %w", op, id, status, task.ErrConflict)
}

// update builds an update expression with a placeholder for every name and
// value, so that reserved words such as status, number and error need no
// special care, and only the placeholders used are sent (DynamoDB rejects
// unused ones).
type update struct {
	sets, removes []string
	names         map[string]string
	values        item
}

func (u *update) name(attr string) string {
	if u.names == nil {
		u.names = make(map[string]string)
	}
	p := "#" + attr
	u.names[p] = attr
	return p
}

func (u *update) value(key string, v types.AttributeValue) string {
	if u.values == nil {
		u.values = make(item)
	}
	p := ":" + key
	u.values[p] = v
	return p
}

func (u *update) set(attr string, v types.AttributeValue) {
	u.sets = append(u.sets, u.name(attr)+" = "+u.value(attr, v))
}

func (u *update) remove(attr string) { u.removes = append(u.removes, u.name(attr)) }

// setTime sets attr to t, or removes it if t is zero.
func (u *update) setTime(attr string, t time.Time, av func(time.Time) types.AttributeValue) {
	if t.IsZero() {
		u.remove(attr)
		return
	}
	u.set(attr, av(t))
}

func (u *update) expression() string {
	var b strings.Builder
	if len(u.sets) > 0 {
		b.WriteString("SET ")
		b.WriteString(strings.Join(u.sets, ", "))
	}
	if len(u.removes) > 0 {
		if b.Len() > 0 {
			b.WriteString(" ")
		}
		b.WriteString("REMOVE ")
		b.WriteString(strings.Join(u.removes, ", "))
	}
	return b.String()
}
