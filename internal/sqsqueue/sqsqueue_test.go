package sqsqueue_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/asyncprime/asyncprime/internal/awstest"
	"github.com/asyncprime/asyncprime/internal/provision"
	"github.com/asyncprime/asyncprime/internal/queue"
	"github.com/asyncprime/asyncprime/internal/queuetest"
	"github.com/asyncprime/asyncprime/internal/sqsqueue"
)

func TestMain(m *testing.M) { awstest.Main(m) }

// newQueues provisions a fresh queue and dead-letter queue.
func newQueues(t *testing.T, s provision.Settings) (*sqs.Client, provision.Resources, *sqsqueue.Queue, *sqsqueue.Queue) {
	t.Helper()
	names := awstest.UniqueNames()
	names.Table = ""
	cfg, res := awstest.ProvisionedWith(t, s, names)
	client := sqs.NewFromConfig(cfg)
	return client, res,
		sqsqueue.New(client, res.QueueURL, sqsqueue.WithRegion(cfg.Region)),
		sqsqueue.New(client, res.DeadLetterQueueURL, sqsqueue.WithRegion(cfg.Region))
}

func TestQueueConformance(t *testing.T) {
	t.Parallel()
	queuetest.Run(t, func(t *testing.T, opts queuetest.Options) (queue.Queue, queue.Queue) {
		_, _, q, dlq := newQueues(t, provision.Settings{VisibilityTimeout: opts.VisibilityTimeout, MaxReceiveCount: opts.MaxReceiveCount})
		return q, dlq
	})
}

// TestRecord checks that a received message carries what Lambda's record
// carries, message attributes included.
func TestRecord(t *testing.T) {
	t.Parallel()
	client, res, q, _ := newQueues(t, provision.Settings{})
	sent, err := client.SendMessage(t.Context(), &sqs.SendMessageInput{
		QueueUrl:    aws.String(res.QueueURL),
		MessageBody: aws.String(`{"task_id":"x"}`),
		MessageAttributes: map[string]types.MessageAttributeValue{
			"trace": {DataType: aws.String("String"), StringValue: aws.String("abc")},
			"blob":  {DataType: aws.String("Binary"), BinaryValue: []byte{1, 2, 3}},
		},
	})
	if err != nil {
		t.Fatalf("SendMessage = %v; want nil", err)
	}
	msgs, err := q.Receive(t.Context(), 1, 5*time.Second)
	if err != nil || len(msgs) != 1 {
		t.Fatalf("Receive = %d messages, %v; want 1, nil", len(msgs), err)
	}
	m := msgs[0]
	if m.MessageId != aws.ToString(sent.MessageId) || m.Md5OfBody != aws.ToString(sent.MD5OfMessageBody) ||
		m.Md5OfMessageAttributes != aws.ToString(sent.MD5OfMessageAttributes) {
		t.Errorf("got id %q md5 %q attrs md5 %q; want %q %q %q", m.MessageId, m.Md5OfBody, m.Md5OfMessageAttributes,
			aws.ToString(sent.MessageId), aws.ToString(sent.MD5OfMessageBody), aws.ToString(sent.MD5OfMessageAttributes))
	}
	if m.AWSRegion == "" || m.EventSource != "aws:sqs" {
		t.Errorf("got source %q region %q; want aws:sqs and a region", m.EventSource, m.AWSRegion)
	}
	for _, a := range []string{queue.AttrReceiveCount, queue.AttrSentTimestamp, queue.AttrFirstReceiveStamp, queue.AttrSenderID} {
		if m.Attributes[a] == "" {
			t.Errorf("attribute %s missing; got %v", a, m.Attributes)
		}
	}
	if a := m.MessageAttributes["trace"]; a.DataType != "String" || aws.ToString(a.StringValue) != "abc" {
		t.Errorf("message attribute trace = %+v; want String abc", a)
	}
	if a := m.MessageAttributes["blob"]; a.DataType != "Binary" || string(a.BinaryValue) != "\x01\x02\x03" {
		t.Errorf("message attribute blob = %+v; want Binary 010203", a)
	}
}

// TestDeleteMany deletes more messages than one batch holds.
func TestDeleteMany(t *testing.T) {
	t.Parallel()
	_, _, q, _ := newQueues(t, provision.Settings{VisibilityTimeout: 30 * time.Second})
	const n = 23
	for i := range n {
		if _, err := q.Send(t.Context(), string(rune('a'+i))); err != nil {
			t.Fatalf("Send = %v; want nil", err)
		}
	}
	var handles []string
	for deadline := time.Now().Add(10 * time.Second); len(handles) < n && time.Now().Before(deadline); {
		msgs, err := q.Receive(t.Context(), 10, time.Second)
		if err != nil {
			t.Fatalf("Receive = %v; want nil", err)
		}
		for _, m := range msgs {
			handles = append(handles, m.ReceiptHandle)
		}
	}
	if len(handles) != n {
		t.Fatalf("received %d messages; want %d", len(handles), n)
	}
	if err := q.Delete(t.Context(), handles...); err != nil {
		t.Fatalf("Delete(%d handles) = %v; want nil", n, err)
	}
	if err := q.Delete(t.Context(), "not-a-receipt-handle"); err == nil {
		t.Error("Delete(malformed handle) = nil; want an error")
	}
}

// TestReceiveCancelled checks that cancelling ctx ends a long poll: a
// Receive that ignored it would return no message and no error after the
// 20 s wait.
func TestReceiveCancelled(t *testing.T) {
	t.Parallel()
	client, res, _, _ := newQueues(t, provision.Settings{})
	polling := make(chan struct{})
	q := sqsqueue.New(&receiveStarted{Client: client, started: polling}, res.QueueURL)
	ctx, cancel := context.WithCancel(t.Context())
	go func() { <-polling; cancel() }()
	_, err := q.Receive(ctx, 1, 20*time.Second)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Receive = %v; want an error wrapping context.Canceled", err)
	}
}

// receiveStarted closes started when ReceiveMessage is called.
type receiveStarted struct {
	sqsqueue.Client
	started chan struct{}
}

func (r *receiveStarted) ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, optFns ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error) {
	close(r.started)
	return r.Client.ReceiveMessage(ctx, in, optFns...)
}
