package sqsqueue

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/asyncprime/asyncprime/internal/queue"
)

// Client is the part of the SQS API the queue uses; *sqs.Client implements
// it.
type Client interface {
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
	SendMessageBatch(ctx context.Context, in *sqs.SendMessageBatchInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error)
	ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, optFns ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	DeleteMessageBatch(ctx context.Context, in *sqs.DeleteMessageBatchInput, optFns ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error)
}

var _ Client = (*sqs.Client)(nil)

// MaxWait is SQS's longest long poll.
const MaxWait = 20 * time.Second

// Queue is a queue.Queue on one SQS queue.
type Queue struct {
	client Client
	url    string
	region string
}

var _ queue.Queue = (*Queue)(nil)

// Option configures a Queue.
type Option func(*Queue)

// WithRegion gives the region for the records' AWSRegion. Pass the
// aws.Config's Region.
func WithRegion(region string) Option { return func(q *Queue) { q.region = region } }

// New returns the queue at queueURL.
func New(client Client, queueURL string, opts ...Option) *Queue {
	q := &Queue{client: client, url: queueURL}
	for _, o := range opts {
		o(q)
	}
	return q
}

// URL returns the queue URL.
func (q *Queue) URL() string { return q.url }

// Send implements queue.Queue.
func (q *Queue) Send(ctx context.Context, body string) (string, error) {
	out, err := q.client.SendMessage(ctx, &sqs.SendMessageInput{
		QueueUrl:    aws.String(q.url),
		MessageBody: aws.String(body),
	})
	if err = missing(err, q.url); err != nil {
		return "", fmt.Errorf("send message to %s: %w", q.url, err)
	}
	if out.MessageId == nil {
		return "", fmt.Errorf("send message to %s: response has no message id", q.url)
	}
	return *out.MessageId, nil
}

// Receive implements queue.Queue with one ReceiveMessage call. wait is
// rounded up to whole seconds and capped at MaxWait; a wait of zero sends no
// WaitTimeSeconds (the SDK omits zero), so the queue's own
// ReceiveMessageWaitTimeSeconds applies, which is 0 unless configured.
// If ctx ends during a long poll, Receive returns at once with an error
// that wraps ctx.Err().
func (q *Queue) Receive(ctx context.Context, max int, wait time.Duration) ([]events.SQSMessage, error) {
	if max < 1 || max > queue.MaxBatch {
		return nil, fmt.Errorf("receive from %s: max must be between 1 and %d, got %d", q.url, queue.MaxBatch, max)
	}
	out, err := q.client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
		QueueUrl:                    aws.String(q.url),
		MaxNumberOfMessages:         int32(max),
		WaitTimeSeconds:             waitSeconds(wait),
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
		MessageAttributeNames:       []string{"All"},
	})
	if err = missing(err, q.url); err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil && !errors.Is(err, ctxErr) {
			return nil, fmt.Errorf("receive from %s: %w (%v)", q.url, ctxErr, err)
		}
		return nil, fmt.Errorf("receive from %s: %w", q.url, err)
	}
	if len(out.Messages) == 0 {
		return nil, nil
	}
	recs := make([]events.SQSMessage, len(out.Messages))
	for i, m := range out.Messages {
		recs[i] = q.record(m)
	}
	return recs, nil
}

// waitSeconds rounds d up to whole seconds within [0, MaxWait].
func waitSeconds(d time.Duration) int32 {
	d = min(max(d, 0), MaxWait)
	return int32((d + time.Second - 1) / time.Second)
}

// record converts a received message to the record Lambda would deliver.
func (q *Queue) record(m types.Message) events.SQSMessage {
	attrs := make(map[string]string, len(m.Attributes))
	for k, v := range m.Attributes {
		attrs[k] = v
	}
	mattrs := make(map[string]events.SQSMessageAttribute, len(m.MessageAttributes))
	for k, v := range m.MessageAttributes {
		a := events.SQSMessageAttribute{
			StringValue:      v.StringValue,
			BinaryValue:      v.BinaryValue,
			StringListValues: v.StringListValues,
			BinaryListValues: v.BinaryListValues,
			DataType:         aws.ToString(v.DataType),
		}
		// Lambda sends these reserved lists as [], never null.
		if a.StringListValues == nil {
			a.StringListValues = []string{}
		}
		if a.BinaryListValues == nil {
			a.BinaryListValues = [][]byte{}
		}
		mattrs[k] = a
	}
	return events.SQSMessage{
		MessageId:              aws.ToString(m.MessageId),
		ReceiptHandle:          aws.ToString(m.ReceiptHandle),
		Body:                   aws.ToString(m.Body),
		Md5OfBody:              aws.ToString(m.MD5OfBody),
		Md5OfMessageAttributes: aws.ToString(m.MD5OfMessageAttributes),
		Attributes:             attrs,
		MessageAttributes:      mattrs,
		EventSource:            "aws:sqs",
		AWSRegion:              q.region,
	}
}

// Delete implements queue.Queue with DeleteMessageBatch calls of up to
// queue.MaxBatch handles each. SQS accepts the handle of a message that is
// already deleted, so deleting twice is not an error. An entry SQS refuses
// (such as a malformed or expired handle) makes Delete return an error
// saying how many failed, after trying all the others.
func (q *Queue) Delete(ctx context.Context, receiptHandles ...string) error {
	var (
		failed int
		first  types.BatchResultErrorEntry
	)
	for start := 0; start < len(receiptHandles); start += queue.MaxBatch {
		chunk := receiptHandles[start:min(start+queue.MaxBatch, len(receiptHandles))]
		entries := make([]types.DeleteMessageBatchRequestEntry, len(chunk))
		for i, h := range chunk {
			entries[i] = types.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: aws.String(h)}
		}
		out, err := q.client.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{
			QueueUrl: aws.String(q.url),
			Entries:  entries,
		})
		if err = missing(err, q.url); err != nil {
			return fmt.Errorf("delete %d messages from %s (%d of %d done): %w", len(chunk), q.url, start, len(receiptHandles), err)
		}
		if failed == 0 && len(out.Failed) > 0 {
			first = out.Failed[0]
		}
		failed += len(out.Failed)
	}
	if failed > 0 {
		return fmt.Errorf("delete messages from %s: %d of %d failed; first: %s: %s",
			q.url, failed, len(receiptHandles), aws.ToString(first.Code), aws.ToString(first.Message))
	}
	return nil
}
