package dynamo

import (
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/asyncprime/asyncprime/internal/task"
)

// Attribute names of a task item; see the package documentation.
const (
	AttrID         = "task_id"
	AttrStatus     = "status"
	AttrNumber     = "number"
	AttrIsPrime    = "is_prime"
	AttrError      = "error"
	AttrAttempts   = "attempts"
	AttrCreatedAt  = "created_at"
	AttrStartedAt  = "started_at"
	AttrFinishedAt = "finished_at"
	AttrExpiresAt  = "expires_at"
)

// timeLayout is how the *_at attributes other than expires_at are kept.
const timeLayout = time.RFC3339Nano

type item = map[string]types.AttributeValue

func avS(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }
func avN(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}
func avBool(b bool) types.AttributeValue        { return &types.AttributeValueMemberBOOL{Value: b} }
func avTime(t time.Time) types.AttributeValue   { return avS(t.UTC().Format(timeLayout)) }
func avExpiry(t time.Time) types.AttributeValue { return avN(t.Unix()) }

// key returns the primary key of the task with the given id.
func key(id string) item { return item{AttrID: avS(id)} }

// encode returns the item for t.
func encode(t task.Task) item {
	it := item{
		AttrID:       avS(t.ID),
		AttrStatus:   avS(string(t.Status)),
		AttrNumber:   avS(string(t.Number)),
		AttrAttempts: avN(int64(t.Attempts)),
	}
	switch t.Status {
	case task.StatusSuccess:
		it[AttrIsPrime] = avBool(t.IsPrime)
	case task.StatusFailure:
		if t.Error != "" {
			it[AttrError] = avS(t.Error)
		}
	}
	for name, v := range map[string]time.Time{
		AttrCreatedAt:  t.CreatedAt,
		AttrStartedAt:  t.StartedAt,
		AttrFinishedAt: t.FinishedAt,
	} {
		if !v.IsZero() {
			it[name] = avTime(v)
		}
	}
	if !t.ExpiresAt.IsZero() {
		it[AttrExpiresAt] = avExpiry(t.ExpiresAt)
	}
	return it
}

// decode returns the task an item holds. It rejects items that do not follow
// the layout rather than guess.
func decode(it item) (task.Task, error) {
	var (
		t   task.Task
		err error
	)
	if t.ID, err = getS(it, AttrID, true); err != nil {
		return task.Task{}, err
	}
	status, err := getS(it, AttrStatus, true)
	if err != nil {
		return task.Task{}, err
	}
	t.Status = task.Status(status)
	if !t.Status.Valid() {
		return task.Task{}, fmt.Errorf("attribute %s: unknown status %s", AttrStatus, task.Excerpt(status))
	}
	number, err := getS(it, AttrNumber, true)
	if err != nil {
		return task.Task{}, err
	}
	t.Number = task.Number(number)
	if v, ok := it[AttrIsPrime]; ok {
		b, ok := v.(*types.AttributeValueMemberBOOL)
		if !ok {
			return task.Task{}, fmt.Errorf("attribute %s: want BOOL, got %s", AttrIsPrime, typeName(v))
		}
		t.IsPrime = b.Value
	}
	if t.Error, err = getS(it, AttrError, false); err != nil {
		return task.Task{}, err
	}
	attempts, err := getN(it, AttrAttempts)
	if err != nil {
		return task.Task{}, err
	}
	t.Attempts = int(attempts)
	for _, f := range []struct {
		name string
		dst  *time.Time
	}{
		{AttrCreatedAt, &t.CreatedAt},
		{AttrStartedAt, &t.StartedAt},
		{AttrFinishedAt, &t.FinishedAt},
	} {
		s, err := getS(it, f.name, false)
		if err != nil {
			return task.Task{}, err
		}
		if s == "" {
			continue
		}
		if *f.dst, err = time.Parse(timeLayout, s); err != nil {
			return task.Task{}, fmt.Errorf("attribute %s: %w", f.name, err)
		}
	}
	if _, ok := it[AttrExpiresAt]; ok {
		sec, err := getN(it, AttrExpiresAt)
		if err != nil {
			return task.Task{}, err
		}
		t.ExpiresAt = time.Unix(sec, 0).UTC()
	}
	return t, nil
}

// getS returns a string attribute; "" if it is absent and not required.
func getS(it item, name string, required bool) (string, error) {
	v, ok := it[name]
	if !ok {
		if required {
			return "", fmt.Errorf("attribute %s is missing", name)
		}
		return "", nil
	}
	s, ok := v.(*types.AttributeValueMemberS)
	if !ok {
		return "", fmt.Errorf("attribute %s: want S, got %s", name, typeName(v))
	}
	return s.Value, nil
}

// getN returns an integer attribute; 0 if it is absent.
func getN(it item, name string) (int64, error) {
	v, ok := it[name]
	if !ok {
		return 0, nil
	}
	n, ok := v.(*types.AttributeValueMemberN)
	if !ok {
		return 0, fmt.Errorf("attribute %s: want N, got %s", name, typeName(v))
	}
	i, err := strconv.ParseInt(n.Value, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("attribute %s: %w", name, err)
	}
	return i, nil
}

// typeName names an attribute value's DynamoDB type, for error messages.
func typeName(v types.AttributeValue) string {
	switch v.(type) {
	case *types.AttributeValueMemberS:
		return "S"
	case *types.AttributeValueMemberN:
		return "N"
	case *types.AttributeValueMemberB:
		return "B"
	case *types.AttributeValueMemberBOOL:
		return "BOOL"
	case *types.AttributeValueMemberNULL:
		return "NULL"
	case *types.AttributeValueMemberM:
		return "M"
	case *types.AttributeValueMemberL:
		return "L"
	case *types.AttributeValueMemberSS:
		return "SS"
	case *types.AttributeValueMemberNS:
		return "NS"
	case *types.AttributeValueMemberBS:
		return "BS"
	default:
		return fmt.Sprintf("%T", v)
	}
}
