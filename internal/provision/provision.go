// Package provision creates the job queue, its dead-letter queue and the
// task table with the settings template.yaml declares, for the tests and
// the local mode (make run-aws) against an emulator such as LocalStack or
// moto. The Lambda functions never use it: in AWS, the SAM template owns
// the resources.
//
// Provisioning is idempotent: running it again with the same names and
// settings succeeds and returns the same resources, so make run-aws may run
// twice against one LocalStack. A queue that exists with other attributes
// gets these; a table that exists with another key schema is an error.
package provision

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"

	"github.com/asyncprime/asyncprime/internal/dynamo"
	"github.com/asyncprime/asyncprime/internal/queue"
	"github.com/asyncprime/asyncprime/internal/task"
)

// Defaults, as in template.yaml.
const (
	// DefaultDeadLetterRetention is the dead-letter queue's
	// MessageRetentionPeriod: 14 days, the most SQS allows. It must exceed
	// the tasks queue's (4 days by default), because a standard queue's
	// message keeps its original enqueue time when it is moved.
	DefaultDeadLetterRetention = 14 * 24 * time.Hour
	// DefaultTableWait bounds the wait for a new table to become ACTIVE.
	DefaultTableWait = 2 * time.Minute
)

// Names names the resources to create. An empty Queue creates no queues and
// an empty Table no table.
type Names struct {
	Queue           string // the tasks queue
	DeadLetterQueue string // Queue + "-dlq" if empty
	Table           string
}

// DefaultNames are the resources the local commands (make run-aws, make
// invoke, make sam-local) create when they are given none.
var DefaultNames = Names{Queue: "asyncprime-tasks", Table: "asyncprime-tasks"}

// Settings are the resources' settings; zero fields take the defaults.
type Settings struct {
	// VisibilityTimeout of the tasks queue, in whole seconds up to 12 hours.
	VisibilityTimeout time.Duration
	// MaxReceiveCount of the redrive policy, 1 to 1000.
	MaxReceiveCount int
	// DeadLetterRetention is the dead-letter queue's message retention, in
	// whole seconds from 1 minute to 14 days.
	DeadLetterRetention time.Duration
	// TableWait bounds the wait for the table to become ACTIVE.
	TableWait time.Duration
}

// Resources are what Provision created or found.
type Resources struct {
	QueueURL, QueueARN                     string
	DeadLetterQueueURL, DeadLetterQueueARN string
	TableName                              string
}

// Provision creates the resources with the default settings.
func Provision(ctx context.Context, cfg aws.Config, names Names) (Resources, error) {
	return Settings{}.Provision(ctx, cfg, names)
}

// Provision creates the resources with these settings:
//
//   - the dead-letter queue, with MessageRetentionPeriod DeadLetterRetention,
//     VisibilityTimeout (its dead-letter handler runs with the worker's
//     timeout) and SQS-managed encryption (SqsManagedSseEnabled);
//   - the tasks queue, with VisibilityTimeout, a RedrivePolicy to the
//     dead-letter queue after MaxReceiveCount receives, and SQS-managed
//     encryption;
//   - the table, on demand (PAY_PER_REQUEST), keyed by task_id (S), with
//     TTL on expires_at; Provision waits until it is ACTIVE.
func (s Settings) Provision(ctx context.Context, cfg aws.Config, names Names) (Resources, error) {
	s, err := s.withDefaults()
	if err != nil {
		return Resources{}, err
	}
	var res Resources
	if names.Queue != "" {
		names.DeadLetterQueue = cmp.Or(names.DeadLetterQueue, names.Queue+"-dlq")
		client := sqs.NewFromConfig(cfg)
		res.DeadLetterQueueURL, res.DeadLetterQueueARN, err = createQueue(ctx, client, names.DeadLetterQueue, map[string]string{
			string(sqstypes.QueueAttributeNameMessageRetentionPeriod): seconds(s.DeadLetterRetention),
			string(sqstypes.QueueAttributeNameSqsManagedSseEnabled):   "true",
			// The dead-letter handler reads it, with the worker's timeout.
			string(sqstypes.QueueAttributeNameVisibilityTimeout): seconds(s.VisibilityTimeout),
		})
		if err != nil {
			return Resources{}, err
		}
		redrive, err := json.Marshal(struct {
			DeadLetterTargetArn string `json:"deadLetterTargetArn"`
			MaxReceiveCount     int    `json:"maxReceiveCount"`
		}{res.DeadLetterQueueARN, s.MaxReceiveCount})
		if err != nil {
			return Resources{}, err
		}
		res.QueueURL, res.QueueARN, err = createQueue(ctx, client, names.Queue, map[string]string{
			string(sqstypes.QueueAttributeNameVisibilityTimeout):    seconds(s.VisibilityTimeout),
			string(sqstypes.QueueAttributeNameRedrivePolicy):        string(redrive),
			string(sqstypes.QueueAttributeNameSqsManagedSseEnabled): "true",
		})
		if err != nil {
			return Resources{}, err
		}
	}
	if names.Table != "" {
		if err := createTable(ctx, dynamodb.NewFromConfig(cfg), names.Table, s.TableWait); err != nil {
			return Resources{}, err
		}
		res.TableName = names.Table
	}
	return res, nil
}

func (s Settings) withDefaults() (Settings, error) {
	s.VisibilityTimeout = cmp.Or(s.VisibilityTimeout, queue.DefaultVisibilityTimeout)
	s.MaxReceiveCount = cmp.Or(s.MaxReceiveCount, task.DefaultMaxReceiveCount)
	s.DeadLetterRetention = cmp.Or(s.DeadLetterRetention, DefaultDeadLetterRetention)
	s.TableWait = cmp.Or(s.TableWait, DefaultTableWait)
	var errs []error
	if s.VisibilityTimeout < 0 || s.VisibilityTimeout > 12*time.Hour || s.VisibilityTimeout%time.Second != 0 {
		errs = append(errs, fmt.Errorf("visibility timeout %v is not whole seconds from 0 to 12h", s.VisibilityTimeout))
	}
	if s.MaxReceiveCount < 1 || s.MaxReceiveCount > 1000 {
		errs = append(errs, fmt.Errorf("max receive count %d is not between 1 and 1000", s.MaxReceiveCount))
	}
	if s.DeadLetterRetention < time.Minute || s.DeadLetterRetention > 14*24*time.Hour || s.DeadLetterRetention%time.Second != 0 {
		errs = append(errs, fmt.Errorf("dead-letter retention %v is not whole seconds from 1m to 336h", s.DeadLetterRetention))
	}
	if err := errors.Join(errs...); err != nil {
		return Settings{}, fmt.Errorf("provision: %w", err)
	}
	return s, nil
}

func seconds(d time.Duration) string { return strconv.FormatInt(int64(d/time.Second), 10) }

// createQueue creates the named queue with attrs, or gives an existing one
// attrs, and returns its URL and ARN.
func createQueue(ctx context.Context, client *sqs.Client, name string, attrs map[string]string) (url, arn string, err error) {
	out, err := client.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs})
	switch {
	case err == nil:
		url = aws.ToString(out.QueueUrl)
	case isQueueNameExists(err):
		// SQS refuses to create a queue that exists with other attributes;
		// converge it to these, as a stack update would.
		got, err := client.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(name)})
		if err != nil {
			return "", "", fmt.Errorf("provision queue %s: get URL of existing queue: %w", name, err)
		}
		url = aws.ToString(got.QueueUrl)
		if _, err := client.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: aws.String(url), Attributes: attrs}); err != nil {
			return "", "", fmt.Errorf("provision queue %s: update existing queue: %w", name, err)
		}
	default:
		return "", "", fmt.Errorf("provision queue %s: %w", name, err)
	}
	got, err := client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl:       aws.String(url),
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn},
	})
	if err != nil {
		return "", "", fmt.Errorf("provision queue %s: get ARN: %w", name, err)
	}
	arn = got.Attributes[string(sqstypes.QueueAttributeNameQueueArn)]
	if arn == "" {
		return "", "", fmt.Errorf("provision queue %s: GetQueueAttributes returned no QueueArn", name)
	}
	return url, arn, nil
}

// isQueueNameExists reports whether err is SQS's refusal to create a queue
// that exists with other attributes. The JSON protocol's code is
// QueueAlreadyExists; the SDK's type is QueueNameExists.
func isQueueNameExists(err error) bool {
	var exists *sqstypes.QueueNameExists
	if errors.As(err, &exists) {
		return true
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		switch api.ErrorCode() {
		case "QueueAlreadyExists", "QueueNameExists", "AWS.SimpleQueueService.QueueAlreadyExists":
			return true
		}
	}
	return false
}

// createTable creates the task table if it does not exist, waits until it
// is ACTIVE and enables TTL on expires_at.
func createTable(ctx context.Context, client *dynamodb.Client, name string, wait time.Duration) error {
	_, err := client.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:   aws.String(name),
		BillingMode: dbtypes.BillingModePayPerRequest,
		AttributeDefinitions: []dbtypes.AttributeDefinition{
			{AttributeName: aws.String(dynamo.AttrID), AttributeType: dbtypes.ScalarAttributeTypeS},
		},
		KeySchema: []dbtypes.KeySchemaElement{
			{AttributeName: aws.String(dynamo.AttrID), KeyType: dbtypes.KeyTypeHash},
		},
	})
	var inUse *dbtypes.ResourceInUseException
	if err != nil && !errors.As(err, &inUse) {
		return fmt.Errorf("provision table %s: %w", name, err)
	}
	waiter := dynamodb.NewTableExistsWaiter(client, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = time.Second, 5*time.Second
	})
	desc, err := waiter.WaitForOutput(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}, wait)
	if err != nil {
		return fmt.Errorf("provision table %s: wait until ACTIVE: %w", name, err)
	}
	if err := checkKey(desc.Table); err != nil {
		return fmt.Errorf("provision table %s: existing table: %w", name, err)
	}
	ttl, err := client.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(name)})
	if err != nil {
		return fmt.Errorf("provision table %s: describe TTL: %w", name, err)
	}
	if d := ttl.TimeToLiveDescription; d != nil {
		switch d.TimeToLiveStatus {
		case dbtypes.TimeToLiveStatusEnabled, dbtypes.TimeToLiveStatusEnabling:
			if a := aws.ToString(d.AttributeName); a != dynamo.AttrExpiresAt {
				return fmt.Errorf("provision table %s: TTL is on %s; want %s", name, a, dynamo.AttrExpiresAt)
			}
			return nil // enabling it again is an error in DynamoDB
		}
	}
	_, err = client.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName: aws.String(name),
		TimeToLiveSpecification: &dbtypes.TimeToLiveSpecification{
			AttributeName: aws.String(dynamo.AttrExpiresAt),
			Enabled:       aws.Bool(true),
		},
	})
	if err != nil {
		return fmt.Errorf("provision table %s: enable TTL on %s: %w", name, dynamo.AttrExpiresAt, err)
	}
	return nil
}

// checkKey reports an error unless the table is keyed by task_id (S) alone.
func checkKey(t *dbtypes.TableDescription) error {
	if t == nil {
		return errors.New("no description")
	}
	if len(t.KeySchema) != 1 || aws.ToString(t.KeySchema[0].AttributeName) != dynamo.AttrID || t.KeySchema[0].KeyType != dbtypes.KeyTypeHash {
		return fmt.Errorf("key schema is not %s (HASH) alone", dynamo.AttrID)
	}
	for _, a := range t.AttributeDefinitions {
		if aws.ToString(a.AttributeName) == dynamo.AttrID && a.AttributeType != dbtypes.ScalarAttributeTypeS {
			return fmt.Errorf("%s has type %s; want S", dynamo.AttrID, a.AttributeType)
		}
	}
	return nil
}

// Delete removes the resources, skipping empty names and ones already
// gone. Tests use it to clean up after themselves on a shared emulator.
func Delete(ctx context.Context, cfg aws.Config, res Resources) error {
	var errs []error
	if res.QueueURL != "" || res.DeadLetterQueueURL != "" {
		client := sqs.NewFromConfig(cfg)
		for _, url := range []string{res.QueueURL, res.DeadLetterQueueURL} {
			if url == "" {
				continue
			}
			_, err := client.DeleteQueue(ctx, &sqs.DeleteQueueInput{QueueUrl: aws.String(url)})
			var gone *sqstypes.QueueDoesNotExist
			if err != nil && !errors.As(err, &gone) {
				errs = append(errs, fmt.Errorf("delete queue %s: %w", url, err))
			}
		}
	}
	if res.TableName != "" {
		_, err := dynamodb.NewFromConfig(cfg).DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(res.TableName)})
		var gone *dbtypes.ResourceNotFoundException
		if err != nil && !errors.As(err, &gone) {
			errs = append(errs, fmt.Errorf("delete table %s: %w", res.TableName, err))
		}
	}
	return errors.Join(errs...)
}
