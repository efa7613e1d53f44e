package sqsqueue_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/asyncprime/asyncprime/internal/sqsqueue"
)

// TestSendBatchCallsAtOnce: a batch of 95 is ten SendMessageBatch calls in
// flight together (each waits until all ten have arrived; calls made one
// after another give up waiting, after a minute), and the ids come back
// in the bodies' order.
func TestSendBatchCallsAtOnce(t *testing.T) {
	t.Parallel()
	var (
		mu      sync.Mutex
		arrived int
		all     = make(chan struct{})
	)
	q := sqsqueue.New(&fakeClient{SendMessageBatchFunc: func(ctx context.Context, in *sqs.SendMessageBatchInput) (*sqs.SendMessageBatchOutput, error) {
		mu.Lock()
		if arrived++; arrived == 10 {
			close(all)
		}
		mu.Unlock()
		select {
		case <-all:
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(time.Minute):
			return nil, errors.New("the other calls did not come: calls made one after another")
		}
		out := &sqs.SendMessageBatchOutput{}
		for _, e := range in.Entries {
			out.Successful = append(out.Successful, types.SendMessageBatchResultEntry{Id: e.Id, MessageId: aws.String("m-" + aws.ToString(e.MessageBody))})
		}
		return out, nil
	}}, "http://127.0.0.1:5000/123456789012/tasks")
	bodies := make([]string, 95)
	for i := range bodies {
		bodies[i] = fmt.Sprint(i)
	}
	ids, err := q.SendBatch(t.Context(), bodies)
	if err != nil {
		t.Fatalf("SendBatch = %v; want nil", err)
	}
	for i, id := range ids {
		if id != "m-"+bodies[i] {
			t.Fatalf("ids[%d] = %q; want %q (the bodies' order)", i, id, "m-"+bodies[i])
		}
	}
}

// TestSendBatchRefusedChunk: one chunk refused by the sender's fault fails
// the batch, and the calls still in flight are cancelled.
func TestSendBatchRefusedChunk(t *testing.T) {
	t.Parallel()
	q := sqsqueue.New(&fakeClient{SendMessageBatchFunc: func(ctx context.Context, in *sqs.SendMessageBatchInput) (*sqs.SendMessageBatchOutput, error) {
		if aws.ToString(in.Entries[0].Id) == "10" {
			return &sqs.SendMessageBatchOutput{Failed: []types.BatchResultErrorEntry{{
				Id: in.Entries[0].Id, Code: aws.String("InvalidMessageContents"), Message: aws.String("no"), SenderFault: true,
			}}}, nil
		}
		<-ctx.Done() // the others wait until cancelled
		return nil, ctx.Err()
	}}, "http://127.0.0.1:5000/123456789012/tasks")
	_, err := q.SendBatch(t.Context(), make([]string, 30))
	if err == nil || !strings.Contains(err.Error(), "InvalidMessageContents") {
		t.Fatalf("SendBatch = %v; want the refused entry's error", err)
	}
}
