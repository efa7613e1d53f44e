package dynamo_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/asyncprime/asyncprime/internal/dynamo"
	"github.com/asyncprime/asyncprime/internal/task"
)

// fakeClient is a dynamo.Client whose calls are the Func fields; a call
// without one panics through the nil embedded interface.
type fakeClient struct {
	dynamo.Client
	PutItemFunc    func(*dynamodb.PutItemInput) (*dynamodb.PutItemOutput, error)
	GetItemFunc    func(*dynamodb.GetItemInput) (*dynamodb.GetItemOutput, error)
	UpdateItemFunc func(*dynamodb.UpdateItemInput) (*dynamodb.UpdateItemOutput, error)
	// BatchGetItemFunc has no fallback: the embedded client is nil in the
	// tests that set it.
	BatchGetItemFunc func(*dynamodb.BatchGetItemInput) (*dynamodb.BatchGetItemOutput, error)
}

func (f *fakeClient) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	if f.BatchGetItemFunc == nil {
		return f.Client.BatchGetItem(ctx, in, opts...)
	}
	return f.BatchGetItemFunc(in)
}

func (f *fakeClient) PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	if f.PutItemFunc == nil {
		return f.Client.PutItem(ctx, in, opts...)
	}
	return f.PutItemFunc(in)
}

func (f *fakeClient) GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	if f.GetItemFunc == nil {
		return f.Client.GetItem(ctx, in, opts...)
	}
	return f.GetItemFunc(in)
}

func (f *fakeClient) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	if f.UpdateItemFunc == nil {
		return f.Client.UpdateItem(ctx, in, opts...)
	}
	return f.UpdateItemFunc(in)
}

// Errors as the SDK returns them.
var (
	errThrottled = &types.ProvisionedThroughputExceededException{Message: aws.String("slow down")}
	// A failed condition on a missing item: ALL_OLD returns no item.
	errNoItem = &types.ConditionalCheckFailedException{Message: aws.String("The conditional request failed")}
)

// errFinal is a failed condition on an item in the given state.
func errFinal(status task.Status) error {
	return &types.ConditionalCheckFailedException{
		Message: aws.String("The conditional request failed"),
		Item: map[string]types.AttributeValue{
			"task_id": &types.AttributeValueMemberS{Value: "x"},
			"status":  &types.AttributeValueMemberS{Value: string(status)},
		},
	}
}

func TestErrorMapping(t *testing.T) {
	t.Parallel()
	id := task.NewID()
	final := task.Task{ID: id, Status: task.StatusFailure, Number: "11"}
	out := task.Outcome{Status: task.StatusSuccess, IsPrime: true, FinishedAt: time.Now(), ExpiresAt: time.Now()}
	put := func(err error) *fakeClient {
		return &fakeClient{PutItemFunc: func(*dynamodb.PutItemInput) (*dynamodb.PutItemOutput, error) { return nil, err }}
	}
	update := func(err error) *fakeClient {
		return &fakeClient{UpdateItemFunc: func(*dynamodb.UpdateItemInput) (*dynamodb.UpdateItemOutput, error) { return nil, err }}
	}
	get := func(item map[string]types.AttributeValue, err error) *fakeClient {
		return &fakeClient{GetItemFunc: func(*dynamodb.GetItemInput) (*dynamodb.GetItemOutput, error) {
			if err != nil {
				return nil, err
			}
			return &dynamodb.GetItemOutput{Item: item}, nil
		}}
	}
	create := func(s *dynamo.Store) error { return s.Create(t.Context(), final) }
	start := func(s *dynamo.Store) error { _, err := s.Start(t.Context(), id, time.Now()); return err }
	finish := func(s *dynamo.Store) error { return s.Finish(t.Context(), id, out) }
	abandon := func(s *dynamo.Store) error { return s.Abandon(t.Context(), final) }
	getTask := func(s *dynamo.Store) error { _, err := s.Get(t.Context(), id); return err }

	tests := []struct {
		name    string
		client  *fakeClient
		call    func(*dynamo.Store) error
		want    error  // errors.Is target
		notWant error  // must not match
		msg     string // the message contains
	}{
		{"CreateExists", put(errNoItem), create, task.ErrExists, nil, "create task " + id},
		{"CreateExistsOther", put(errFinal(task.StatusPending)), create, task.ErrExists, nil, "create task " + id},
		{"CreateThrottled", put(errThrottled), create, errThrottled, task.ErrExists, "create task " + id},
		{"GetMissing", get(nil, nil), getTask, task.ErrNotFound, nil, "get task " + id},
		{"GetThrottled", get(nil, errThrottled), getTask, errThrottled, task.ErrNotFound, "get task " + id},
		{"GetCorrupt", get(map[string]types.AttributeValue{"task_id": &types.AttributeValueMemberS{Value: id}, "status": &types.AttributeValueMemberS{Value: "DONE"}}, nil), getTask, nil, task.ErrNotFound, "unknown status"},
		{"StartMissing", update(errNoItem), start, task.ErrNotFound, task.ErrConflict, "start task " + id},
		{"StartFinal", update(errFinal(task.StatusSuccess)), start, task.ErrConflict, task.ErrNotFound, "start: task " + id + " is already SUCCESS"},
		{"StartThrottled", update(errThrottled), start, errThrottled, task.ErrConflict, "start task " + id},
		{"FinishMissing", update(errNoItem), finish, task.ErrNotFound, task.ErrConflict, "finish task " + id},
		{"FinishFinal", update(errFinal(task.StatusFailure)), finish, task.ErrConflict, task.ErrNotFound, "finish: task " + id + " is already FAILURE"},
		{"FinishThrottled", update(errThrottled), finish, errThrottled, task.ErrConflict, "finish task " + id},
		{"AbandonStarted", put(errFinal(task.StatusStarted)), abandon, task.ErrConflict, task.ErrNotFound, "in state STARTED"},
		{"AbandonThrottled", put(errThrottled), abandon, errThrottled, task.ErrConflict, "abandon task " + id},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.call(dynamo.New(tt.client, "tasks"))
			switch {
			case err == nil:
				t.Fatal("got nil error; want one")
			case tt.want != nil && !errors.Is(err, tt.want):
				t.Errorf("got %v; want it to wrap %v", err, tt.want)
			case tt.notWant != nil && errors.Is(err, tt.notWant):
				t.Errorf("got %v; want it not to wrap %v", err, tt.notWant)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("got %q; want it to contain %q", err, tt.msg)
			}
		})
	}
}

func TestRequests(t *testing.T) {
	t.Parallel()
	id := task.NewID()
	at := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)

	t.Run("GetIsConsistent", func(t *testing.T) {
		t.Parallel()
		var got *dynamodb.GetItemInput
		s := dynamo.New(&fakeClient{GetItemFunc: func(in *dynamodb.GetItemInput) (*dynamodb.GetItemOutput, error) {
			got = in
			return &dynamodb.GetItemOutput{}, nil
		}}, "tasks")
		_, _ = s.Get(t.Context(), id)
		if got == nil || !aws.ToBool(got.ConsistentRead) || aws.ToString(got.TableName) != "tasks" {
			t.Errorf("GetItem input = %+v; want a consistent read of table tasks", got)
		}
	})

	t.Run("StartIsOneConditionalUpdate", func(t *testing.T) {
		t.Parallel()
		calls := 0
		s := dynamo.New(&fakeClient{UpdateItemFunc: func(in *dynamodb.UpdateItemInput) (*dynamodb.UpdateItemOutput, error) {
			calls++
			if in.ReturnValues != types.ReturnValueAllNew || in.ReturnValuesOnConditionCheckFailure != types.ReturnValuesOnConditionCheckFailureAllOld {
				t.Errorf("ReturnValues %q, on failure %q; want ALL_NEW and ALL_OLD", in.ReturnValues, in.ReturnValuesOnConditionCheckFailure)
			}
			if c := aws.ToString(in.ConditionExpression); !strings.Contains(c, "attribute_exists") || !strings.Contains(c, " IN ") {
				t.Errorf("ConditionExpression = %q; want attribute_exists and IN", c)
			}
			if u := named(in.UpdateExpression, in.ExpressionAttributeNames); !strings.Contains(u, "ADD attempts") {
				t.Errorf("UpdateExpression = %q; want ADD attempts", u)
			}
			if v := in.ExpressionAttributeValues; !slices.ContainsFunc(slices.Collect(maps.Values(v)), func(av types.AttributeValue) bool {
				s, ok := av.(*types.AttributeValueMemberS)
				return ok && s.Value == "2026-01-02T03:04:05.000000006Z"
			}) {
				t.Errorf("ExpressionAttributeValues = %v; want started_at in UTC", v)
			}
			return &dynamodb.UpdateItemOutput{Attributes: map[string]types.AttributeValue{
				"task_id":    &types.AttributeValueMemberS{Value: id},
				"status":     &types.AttributeValueMemberS{Value: "STARTED"},
				"number":     &types.AttributeValueMemberS{Value: "11"},
				"attempts":   &types.AttributeValueMemberN{Value: "3"},
				"started_at": &types.AttributeValueMemberS{Value: at.Format(time.RFC3339Nano)},
			}}, nil
		}}, "tasks")
		got, err := s.Start(t.Context(), id, at.In(time.FixedZone("UTC+1", 3600)))
		if err != nil {
			t.Fatalf("Start = %v; want nil", err)
		}
		if calls != 1 || got.Attempts != 3 || !got.StartedAt.Equal(at) || got.Status != task.StatusStarted {
			t.Errorf("Start = %+v after %d calls; want the returned item after 1", got, calls)
		}
	})

	t.Run("FinishSetsOneOfResultAndError", func(t *testing.T) {
		t.Parallel()
		for _, tt := range []struct {
			out        task.Outcome
			set, unset string
		}{
			{task.Outcome{Status: task.StatusSuccess, IsPrime: true, FinishedAt: at, ExpiresAt: at}, "is_prime = ", "error"},
			{task.Outcome{Status: task.StatusFailure, Error: "boom", FinishedAt: at, ExpiresAt: at}, "error = ", "is_prime"},
		} {
			var expr string
			s := dynamo.New(&fakeClient{UpdateItemFunc: func(in *dynamodb.UpdateItemInput) (*dynamodb.UpdateItemOutput, error) {
				expr = named(in.UpdateExpression, in.ExpressionAttributeNames)
				return &dynamodb.UpdateItemOutput{}, nil
			}}, "tasks")
			if err := s.Finish(t.Context(), id, tt.out); err != nil {
				t.Fatalf("Finish = %v; want nil", err)
			}
			_, remove, _ := strings.Cut(expr, "REMOVE")
			if !strings.Contains(expr, tt.set) || !strings.Contains(remove, tt.unset) {
				t.Errorf("UpdateExpression = %q; want SET %s and REMOVE %s", expr, tt.set, tt.unset)
			}
		}
	})

	// moto applies an update's actions one by one while it serves reads:
	// the status must come last, or a poll can see SUCCESS without its
	// answer (it did, in TestSAMLocalEnvironmentEndToEnd).
	t.Run("StatusIsTheLastAction", func(t *testing.T) {
		t.Parallel()
		var expr string
		s := dynamo.New(&fakeClient{UpdateItemFunc: func(in *dynamodb.UpdateItemInput) (*dynamodb.UpdateItemOutput, error) {
			expr = named(in.UpdateExpression, in.ExpressionAttributeNames)
			return &dynamodb.UpdateItemOutput{Attributes: map[string]types.AttributeValue{
				"task_id": &types.AttributeValueMemberS{Value: id},
				"status":  &types.AttributeValueMemberS{Value: "STARTED"},
				"number":  &types.AttributeValueMemberS{Value: "11"},
			}}, nil
		}}, "tasks")
		for name, write := range map[string]func() error{
			"Start": func() error { _, err := s.Start(t.Context(), id, at); return err },
			"Finish": func() error {
				return s.Finish(t.Context(), id, task.Outcome{Status: task.StatusSuccess, IsPrime: true, FinishedAt: at, ExpiresAt: at})
			},
			"Revoke": func() error { _, err := s.Revoke(t.Context(), id, at, at); return err },
			"Reopen": func() error { return s.Reopen(t.Context(), id, at) },
		} {
			if err := write(); err != nil {
				t.Fatalf("%s = %v; want nil", name, err)
			}
			clauses := strings.Split(strings.TrimSpace(expr), "\n")
			last := clauses[len(clauses)-1]
			if i := strings.LastIndex(last, ", "); !strings.HasPrefix(last, "SET ") || !strings.HasPrefix(last[i+2:], "status = ") {
				t.Errorf("%s: UpdateExpression = %q; want SET status as its last action", name, expr)
			}
		}
	})

	t.Run("FinishRefusesNonFinal", func(t *testing.T) {
		t.Parallel()
		s := dynamo.New(&fakeClient{}, "tasks")
		if err := s.Finish(t.Context(), id, task.Outcome{Status: task.StatusStarted}); err == nil {
			t.Error("Finish(STARTED) = nil; want an error")
		}
	})
}

// named returns the update expression with its name placeholders replaced by
// the names they stand for.
func named(expr *string, names map[string]string) string {
	s := aws.ToString(expr)
	// Longest placeholders first, so that #1 does not eat into #10.
	ps := slices.Collect(maps.Keys(names))
	slices.SortFunc(ps, func(a, b string) int { return len(b) - len(a) })
	for _, p := range ps {
		s = strings.ReplaceAll(s, p, names[p])
	}
	return s
}

// TestGetMemberAsksAgainForUnprocessedKeys: BatchGetItem may leave keys
// unprocessed (throttling); Get asks again for those, and reads the task
// once both items are in.
func TestGetMemberAsksAgainForUnprocessedKeys(t *testing.T) {
	t.Parallel()
	ids := task.NewBatchIDs(2)
	batchKey := dynamo.BatchPrefix + ids[0][:task.BatchNameLen]
	batchItem := map[string]types.AttributeValue{
		"task_id":         &types.AttributeValueMemberS{Value: batchKey},
		"numbers":         &types.AttributeValueMemberL{Value: []types.AttributeValue{&types.AttributeValueMemberS{Value: "11"}, &types.AttributeValueMemberS{Value: "13"}}},
		"created_at":      &types.AttributeValueMemberS{Value: "2026-11-24T12:00:00Z"},
		"task_expires_at": &types.AttributeValueMemberN{Value: "1795608000"},
		"expires_at":      &types.AttributeValueMemberN{Value: "1795694400"},
	}
	var asked [][]string
	c := &fakeClient{BatchGetItemFunc: func(in *dynamodb.BatchGetItemInput) (*dynamodb.BatchGetItemOutput, error) {
		var keys []string
		for _, k := range in.RequestItems["tasks"].Keys {
			keys = append(keys, k["task_id"].(*types.AttributeValueMemberS).Value)
		}
		asked = append(asked, keys)
		if len(asked) == 1 {
			return &dynamodb.BatchGetItemOutput{
				Responses:       map[string][]map[string]types.AttributeValue{"tasks": nil},
				UnprocessedKeys: map[string]types.KeysAndAttributes{"tasks": {Keys: []map[string]types.AttributeValue{{"task_id": &types.AttributeValueMemberS{Value: batchKey}}}, ConsistentRead: aws.Bool(true)}},
			}, nil
		}
		return &dynamodb.BatchGetItemOutput{Responses: map[string][]map[string]types.AttributeValue{"tasks": {batchItem}}}, nil
	}}
	got, err := dynamo.New(c, "tasks").Get(t.Context(), ids[1])
	if err != nil || got.Status != task.StatusPending || got.Number != "13" {
		t.Fatalf("Get = %+v, %v; want the PENDING task of 13", got, err)
	}
	if want := [][]string{{ids[1], batchKey}, {batchKey}}; fmt.Sprint(asked) != fmt.Sprint(want) {
		t.Errorf("BatchGetItem asked for %v; want %v", asked, want)
	}
}

// goneClient answers every call as DynamoDB does when the table does not
// exist.
type goneClient struct{ dynamo.Client }

var errNoTable = &types.ResourceNotFoundException{Message: aws.String("Requested resource not found")}

func (goneClient) PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	return nil, fmt.Errorf("operation error DynamoDB: PutItem: %w", errNoTable)
}

func (goneClient) GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	return nil, fmt.Errorf("operation error DynamoDB: GetItem: %w", errNoTable)
}

func (goneClient) BatchGetItem(context.Context, *dynamodb.BatchGetItemInput, ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	return nil, fmt.Errorf("operation error DynamoDB: BatchGetItem: %w", errNoTable)
}

func (goneClient) UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	return nil, fmt.Errorf("operation error DynamoDB: UpdateItem: %w", errNoTable)
}

func (goneClient) TransactWriteItems(context.Context, *dynamodb.TransactWriteItemsInput, ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	return nil, fmt.Errorf("operation error DynamoDB: TransactWriteItems: %w", errNoTable)
}

// TestMissingTable checks that every call on a table that does not exist
// fails with a *task.MissingResourceError naming it, never ErrNotFound (a
// missing task) or a transient error.
func TestMissingTable(t *testing.T) {
	t.Parallel()
	id, member := task.NewID(), task.NewBatchIDs(2)
	now := time.Now()
	pending := task.Task{ID: id, Status: task.StatusPending, Number: "11", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	failed := pending
	failed.Status, failed.Error, failed.FinishedAt = task.StatusFailure, "withdrawn", now
	batch := []task.Task{pending, pending}
	for i := range batch {
		batch[i].ID = member[i]
	}
	claim := task.Claim{Key: "k", Hash: "h", TaskIDs: []string{id}, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	out := task.Outcome{Status: task.StatusSuccess, IsPrime: true, FinishedAt: now, ExpiresAt: now.Add(time.Hour)}
	tests := []struct {
		name string
		call func(*dynamo.Store) error
	}{
		{"Create", func(s *dynamo.Store) error { return s.Create(t.Context(), pending) }},
		{"CreateBatch", func(s *dynamo.Store) error { return s.CreateBatch(t.Context(), batch) }},
		{"CreateTransaction", func(s *dynamo.Store) error { return s.CreateBatch(t.Context(), []task.Task{pending, failed}) }},
		{"Get", func(s *dynamo.Store) error { _, err := s.Get(t.Context(), id); return err }},
		{"GetMember", func(s *dynamo.Store) error { _, err := s.Get(t.Context(), member[1]); return err }},
		{"Start", func(s *dynamo.Store) error { _, err := s.Start(t.Context(), id, now); return err }},
		{"StartMember", func(s *dynamo.Store) error { _, err := s.Start(t.Context(), member[0], now); return err }},
		{"Finish", func(s *dynamo.Store) error { return s.Finish(t.Context(), id, out) }},
		{"Abandon", func(s *dynamo.Store) error { return s.Abandon(t.Context(), failed) }},
		{"Revoke", func(s *dynamo.Store) error { _, err := s.Revoke(t.Context(), id, now, now.Add(time.Hour)); return err }},
		{"Claim", func(s *dynamo.Store) error { _, err := s.Claim(t.Context(), claim); return err }},
		{"Holder", func(s *dynamo.Store) error { _, err := s.Holder(t.Context(), "k", now); return err }},
		{"Release", func(s *dynamo.Store) error { return s.Release(t.Context(), claim) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.call(dynamo.New(goneClient{}, "asyncprime-tasks"))
			missing, ok := errors.AsType[*task.MissingResourceError](err)
			switch {
			case !ok:
				t.Fatalf("got %v; want a *task.MissingResourceError", err)
			case missing.Kind != "table" || missing.Name != "asyncprime-tasks":
				t.Errorf("missing = %s %s; want table asyncprime-tasks", missing.Kind, missing.Name)
			case !errors.Is(err, task.ErrMissingResource) || !errors.Is(err, errNoTable):
				t.Errorf("got %v; want it to wrap ErrMissingResource and the SDK's error", err)
			case errors.Is(err, task.ErrNotFound) || errors.Is(err, task.ErrConflict):
				t.Errorf("got %v; want no task error", err)
			}
			if want := "the table asyncprime-tasks does not exist"; !strings.Contains(err.Error(), want) {
				t.Errorf("got %q; want it to contain %q", err, want)
			}
		})
	}
}
