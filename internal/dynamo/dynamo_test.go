package dynamo_test

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/asyncprime/asyncprime/internal/awstest"
	"github.com/asyncprime/asyncprime/internal/dynamo"
	"github.com/asyncprime/asyncprime/internal/provision"
	"github.com/asyncprime/asyncprime/internal/task"
	"github.com/asyncprime/asyncprime/internal/tasktest"
)

func TestMain(m *testing.M) { awstest.Main(m) }

// newTable provisions a fresh table and returns a client for it.
func newTable(t *testing.T) (*dynamodb.Client, string) {
	t.Helper()
	names := awstest.UniqueNames()
	names.Queue = ""
	cfg, res := awstest.ProvisionedWith(t, provision.Settings{}, names)
	return dynamodb.NewFromConfig(cfg), res.TableName
}

func TestStoreConformance(t *testing.T) {
	t.Parallel()
	client, table := newTable(t)
	s := dynamo.New(awstest.SerialWrites(client), table) // moto does not serialise conditional writes
	tasktest.Run(t, func(*testing.T) task.Store { return s })
}

// TestItemLayout checks the attributes the template and operators rely on,
// as stored by the real service.
func TestItemLayout(t *testing.T) {
	t.Parallel()
	client, table := newTable(t)
	s := dynamo.New(client, table)
	t0 := time.Date(2026, 11, 24, 12, 0, 0, 123456789, time.UTC)
	big := task.Number(strings.Repeat("9", task.MaxDigits))
	tk := task.Task{ID: task.NewID(), Status: task.StatusPending, Number: big, CreatedAt: t0, ExpiresAt: t0.Add(24 * time.Hour)}
	if err := s.Create(t.Context(), tk); err != nil {
		t.Fatalf("Create = %v; want nil", err)
	}
	if _, err := s.Start(t.Context(), tk.ID, t0.Add(time.Second)); err != nil {
		t.Fatalf("Start = %v; want nil", err)
	}
	out := task.Outcome{Status: task.StatusFailure, Error: "boom", FinishedAt: t0.Add(2 * time.Second), ExpiresAt: t0.Add(25 * time.Hour)}
	if err := s.Finish(t.Context(), tk.ID, out); err != nil {
		t.Fatalf("Finish = %v; want nil", err)
	}
	got, err := client.GetItem(t.Context(), &dynamodb.GetItemInput{
		TableName: aws.String(table), Key: map[string]types.AttributeValue{"task_id": &types.AttributeValueMemberS{Value: tk.ID}},
	})
	if err != nil {
		t.Fatalf("GetItem = %v; want nil", err)
	}
	want := map[string]types.AttributeValue{
		"task_id":     &types.AttributeValueMemberS{Value: tk.ID},
		"status":      &types.AttributeValueMemberS{Value: "FAILURE"},
		"number":      &types.AttributeValueMemberS{Value: string(big)},
		"error":       &types.AttributeValueMemberS{Value: "boom"},
		"attempts":    &types.AttributeValueMemberN{Value: "1"},
		"created_at":  &types.AttributeValueMemberS{Value: "2026-11-24T12:00:00.123456789Z"},
		"started_at":  &types.AttributeValueMemberS{Value: "2026-11-24T12:00:01.123456789Z"},
		"finished_at": &types.AttributeValueMemberS{Value: "2026-11-24T12:00:02.123456789Z"},
		"expires_at":  &types.AttributeValueMemberN{Value: "1795611600"},
	}
	if len(got.Item) != len(want) {
		t.Errorf("item has %d attributes; want %d: %v", len(got.Item), len(want), keys(got.Item))
	}
	for k, w := range want {
		if g, ok := got.Item[k]; !ok || !sameValue(g, w) {
			t.Errorf("attribute %s = %s; want %s", k, show(g), show(w))
		}
	}
	// The full number survives the round trip.
	read, err := s.Get(t.Context(), tk.ID)
	if err != nil || read.Number != big {
		t.Errorf("Get = number of %d digits, %v; want %d digits", len(read.Number), err, len(big))
	}
}

func keys(m map[string]types.AttributeValue) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

func sameValue(a, b types.AttributeValue) bool { return show(a) == show(b) }

func show(v types.AttributeValue) string {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		if len(v.Value) > 40 {
			return "S:" + v.Value[:40] + "…"
		}
		return "S:" + v.Value
	case *types.AttributeValueMemberN:
		return "N:" + v.Value
	case *types.AttributeValueMemberBOOL:
		if v.Value {
			return "BOOL:true"
		}
		return "BOOL:false"
	case nil:
		return "absent"
	default:
		return "other"
	}
}
