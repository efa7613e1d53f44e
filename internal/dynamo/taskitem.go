package dynamo

import (
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/asyncprime/asyncprime/internal/task"
)

// taskItem is a task item as the package documentation lays it out, for
// attributevalue: the batch, revoke and idempotency writes use it.
type taskItem struct {
	ID         string `dynamodbav:"task_id"`
	Status     string `dynamodbav:"status"`
	Number     string `dynamodbav:"number"`
	IsPrime    *bool  `dynamodbav:"is_prime,omitempty"`
	Error      string `dynamodbav:"error,omitempty"`
	Attempts   int    `dynamodbav:"attempts"`
	CreatedAt  string `dynamodbav:"created_at,omitempty"`
	StartedAt  string `dynamodbav:"started_at,omitempty"`
	FinishedAt string `dynamodbav:"finished_at,omitempty"`
	ExpiresAt  int64  `dynamodbav:"expires_at,omitempty"`
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func parseTime(attr, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("attribute %s: %w", attr, err)
	}
	return t, nil
}

func toItem(t task.Task) taskItem {
	it := taskItem{
		ID: t.ID, Status: string(t.Status), Number: string(t.Number), Attempts: t.Attempts,
		CreatedAt: formatTime(t.CreatedAt), StartedAt: formatTime(t.StartedAt), FinishedAt: formatTime(t.FinishedAt),
	}
	switch t.Status {
	case task.StatusSuccess:
		it.IsPrime = &t.IsPrime
	case task.StatusFailure:
		it.Error = t.Error
	}
	if !t.ExpiresAt.IsZero() {
		it.ExpiresAt = t.ExpiresAt.Unix()
	}
	return it
}

func (it taskItem) task() (task.Task, error) {
	t := task.Task{
		ID: it.ID, Status: task.Status(it.Status), Number: task.Number(it.Number), Error: it.Error, Attempts: it.Attempts,
	}
	if !t.Status.Valid() {
		return task.Task{}, fmt.Errorf("attribute %s: unknown status %s", AttrStatus, task.Excerpt(it.Status))
	}
	if it.IsPrime != nil {
		t.IsPrime = *it.IsPrime
	}
	var err error
	if t.CreatedAt, err = parseTime(AttrCreatedAt, it.CreatedAt); err != nil {
		return task.Task{}, err
	}
	if t.StartedAt, err = parseTime(AttrStartedAt, it.StartedAt); err != nil {
		return task.Task{}, err
	}
	if t.FinishedAt, err = parseTime(AttrFinishedAt, it.FinishedAt); err != nil {
		return task.Task{}, err
	}
	if it.ExpiresAt != 0 {
		t.ExpiresAt = time.Unix(it.ExpiresAt, 0).UTC()
	}
	return t, nil
}

// unmarshalTask decodes a task item with attributevalue.
func unmarshalTask(m map[string]types.AttributeValue) (task.Task, error) {
	var it taskItem
	if err := attributevalue.UnmarshalMap(m, &it); err != nil {
		return task.Task{}, fmt.Errorf("decode item: %w", err)
	}
	return it.task()
}
