package sqsqueue

import (
	"context"
	"fmt"
	"strconv"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/asyncprime/asyncprime/internal/queue"
)

// batchAttempts bounds the calls SendBatch makes for the entries of one
// chunk that SQS refuses with a server fault (SenderFault false).
const batchAttempts = 3

// SendBatch implements queue.Queue with SendMessageBatch calls of up to
// queue.MaxBatch messages each, made at once: a batch of 100 waits for
// the slowest of ten calls rather than for their sum. Entries SQS refuses
// are sent again, up to batchAttempts calls, unless SQS says the fault is
// the sender's; an entry still refused makes SendBatch return an error
// naming how many, so that the caller can roll back (the other calls are
// cancelled). IAM authorises SendMessageBatch as sqs:SendMessage.
func (q *Queue) SendBatch(ctx context.Context, bodies []string) ([]string, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ids := make([]string, len(bodies))
	var (
		wg    sync.WaitGroup
		once  sync.Once
		first error
	)
	for start := 0; start < len(bodies); start += queue.MaxBatch {
		wg.Go(func() {
			// Each call fills its own part of ids.
			if err := q.sendChunk(ctx, bodies, ids, start, min(start+queue.MaxBatch, len(bodies))); err != nil {
				once.Do(func() { first = err; cancel() })
			}
		})
	}
	wg.Wait()
	if first != nil {
		return nil, first
	}
	return ids, nil
}

// sendChunk sends bodies[start:end], at most queue.MaxBatch, and records
// their message ids in ids.
func (q *Queue) sendChunk(ctx context.Context, bodies, ids []string, start, end int) error {
	pending := make(map[int]bool, end-start)
	for i := start; i < end; i++ {
		pending[i] = true
	}
	for attempt := 1; len(pending) > 0; attempt++ {
		entries := make([]types.SendMessageBatchRequestEntry, 0, len(pending))
		for i := start; i < end; i++ {
			if pending[i] {
				entries = append(entries, types.SendMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), MessageBody: aws.String(bodies[i])})
			}
		}
		out, err := q.client.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(q.url), Entries: entries})
		if err = missing(err, q.url); err != nil {
			return fmt.Errorf("send %d messages to %s: %w", len(entries), q.url, err)
		}
		for _, ok := range out.Successful {
			i, err := strconv.Atoi(aws.ToString(ok.Id))
			if err != nil || !pending[i] {
				return fmt.Errorf("send messages to %s: unexpected entry id %q in the answer", q.url, aws.ToString(ok.Id))
			}
			ids[i] = aws.ToString(ok.MessageId)
			delete(pending, i)
		}
		if len(out.Failed) == 0 && len(pending) == 0 {
			break
		}
		senderFault := false
		for _, f := range out.Failed {
			senderFault = senderFault || f.SenderFault
		}
		if senderFault || attempt >= batchAttempts || len(out.Failed) == 0 {
			first := "no answer for some entries"
			if len(out.Failed) > 0 {
				first = aws.ToString(out.Failed[0].Code) + ": " + aws.ToString(out.Failed[0].Message)
			}
			return fmt.Errorf("send messages to %s: %d of %d not sent after %d calls; first: %s",
				q.url, len(pending), end-start, attempt, first)
		}
	}
	return nil
}
