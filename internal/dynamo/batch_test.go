package dynamo_test

import (
	"context"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/asyncprime/asyncprime/internal/dynamo"
	"github.com/asyncprime/asyncprime/internal/task"
)

// countingClient counts the calls made through it, by API name.
type countingClient struct {
	dynamo.Client
	mu    sync.Mutex
	calls map[string]int
}

func (c *countingClient) note(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls[name]++
}

// take returns the calls so far and starts counting afresh.
func (c *countingClient) take() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.calls
	c.calls = map[string]int{}
	return out
}

func (c *countingClient) PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	c.note("PutItem")
	return c.Client.PutItem(ctx, in, opts...)
}

func (c *countingClient) GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	c.note("GetItem")
	return c.Client.GetItem(ctx, in, opts...)
}

func (c *countingClient) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	c.note("BatchGetItem")
	return c.Client.BatchGetItem(ctx, in, opts...)
}

func (c *countingClient) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	c.note("UpdateItem")
	return c.Client.UpdateItem(ctx, in, opts...)
}

func (c *countingClient) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	c.note("TransactWriteItems")
	return c.Client.TransactWriteItems(ctx, in, opts...)
}

// TestBatchItemLayout checks that a batch is one item until its tasks'
// first writes, and the calls each operation on a member makes: one
// PutItem for the batch, a blind UpdateItem to finish a member, a
// BatchGetItem to read one, a GetItem of the batch item before the
// UpdateItem that starts one.
func TestBatchItemLayout(t *testing.T) {
	t.Parallel()
	client, table := newTable(t)
	c := &countingClient{Client: client, calls: map[string]int{}}
	s := dynamo.New(c, table)
	t0 := time.Date(2026, 11, 24, 12, 0, 0, 123456789, time.UTC)
	ids := task.NewBatchIDs(3)
	numbers := []task.Number{"11", "170141183460469231731687303715884105727", "13"}
	ts := make([]task.Task, len(ids))
	for i, id := range ids {
		ts[i] = task.Task{ID: id, Status: task.StatusPending, Number: numbers[i], CreatedAt: t0, ExpiresAt: t0.Add(24 * time.Hour)}
	}
	item := func(id string) map[string]types.AttributeValue {
		t.Helper()
		out, err := client.GetItem(t.Context(), &dynamodb.GetItemInput{TableName: aws.String(table), Key: map[string]types.AttributeValue{"task_id": &types.AttributeValueMemberS{Value: id}}})
		if err != nil {
			t.Fatal(err)
		}
		return out.Item
	}
	calls := func(step string, want map[string]int) {
		t.Helper()
		if got := c.take(); !maps.Equal(got, want) {
			t.Errorf("%s made the calls %v; want %v", step, got, want)
		}
	}

	if err := s.CreateBatch(t.Context(), ts); err != nil {
		t.Fatalf("CreateBatch = %v; want nil", err)
	}
	calls("CreateBatch", map[string]int{"PutItem": 1})
	batchID := dynamo.BatchPrefix + ids[0][:task.BatchNameLen]
	got := item(batchID)
	want := map[string]string{
		"task_id":         "S:" + batchID,
		"created_at":      "S:2026-11-24T12:00:00.123456789Z",
		"task_expires_at": "N:1795608000", // 24 h after created_at, for the tasks
		"expires_at":      "N:1795694400", // 24 h later, for the batch item (TTL)
		"numbers":         "other",
	}
	if len(got) != len(want) {
		t.Errorf("batch item has attributes %v; want %v", slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(want)))
	}
	for k, w := range want {
		if g := show(got[k]); g != w {
			t.Errorf("batch item attribute %s = %s; want %s", k, g, w)
		}
	}
	if l, ok := got["numbers"].(*types.AttributeValueMemberL); !ok || len(l.Value) != 3 || show(l.Value[1]) != "S:"+string(numbers[1]) {
		t.Errorf("batch item numbers = %#v; want the list of the 3 numbers as strings, in order", got["numbers"])
	}
	for _, id := range ids {
		if it := item(id); it != nil {
			t.Errorf("task %s has an item of its own before any write: %v", id, slices.Sorted(maps.Keys(it)))
		}
	}
	c.take()

	if _, err := s.Get(t.Context(), ids[0]); err != nil {
		t.Fatalf("Get = %v", err)
	}
	calls("Get of a member", map[string]int{"BatchGetItem": 1})

	out := task.Outcome{Status: task.StatusSuccess, IsPrime: true, FinishedAt: t0.Add(time.Second), ExpiresAt: t0.Add(25 * time.Hour)}
	if err := s.Finish(t.Context(), ids[0], out); err != nil {
		t.Fatalf("Finish = %v", err)
	}
	calls("Finish of a member", map[string]int{"UpdateItem": 1})
	if it := item(ids[0]); it["number"] != nil || show(it["status"]) != "S:SUCCESS" {
		t.Errorf("finished member's item: number %s, status %s; want no number (its batch item has it), SUCCESS", show(it["number"]), show(it["status"]))
	}

	if st, err := s.Start(t.Context(), ids[1], t0.Add(time.Second)); err != nil || st.Number != numbers[1] {
		t.Fatalf("Start = %v, %v; want the task with its number", st.Number, err)
	}
	calls("Start of a member", map[string]int{"GetItem": 1, "UpdateItem": 1})
	if it := item(ids[1]); show(it["number"]) != "S:"+string(numbers[1]) || show(it["expires_at"]) != "N:1795608000" {
		t.Errorf("started member's item: number %s, expires_at %s; want its own copy of both", show(it["number"]), show(it["expires_at"]))
	}

	// A single task's writes and reads are as before.
	single := task.Task{ID: task.NewID(), Status: task.StatusPending, Number: "7", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
	if err := s.CreateBatch(t.Context(), []task.Task{single}); err != nil {
		t.Fatal(err)
	}
	calls("CreateBatch of tasks of no batch", map[string]int{"TransactWriteItems": 1})
	if _, err := s.Get(t.Context(), single.ID); err != nil {
		t.Fatal(err)
	}
	calls("Get of a single task", map[string]int{"GetItem": 1})
}
