package sqsqueue

import (
	"context"
	"fmt"
	"github.com/asyncprime/asyncprime/internal/queue"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// batchAttempts bounds the calls SendBatch makes for the entries of one
// chunk that SQS refuses with a server fault (SenderFault false).
const batchAttempts = 3

// SendBatch implements queue.Queue with SendMessageBatch calls of up to
// queue.MaxBatch messages each. Entries SQS refuses are sent again, up to
// batchAttempts calls, unless SQS says the fault is the sender's; an
// entry still refused makes SendBatch return an error naming how many, so
// that the caller can roll back. IAM authorises SendMessageBatch as
// sqs:SendMessage.
func (q *Queue) SendBatch(ctx context.Context, bodies []string) ([]string, error) {
	ids := make([]string, len(bodies))
	for start := 0; start < len(bodies); start += queue.MaxBatch {
		pending := make(map[int]bool)
		for i := start; i < min(start+queue.MaxBatch, len(bodies)); i++ {
			pending[i] = true
		}
		for attempt := 1; len(pending) > 0; attempt++ {
			entries := make([]types.SendMessageBatchRequestEntry, 0, len(pending))
			for i := start; i < min(start+queue.MaxBatch, len(bodies)); i++ {
				if pending[i] {
					entries = append(entries, types.SendMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), MessageBody: aws.String(bodies[i])})
				}
			}
			out, err := q.client.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(q.url), Entries: entries})
			if err != nil {
				return nil, fmt.Errorf("send %d messages to %s: %w", len(entries), q.url, err)
			}
			for _, ok := range out.Successful {
				i, err := strconv.Atoi(aws.ToString(ok.Id))
				if err != nil || !pending[i] {
					return nil, fmt.Errorf("send messages to %s: unexpected entry id %q in the answer", q.url, aws.ToString(ok.Id))
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
				return nil, fmt.Errorf("send messages to %s: %d of %d not sent after %d calls; first: %s",
					q.url, len(pending), len(bodies), attempt, first)
			}
		}
	}
	return ids, nil
}
