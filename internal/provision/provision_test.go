package provision_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/asyncprime/asyncprime/internal/awstest"
	"github.com/asyncprime/asyncprime/internal/provision"
)

func TestMain(m *testing.M) { awstest.Main(m) }

func TestProvision(t *testing.T) {
	t.Parallel()
	names := awstest.UniqueNames()
	cfg, res := awstest.ProvisionedWith(t, provision.Settings{}, names)

	// Idempotent: the same names and settings give the same resources.
	again, err := provision.Provision(t.Context(), cfg, names)
	if err != nil {
		t.Fatalf("second Provision = %v; want nil", err)
	}
	if again != res {
		t.Errorf("second Provision = %+v; want %+v", again, res)
	}

	sqsClient := sqs.NewFromConfig(cfg)
	q := queueAttrs(t, sqsClient, res.QueueURL)
	if q["VisibilityTimeout"] != "60" || q["SqsManagedSseEnabled"] != "true" || q["QueueArn"] != res.QueueARN {
		t.Errorf("queue attributes %v; want VisibilityTimeout 60, SqsManagedSseEnabled true, QueueArn %s", q, res.QueueARN)
	}
	if target, max := redrive(t, q); target != res.DeadLetterQueueARN || max != "5" {
		t.Errorf("RedrivePolicy = %s; want the dead-letter queue %s after 5 receives", q["RedrivePolicy"], res.DeadLetterQueueARN)
	}
	dlq := queueAttrs(t, sqsClient, res.DeadLetterQueueURL)
	if dlq["MessageRetentionPeriod"] != "1209600" || dlq["SqsManagedSseEnabled"] != "true" {
		t.Errorf("dead-letter queue attributes %v; want MessageRetentionPeriod 1209600, SqsManagedSseEnabled true", dlq)
	}

	db := dynamodb.NewFromConfig(cfg)
	desc, err := db.DescribeTable(t.Context(), &dynamodb.DescribeTableInput{TableName: aws.String(res.TableName)})
	if err != nil {
		t.Fatalf("DescribeTable = %v; want nil", err)
	}
	tb := desc.Table
	if tb.TableStatus != dbtypes.TableStatusActive || len(tb.KeySchema) != 1 || aws.ToString(tb.KeySchema[0].AttributeName) != "task_id" ||
		tb.BillingModeSummary == nil || tb.BillingModeSummary.BillingMode != dbtypes.BillingModePayPerRequest {
		t.Errorf("table %s: status %s, key %v, billing %+v; want ACTIVE, task_id, PAY_PER_REQUEST", res.TableName, tb.TableStatus, tb.KeySchema, tb.BillingModeSummary)
	}
	ttl, err := db.DescribeTimeToLive(t.Context(), &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(res.TableName)})
	if err != nil {
		t.Fatalf("DescribeTimeToLive = %v; want nil", err)
	}
	if d := ttl.TimeToLiveDescription; d == nil || d.TimeToLiveStatus != dbtypes.TimeToLiveStatusEnabled || aws.ToString(d.AttributeName) != "expires_at" {
		t.Errorf("TTL = %+v; want ENABLED on expires_at", d)
	}
}

// TestProvisionChangedSettings checks that provisioning existing queues with
// other settings updates them, as a stack update would.
func TestProvisionChangedSettings(t *testing.T) {
	t.Parallel()
	names := awstest.UniqueNames()
	names.Table = ""
	cfg, res := awstest.ProvisionedWith(t, provision.Settings{}, names)
	changed, err := provision.Settings{VisibilityTimeout: 5 * time.Second, MaxReceiveCount: 2}.Provision(t.Context(), cfg, names)
	if err != nil {
		t.Fatalf("Provision with other settings = %v; want nil", err)
	}
	if changed.QueueURL != res.QueueURL {
		t.Errorf("QueueURL = %s; want %s", changed.QueueURL, res.QueueURL)
	}
	q := queueAttrs(t, sqs.NewFromConfig(cfg), res.QueueURL)
	if _, max := redrive(t, q); q["VisibilityTimeout"] != "5" || max != "2" {
		t.Errorf("queue attributes %v; want VisibilityTimeout 5 and maxReceiveCount 2", q)
	}
}

func TestDeleteIsIdempotent(t *testing.T) {
	t.Parallel()
	cfg := awstest.Config(t)
	res, err := provision.Provision(t.Context(), cfg, awstest.UniqueNames())
	if err != nil {
		t.Fatalf("Provision = %v; want nil", err)
	}
	for i := range 2 {
		if err := provision.Delete(t.Context(), cfg, res); err != nil {
			t.Errorf("Delete #%d = %v; want nil", i+1, err)
		}
	}
}

func TestSettingsValidation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		s    provision.Settings
	}{
		{"FractionalVisibility", provision.Settings{VisibilityTimeout: 1500 * time.Millisecond}},
		{"NegativeVisibility", provision.Settings{VisibilityTimeout: -time.Second}},
		{"LongVisibility", provision.Settings{VisibilityTimeout: 13 * time.Hour}},
		{"ReceiveCount", provision.Settings{MaxReceiveCount: 1001}},
		{"ShortRetention", provision.Settings{DeadLetterRetention: time.Second}},
		{"LongRetention", provision.Settings{DeadLetterRetention: 15 * 24 * time.Hour}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// Validation comes before any request, so no emulator is needed.
			if _, err := tt.s.Provision(t.Context(), aws.Config{}, provision.Names{Queue: "q"}); err == nil {
				t.Errorf("Provision(%+v) = nil error; want one", tt.s)
			}
		})
	}
}

func queueAttrs(t *testing.T, c *sqs.Client, url string) map[string]string {
	t.Helper()
	out, err := c.GetQueueAttributes(t.Context(), &sqs.GetQueueAttributesInput{
		QueueUrl:       aws.String(url),
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameAll},
	})
	if err != nil {
		t.Fatalf("GetQueueAttributes(%s) = %v; want nil", url, err)
	}
	return out.Attributes
}

// redrive returns the target and maxReceiveCount of a queue's RedrivePolicy.
func redrive(t *testing.T, attrs map[string]string) (target, maxReceiveCount string) {
	t.Helper()
	var p struct {
		DeadLetterTargetArn string      `json:"deadLetterTargetArn"`
		MaxReceiveCount     json.Number `json:"maxReceiveCount"`
	}
	if err := json.Unmarshal([]byte(attrs["RedrivePolicy"]), &p); err != nil {
		t.Errorf("RedrivePolicy %q: %v", attrs["RedrivePolicy"], err)
	}
	return p.DeadLetterTargetArn, p.MaxReceiveCount.String()
}
