package sqsqueue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"

	"github.com/asyncprime/asyncprime/internal/queue"
)

// AdminClient is the part of the SQS API an operator's console uses:
// counts, a look at the dead letters, redrive and purge. *sqs.Client
// implements it. None of it is granted to the functions' roles; see the
// README for the operator's permissions.
type AdminClient interface {
	Client
	VisibilityClient
	GetQueueAttributes(ctx context.Context, in *sqs.GetQueueAttributesInput, optFns ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error)
	GetQueueUrl(ctx context.Context, in *sqs.GetQueueUrlInput, optFns ...func(*sqs.Options)) (*sqs.GetQueueUrlOutput, error)
	StartMessageMoveTask(ctx context.Context, in *sqs.StartMessageMoveTaskInput, optFns ...func(*sqs.Options)) (*sqs.StartMessageMoveTaskOutput, error)
	PurgeQueue(ctx context.Context, in *sqs.PurgeQueueInput, optFns ...func(*sqs.Options)) (*sqs.PurgeQueueOutput, error)
}

var _ AdminClient = (*sqs.Client)(nil)

// ErrNoDeadLetterQueue means the queue has no redrive policy.
var ErrNoDeadLetterQueue = errors.New("the queue has no dead-letter queue (no RedrivePolicy)")

// dlqURLs caches the dead-letter queue URL of each source queue URL.
var dlqURLs sync.Map

func (q *Queue) admin() (AdminClient, error) {
	c, ok := q.client.(AdminClient)
	if !ok {
		return nil, fmt.Errorf("queue %s: the SQS client has no admin calls (GetQueueAttributes, StartMessageMoveTask...)", q.url)
	}
	return c, nil
}

// deadLetterAdmin returns the admin client and the dead-letter queue's URL.
func (q *Queue) deadLetterAdmin(ctx context.Context) (AdminClient, string, error) {
	c, err := q.admin()
	if err != nil {
		return nil, "", err
	}
	dlq, err := q.DeadLetterURL(ctx)
	return c, dlq, err
}

// Counts reports the queue's approximate counts from GetQueueAttributes.
// SQS does not report the age of the oldest message there (only as the
// CloudWatch metric ApproximateAgeOfOldestMessage), so Oldest stays zero.
func (q *Queue) Counts(ctx context.Context) (queue.Counts, error) {
	c, err := q.admin()
	if err != nil {
		return queue.Counts{}, err
	}
	return counts(ctx, c, q.url)
}

func counts(ctx context.Context, c AdminClient, url string) (queue.Counts, error) {
	out, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(url),
		AttributeNames: []types.QueueAttributeName{
			types.QueueAttributeNameApproximateNumberOfMessages,
			types.QueueAttributeNameApproximateNumberOfMessagesNotVisible,
			types.QueueAttributeNameApproximateNumberOfMessagesDelayed,
		},
	})
	if err = missing(err, url); err != nil {
		return queue.Counts{}, fmt.Errorf("get attributes of %s: %w", url, err)
	}
	n := func(name types.QueueAttributeName) int {
		v, _ := strconv.Atoi(out.Attributes[string(name)])
		return v
	}
	return queue.Counts{
		Visible:  n(types.QueueAttributeNameApproximateNumberOfMessages),
		InFlight: n(types.QueueAttributeNameApproximateNumberOfMessagesNotVisible),
		Delayed:  n(types.QueueAttributeNameApproximateNumberOfMessagesDelayed),
	}, nil
}

// DeadLetterURL returns the URL of the queue's dead-letter queue, found
// through its RedrivePolicy.
func (q *Queue) DeadLetterURL(ctx context.Context) (string, error) {
	if v, ok := dlqURLs.Load(q.url); ok {
		return v.(string), nil
	}
	c, err := q.admin()
	if err != nil {
		return "", err
	}
	out, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl:       aws.String(q.url),
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameRedrivePolicy},
	})
	if err != nil {
		return "", fmt.Errorf("get the redrive policy of %s: %w", q.url, err)
	}
	var policy struct {
		DeadLetterTargetArn string `json:"deadLetterTargetArn"`
	}
	raw := out.Attributes[string(types.QueueAttributeNameRedrivePolicy)]
	if raw == "" {
		return "", fmt.Errorf("queue %s: %w", q.url, ErrNoDeadLetterQueue)
	}
	if err := json.Unmarshal([]byte(raw), &policy); err != nil {
		return "", fmt.Errorf("queue %s: redrive policy %q: %w", q.url, raw, err)
	}
	f := strings.SplitN(policy.DeadLetterTargetArn, ":", 6)
	if len(f) != 6 {
		return "", fmt.Errorf("queue %s: dead-letter target %q is not a queue ARN", q.url, policy.DeadLetterTargetArn)
	}
	u, err := c.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(f[5]), QueueOwnerAWSAccountId: aws.String(f[4])})
	if err != nil {
		return "", fmt.Errorf("get the URL of dead-letter queue %s: %w", f[5], err)
	}
	dlqURLs.Store(q.url, aws.ToString(u.QueueUrl))
	return aws.ToString(u.QueueUrl), nil
}

// DeadLetterCounts reports the dead-letter queue's approximate counts.
func (q *Queue) DeadLetterCounts(ctx context.Context) (queue.Counts, error) {
	c, dlq, err := q.deadLetterAdmin(ctx)
	if err != nil {
		return queue.Counts{}, err
	}
	return counts(ctx, c, dlq)
}

// PeekDeadLetters looks at up to limit messages of the dead-letter queue
// and leaves them there; see Peek.
func (q *Queue) PeekDeadLetters(ctx context.Context, limit int) ([]queue.Peeked, error) {
	c, dlq, err := q.deadLetterAdmin(ctx)
	if err != nil {
		return nil, err
	}
	return peek(ctx, c, dlq, limit)
}

// Peek looks at up to limit messages of this queue (a dead-letter queue,
// whose URL the dead-letter function is given) and leaves them there. It
// needs sqs:ReceiveMessage and sqs:ChangeMessageVisibility only.
func (q *Queue) Peek(ctx context.Context, limit int) ([]queue.Peeked, error) {
	c, ok := q.client.(peekClient)
	if !ok {
		return nil, fmt.Errorf("queue %s: the SQS client cannot change a message's visibility (ChangeMessageVisibilityBatch)", q.url)
	}
	return peek(ctx, c, q.url, limit)
}

// VisibilityClient is the SQS call a peek adds to Client's ReceiveMessage.
type VisibilityClient interface {
	ChangeMessageVisibilityBatch(ctx context.Context, in *sqs.ChangeMessageVisibilityBatchInput, optFns ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityBatchOutput, error)
}

// peekClient is the part of the SQS API a peek uses.
type peekClient interface {
	ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, optFns ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	VisibilityClient
}

// peek receives up to limit messages of the queue at url, in batches of
// queue.MaxBatch holding those received hidden (for peekVisibility) so
// that the next batch brings others, then makes them all visible again
// (ChangeMessageVisibilityBatch to 0): SQS has no other way to look at
// messages. It stops at the first empty receive, a long poll (peekWait).
// Each look adds one to the messages' ApproximateReceiveCount, which
// nothing reads on a dead-letter queue.
func peek(ctx context.Context, c peekClient, url string, limit int) ([]queue.Peeked, error) {
	limit = max(limit, 1)
	var (
		peeked  []queue.Peeked
		handles []*string
		ids     = make(map[string]bool)
	)
	release := func() error {
		for chunk := range slices.Chunk(handles, queue.MaxBatch) {
			entries := make([]types.ChangeMessageVisibilityBatchRequestEntry, len(chunk))
			for i, h := range chunk {
				entries[i] = types.ChangeMessageVisibilityBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: h, VisibilityTimeout: 0}
			}
			// Should this fail, the messages reappear after peekVisibility.
			if _, err := c.ChangeMessageVisibilityBatch(context.WithoutCancel(ctx), &sqs.ChangeMessageVisibilityBatchInput{QueueUrl: aws.String(url), Entries: entries}); err != nil {
				return fmt.Errorf("peek at %s: make the messages visible again: %w", url, err)
			}
		}
		return nil
	}
	for len(peeked) < limit {
		out, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl:                    aws.String(url),
			MaxNumberOfMessages:         int32(min(limit-len(peeked), queue.MaxBatch)),
			VisibilityTimeout:           peekVisibility,
			WaitTimeSeconds:             peekWait,
			MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameSentTimestamp, types.MessageSystemAttributeNameApproximateReceiveCount},
		})
		if err != nil {
			if rerr := release(); rerr != nil {
				err = errors.Join(err, rerr)
			}
			return nil, fmt.Errorf("peek at %s: %w", url, err)
		}
		for _, m := range out.Messages {
			handles = append(handles, m.ReceiptHandle)
			id := aws.ToString(m.MessageId)
			if ids[id] {
				continue // its hiding ran out meanwhile
			}
			ids[id] = true
			ms, _ := strconv.ParseInt(m.Attributes[string(types.MessageSystemAttributeNameSentTimestamp)], 10, 64)
			rc, _ := strconv.Atoi(m.Attributes[string(types.MessageSystemAttributeNameApproximateReceiveCount)])
			p := queue.Peeked{ID: id, Body: aws.ToString(m.Body), ReceiveCount: rc}
			if ms > 0 {
				p.Sent = time.UnixMilli(ms)
			}
			peeked = append(peeked, p)
		}
		if len(out.Messages) == 0 {
			break
		}
	}
	if err := release(); err != nil {
		return nil, err
	}
	return peeked, nil
}

// RedriveDeadLetters moves the dead-letter queue's messages back to this
// queue with SQS's StartMessageMoveTask, which runs on its own: the result
// is Async, with the task handle and the count when it started. Where the
// API lacks StartMessageMoveTask (moto), it moves them itself: it receives
// a batch from the dead-letter queue, sends it here, and only then deletes
// it there, so that an interrupted move may leave a message in both queues
// (processing it twice changes nothing), never in neither.
func (q *Queue) RedriveDeadLetters(ctx context.Context) (queue.Redrive, error) {
	c, dlq, err := q.deadLetterAdmin(ctx)
	if err != nil {
		return queue.Redrive{}, err
	}
	before, err := counts(ctx, c, dlq)
	if err != nil {
		return queue.Redrive{}, err
	}
	srcARN, err := arnOf(ctx, c, dlq)
	if err != nil {
		return queue.Redrive{}, err
	}
	dstARN, err := arnOf(ctx, c, q.url)
	if err != nil {
		return queue.Redrive{}, err
	}
	// Not retried: an emulator without the call answers 500, and the
	// fallback below is as safe.
	out, err := c.StartMessageMoveTask(ctx, &sqs.StartMessageMoveTaskInput{SourceArn: aws.String(srcARN), DestinationArn: aws.String(dstARN)},
		func(o *sqs.Options) { o.RetryMaxAttempts = 1 })
	if err == nil {
		return queue.Redrive{Moved: before.Total(), Async: true, TaskHandle: aws.ToString(out.TaskHandle)}, nil
	}
	if !unsupported(err) {
		return queue.Redrive{}, fmt.Errorf("start moving the messages of %s to %s: %w", dlq, q.url, err)
	}
	return q.moveAll(ctx, c, dlq)
}

// unsupported reports whether err says that the API does not know the
// call: an error code saying so, or an answer that is not SQS's JSON at all
// (moto answers StartMessageMoveTask with a 500 HTML page).
func unsupported(err error) bool {
	if _, ok := errors.AsType[*smithy.DeserializationError](err); ok {
		return true
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return false
	}
	switch ae.ErrorCode() {
	case "InvalidAction", "UnsupportedOperation", "NotImplemented", "UnknownOperationException":
		return true
	}
	return strings.Contains(strings.ToLower(ae.ErrorMessage()), "not yet implemented")
}

// peekVisibility hides a peeked message until ChangeMessageVisibilityBatch
// shows it again (SQS's ReceiveMessage cannot say 0: the SDK leaves a zero
// out), long enough for the other batches of one peek.
const peekVisibility = 10

// peekWait makes a peek's receives long polls, of a second: a short poll
// asks only some of SQS's servers, and on a queue of few messages (a
// dead-letter queue) may answer empty while messages wait ("false empty
// responses", in SQS's guide to long polling). The first empty receive
// ends a peek, which would then miss them: a redrive would not reopen their
// tasks, the dead-letter function would not settle them. A long poll asks
// every server and returns as soon as it has messages; only the last,
// empty receive waits the second out.
const peekWait = 1

// moveVisibility hides the messages being moved from other consumers.
const moveVisibility = 60

// moveAll moves the dead-letter queue's messages to q a batch at a time:
// send, then delete.
func (q *Queue) moveAll(ctx context.Context, c AdminClient, dlq string) (queue.Redrive, error) {
	var res queue.Redrive
	for {
		out, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl:            aws.String(dlq),
			MaxNumberOfMessages: queue.MaxBatch,
			VisibilityTimeout:   moveVisibility,
			WaitTimeSeconds:     peekWait,
		})
		if err != nil {
			return res, fmt.Errorf("move from %s after %d messages: receive: %w", dlq, res.Moved, err)
		}
		if len(out.Messages) == 0 {
			return res, nil
		}
		send := make([]types.SendMessageBatchRequestEntry, len(out.Messages))
		for i, m := range out.Messages {
			send[i] = types.SendMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), MessageBody: m.Body}
		}
		sent, err := c.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(q.url), Entries: send})
		if err != nil {
			return res, fmt.Errorf("move from %s after %d messages: send: %w", dlq, res.Moved, err)
		}
		var del []types.DeleteMessageBatchRequestEntry
		for _, ok := range sent.Successful {
			i, _ := strconv.Atoi(aws.ToString(ok.Id))
			del = append(del, types.DeleteMessageBatchRequestEntry{Id: ok.Id, ReceiptHandle: out.Messages[i].ReceiptHandle})
		}
		if len(del) > 0 {
			if _, err := c.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(dlq), Entries: del}); err != nil {
				return res, fmt.Errorf("move from %s after %d messages: delete (the batch is now in both queues): %w", dlq, res.Moved, err)
			}
		}
		res.Moved += len(del)
		if len(sent.Failed) > 0 {
			return res, fmt.Errorf("move from %s after %d messages: %d sends failed; first: %s", dlq, res.Moved, len(sent.Failed), aws.ToString(sent.Failed[0].Message))
		}
	}
}

// PurgeDeadLetters deletes every message of the dead-letter queue with
// PurgeQueue and returns how many it held just before (approximate). SQS
// finishes a purge within 60 seconds, and allows one a minute.
func (q *Queue) PurgeDeadLetters(ctx context.Context) (int, error) {
	c, dlq, err := q.deadLetterAdmin(ctx)
	if err != nil {
		return 0, err
	}
	before, err := counts(ctx, c, dlq)
	if err != nil {
		return 0, err
	}
	if _, err := c.PurgeQueue(ctx, &sqs.PurgeQueueInput{QueueUrl: aws.String(dlq)}); err != nil {
		return 0, fmt.Errorf("purge %s: %w", dlq, err)
	}
	return before.Total(), nil
}

func arnOf(ctx context.Context, c AdminClient, url string) (string, error) {
	out, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl:       aws.String(url),
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameQueueArn},
	})
	if err != nil {
		return "", fmt.Errorf("get the ARN of %s: %w", url, err)
	}
	return out.Attributes[string(types.QueueAttributeNameQueueArn)], nil
}
