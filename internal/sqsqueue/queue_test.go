package sqsqueue_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"

	"github.com/asyncprime/asyncprime/internal/sqsqueue"
	"github.com/asyncprime/asyncprime/internal/task"
)

// fakeClient is a sqsqueue.Client whose calls are the Func fields; a call
// without one panics through the nil embedded interface.
type fakeClient struct {
	sqsqueue.Client
	SendMessageFunc        func(*sqs.SendMessageInput) (*sqs.SendMessageOutput, error)
	SendMessageBatchFunc   func(context.Context, *sqs.SendMessageBatchInput) (*sqs.SendMessageBatchOutput, error)
	ReceiveMessageFunc     func(context.Context, *sqs.ReceiveMessageInput) (*sqs.ReceiveMessageOutput, error)
	DeleteMessageBatchFunc func(*sqs.DeleteMessageBatchInput) (*sqs.DeleteMessageBatchOutput, error)
}

func (f *fakeClient) SendMessage(ctx context.Context, in *sqs.SendMessageInput, opts ...func(*sqs.Options)) (*sqs.SendMessageOutput, error) {
	if f.SendMessageFunc == nil {
		return f.Client.SendMessage(ctx, in, opts...)
	}
	return f.SendMessageFunc(in)
}

func (f *fakeClient) SendMessageBatch(ctx context.Context, in *sqs.SendMessageBatchInput, opts ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error) {
	if f.SendMessageBatchFunc == nil {
		return f.Client.SendMessageBatch(ctx, in, opts...)
	}
	return f.SendMessageBatchFunc(ctx, in)
}

func (f *fakeClient) ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, opts ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error) {
	if f.ReceiveMessageFunc == nil {
		return f.Client.ReceiveMessage(ctx, in, opts...)
	}
	return f.ReceiveMessageFunc(ctx, in)
}

func (f *fakeClient) DeleteMessageBatch(ctx context.Context, in *sqs.DeleteMessageBatchInput, opts ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error) {
	if f.DeleteMessageBatchFunc == nil {
		return f.Client.DeleteMessageBatch(ctx, in, opts...)
	}
	return f.DeleteMessageBatchFunc(in)
}

func TestRecordFields(t *testing.T) {
	t.Parallel()
	q := sqsqueue.New(&fakeClient{ReceiveMessageFunc: func(context.Context, *sqs.ReceiveMessageInput) (*sqs.ReceiveMessageOutput, error) {
		return &sqs.ReceiveMessageOutput{Messages: []types.Message{{MessageId: aws.String("m"), Body: aws.String("b")}}}, nil
	}}, "http://x/y", sqsqueue.WithRegion("eu-north-1"))
	msgs, err := q.Receive(t.Context(), 1, 0)
	if err != nil || len(msgs) != 1 {
		t.Fatalf("Receive = %d, %v; want 1, nil", len(msgs), err)
	}
	if m := msgs[0]; m.EventSource != "aws:sqs" || m.AWSRegion != "eu-north-1" {
		t.Errorf("got event source %q region %q; want aws:sqs and the given region", m.EventSource, m.AWSRegion)
	}
	if m := msgs[0]; m.Attributes == nil || m.MessageAttributes == nil {
		t.Errorf("got nil attribute maps; want empty ones, as Lambda sends {}")
	}
}

func TestReceiveRequest(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		wait     time.Duration
		wantWait int32
	}{
		{"Zero", 0, 0},
		{"Negative", -time.Second, 0},
		{"RoundsUp", 1500 * time.Millisecond, 2},
		{"Whole", 5 * time.Second, 5},
		{"Capped", time.Minute, 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got *sqs.ReceiveMessageInput
			q := sqsqueue.New(&fakeClient{ReceiveMessageFunc: func(_ context.Context, in *sqs.ReceiveMessageInput) (*sqs.ReceiveMessageOutput, error) {
				got = in
				return &sqs.ReceiveMessageOutput{}, nil
			}}, "http://127.0.0.1:5000/123456789012/tasks", sqsqueue.WithRegion("us-east-1"))
			if _, err := q.Receive(t.Context(), 7, tt.wait); err != nil {
				t.Fatalf("Receive = %v; want nil", err)
			}
			if got.WaitTimeSeconds != tt.wantWait || got.MaxNumberOfMessages != 7 {
				t.Errorf("WaitTimeSeconds %d, MaxNumberOfMessages %d; want %d, 7", got.WaitTimeSeconds, got.MaxNumberOfMessages, tt.wantWait)
			}
			if len(got.MessageSystemAttributeNames) != 1 || got.MessageSystemAttributeNames[0] != types.MessageSystemAttributeNameAll ||
				len(got.MessageAttributeNames) != 1 || got.MessageAttributeNames[0] != "All" {
				t.Errorf("attribute names %v %v; want All and All", got.MessageSystemAttributeNames, got.MessageAttributeNames)
			}
		})
	}
	q := sqsqueue.New(&fakeClient{}, "http://127.0.0.1:5000/123456789012/tasks")
	for _, max := range []int{0, 11} {
		if _, err := q.Receive(t.Context(), max, 0); err == nil {
			t.Errorf("Receive(max=%d) = nil error; want one", max)
		}
	}
}

func TestReceiveErrors(t *testing.T) {
	t.Parallel()
	throttled := errors.New("throttled")
	t.Run("Wrapped", func(t *testing.T) {
		t.Parallel()
		q := sqsqueue.New(&fakeClient{ReceiveMessageFunc: func(context.Context, *sqs.ReceiveMessageInput) (*sqs.ReceiveMessageOutput, error) {
			return nil, throttled
		}}, "http://127.0.0.1:5000/123456789012/tasks")
		if _, err := q.Receive(t.Context(), 1, 0); !errors.Is(err, throttled) || !strings.Contains(err.Error(), "receive from") {
			t.Errorf("Receive = %v; want a wrapped throttled", err)
		}
	})
	t.Run("Cancelled", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(t.Context())
		q := sqsqueue.New(&fakeClient{ReceiveMessageFunc: func(ctx context.Context, _ *sqs.ReceiveMessageInput) (*sqs.ReceiveMessageOutput, error) {
			cancel()
			<-ctx.Done()
			return nil, errors.New("request send failed") // as the SDK may word it
		}}, "http://127.0.0.1:5000/123456789012/tasks")
		if _, err := q.Receive(ctx, 1, 20*time.Second); !errors.Is(err, context.Canceled) {
			t.Errorf("Receive = %v; want it to wrap context.Canceled", err)
		}
	})
}

func TestSend(t *testing.T) {
	t.Parallel()
	q := sqsqueue.New(&fakeClient{SendMessageFunc: func(in *sqs.SendMessageInput) (*sqs.SendMessageOutput, error) {
		if aws.ToString(in.MessageBody) != "hello" {
			t.Errorf("MessageBody = %q; want hello", aws.ToString(in.MessageBody))
		}
		return &sqs.SendMessageOutput{MessageId: aws.String("id-1")}, nil
	}}, "http://127.0.0.1:5000/123456789012/tasks")
	if id, err := q.Send(t.Context(), "hello"); id != "id-1" || err != nil {
		t.Errorf("Send = %q, %v; want id-1, nil", id, err)
	}
	q = sqsqueue.New(&fakeClient{SendMessageFunc: func(*sqs.SendMessageInput) (*sqs.SendMessageOutput, error) {
		return nil, &types.QueueDoesNotExist{Message: aws.String("gone")}
	}}, "http://127.0.0.1:5000/123456789012/tasks")
	var gone *types.QueueDoesNotExist
	if _, err := q.Send(t.Context(), "hello"); !errors.As(err, &gone) {
		t.Errorf("Send = %v; want a wrapped QueueDoesNotExist", err)
	}
}

func TestDeleteBatches(t *testing.T) {
	t.Parallel()
	handles := make([]string, 23)
	for i := range handles {
		handles[i] = string(rune('a' + i))
	}
	t.Run("Chunks", func(t *testing.T) {
		t.Parallel()
		var sizes []int
		seen := map[string]bool{}
		q := sqsqueue.New(&fakeClient{DeleteMessageBatchFunc: func(in *sqs.DeleteMessageBatchInput) (*sqs.DeleteMessageBatchOutput, error) {
			sizes = append(sizes, len(in.Entries))
			for _, e := range in.Entries {
				seen[aws.ToString(e.ReceiptHandle)] = true
			}
			return &sqs.DeleteMessageBatchOutput{}, nil
		}}, "http://127.0.0.1:5000/123456789012/tasks")
		if err := q.Delete(t.Context(), handles...); err != nil {
			t.Fatalf("Delete = %v; want nil", err)
		}
		if len(sizes) != 3 || sizes[0] != 10 || sizes[1] != 10 || sizes[2] != 3 || len(seen) != 23 {
			t.Errorf("batches of %v covering %d handles; want [10 10 3] covering 23", sizes, len(seen))
		}
		if err := q.Delete(t.Context()); err != nil {
			t.Errorf("Delete() = %v; want nil", err)
		}
	})
	t.Run("PartialFailure", func(t *testing.T) {
		t.Parallel()
		calls := 0
		q := sqsqueue.New(&fakeClient{DeleteMessageBatchFunc: func(in *sqs.DeleteMessageBatchInput) (*sqs.DeleteMessageBatchOutput, error) {
			calls++
			return &sqs.DeleteMessageBatchOutput{Failed: []types.BatchResultErrorEntry{{
				Id: in.Entries[0].Id, Code: aws.String("ReceiptHandleIsInvalid"), Message: aws.String("bad handle"), SenderFault: true,
			}}}, nil
		}}, "http://127.0.0.1:5000/123456789012/tasks")
		err := q.Delete(t.Context(), handles...)
		if err == nil || !strings.Contains(err.Error(), "3 of 23 failed") || !strings.Contains(err.Error(), "ReceiptHandleIsInvalid") {
			t.Errorf("Delete = %v; want an error naming 3 of 23 failed and the code", err)
		}
		if calls != 3 {
			t.Errorf("made %d calls; want 3 (all batches tried)", calls)
		}
	})
	t.Run("CallFails", func(t *testing.T) {
		t.Parallel()
		boom := errors.New("boom")
		q := sqsqueue.New(&fakeClient{DeleteMessageBatchFunc: func(*sqs.DeleteMessageBatchInput) (*sqs.DeleteMessageBatchOutput, error) {
			return nil, boom
		}}, "http://127.0.0.1:5000/123456789012/tasks")
		if err := q.Delete(t.Context(), handles...); !errors.Is(err, boom) {
			t.Errorf("Delete = %v; want a wrapped boom", err)
		}
	})
}

// TestMissingQueue checks that every call on a queue that does not exist
// fails with a *task.MissingResourceError naming the queue (by name, not
// by its URL, which holds the account id), whether the SDK returns its
// type or only the code.
func TestMissingQueue(t *testing.T) {
	t.Parallel()
	const url = "https://sqs.eu-north-1.amazonaws.com/123456789012/asyncprime-tasks"
	errs := map[string]error{
		"Typed": &types.QueueDoesNotExist{Message: aws.String("The specified queue does not exist.")},
		"QueryCode": &smithy.GenericAPIError{Code: "AWS.SimpleQueueService.NonExistentQueue",
			Message: "The specified queue does not exist for this wsdl version."},
	}
	calls := map[string]func(*sqsqueue.Queue) error{
		"Send": func(q *sqsqueue.Queue) error { _, err := q.Send(t.Context(), "{}"); return err },
		"SendBatch": func(q *sqsqueue.Queue) error {
			_, err := q.SendBatch(t.Context(), []string{"{}", "{}"})
			return err
		},
		"Receive": func(q *sqsqueue.Queue) error { _, err := q.Receive(t.Context(), 1, 0); return err },
		"Delete":  func(q *sqsqueue.Queue) error { return q.Delete(t.Context(), "h") },
	}
	for errName, sdkErr := range errs {
		gone := fmt.Errorf("operation error SQS: call, https response error StatusCode: 400: %w", sdkErr)
		client := &fakeClient{
			SendMessageFunc: func(*sqs.SendMessageInput) (*sqs.SendMessageOutput, error) { return nil, gone },
			SendMessageBatchFunc: func(context.Context, *sqs.SendMessageBatchInput) (*sqs.SendMessageBatchOutput, error) {
				return nil, gone
			},
			ReceiveMessageFunc: func(context.Context, *sqs.ReceiveMessageInput) (*sqs.ReceiveMessageOutput, error) {
				return nil, gone
			},
			DeleteMessageBatchFunc: func(*sqs.DeleteMessageBatchInput) (*sqs.DeleteMessageBatchOutput, error) { return nil, gone },
		}
		for name, call := range calls {
			t.Run(errName+"/"+name, func(t *testing.T) {
				t.Parallel()
				err := call(sqsqueue.New(client, url))
				missing, ok := errors.AsType[*task.MissingResourceError](err)
				switch {
				case !ok:
					t.Fatalf("got %v; want a *task.MissingResourceError", err)
				case missing.Kind != "queue" || missing.Name != "asyncprime-tasks":
					t.Errorf("missing = %s %s; want queue asyncprime-tasks", missing.Kind, missing.Name)
				case !errors.Is(err, task.ErrMissingResource) || !errors.Is(err, sdkErr):
					t.Errorf("got %v; want it to wrap ErrMissingResource and the SDK's error", err)
				}
			})
		}
	}
	// Another client error is not a missing queue.
	q := sqsqueue.New(&fakeClient{SendMessageFunc: func(*sqs.SendMessageInput) (*sqs.SendMessageOutput, error) {
		return nil, &smithy.GenericAPIError{Code: "AccessDenied", Message: "no"}
	}}, url)
	if _, err := q.Send(t.Context(), "{}"); errors.Is(err, task.ErrMissingResource) {
		t.Errorf("Send with AccessDenied = %v; want no ErrMissingResource", err)
	}
}

// samplingClient stands for SQS's sampled short polls: a receive with no
// wait answers empty although messages wait, as SQS may on a queue of few
// messages; a long poll answers with those not hidden.
type samplingClient struct {
	fakeClient
	msgs   []types.Message
	hidden map[string]bool
}

func (c *samplingClient) ReceiveMessage(_ context.Context, in *sqs.ReceiveMessageInput, _ ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error) {
	out := &sqs.ReceiveMessageOutput{}
	if in.WaitTimeSeconds == 0 {
		return out, nil // a false empty response
	}
	for _, m := range c.msgs {
		if len(out.Messages) < int(in.MaxNumberOfMessages) && !c.hidden[aws.ToString(m.MessageId)] {
			c.hidden[aws.ToString(m.MessageId)] = true
			out.Messages = append(out.Messages, m)
		}
	}
	return out, nil
}

func (c *samplingClient) ChangeMessageVisibilityBatch(context.Context, *sqs.ChangeMessageVisibilityBatchInput, ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityBatchOutput, error) {
	return &sqs.ChangeMessageVisibilityBatchOutput{}, nil
}

// TestPeekLongPolls: a peek's receives are long polls, so that SQS's
// sampled short polls, which may answer empty while a few messages wait,
// do not end it early: it sees every dead letter.
func TestPeekLongPolls(t *testing.T) {
	t.Parallel()
	c := &samplingClient{hidden: map[string]bool{}}
	for i := range 12 {
		id := fmt.Sprint("m", i)
		c.msgs = append(c.msgs, types.Message{MessageId: aws.String(id), Body: aws.String("b"), ReceiptHandle: aws.String("h" + id)})
	}
	q := sqsqueue.New(c, "http://127.0.0.1:5000/123456789012/tasks-dlq")
	peeked, err := q.Peek(t.Context(), 100)
	if err != nil || len(peeked) != len(c.msgs) {
		t.Errorf("Peek = %d messages, %v; want all %d", len(peeked), err, len(c.msgs))
	}
}
