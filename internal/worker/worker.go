// Package worker is the SQS side of the system as Lambda sees it: a handler
// that takes an events.SQSEvent batch and returns an events.SQSEventResponse
// naming the records to retry (partial batch failures), so that one bad
// record never fails the batch. The worker function runs it under
// lambda.Start; the local mode's poller calls it with the same events.
package worker

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/asyncprime/asyncprime/internal/queue"
	"github.com/asyncprime/asyncprime/internal/task"
)

// Processor runs one delivery of a job.
type Processor interface {
	Process(ctx context.Context, d task.Delivery) error
}

// DefaultReserve is the time kept back before the invocation's deadline: the
// slowest check under the digit cap takes about a second, plus the writes.
const DefaultReserve = 2 * time.Second

// Handler runs a batch of SQS records.
type Handler struct {
	Processor Processor
	// Reserve is how close to the deadline the handler stops taking new
	// records; those left are reported as failures and come back after
	// their visibility timeout. DefaultReserve if zero.
	Reserve time.Duration
	Logger  *slog.Logger // slog.Default() if nil
}

// Handle is the Lambda handler. It never returns an error: every record
// is either done (and SQS deletes it) or listed in BatchItemFailures.
func (h *Handler) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	log := h.logger()
	var resp events.SQSEventResponse
	for i, rec := range ev.Records {
		if h.nearDeadline(ctx) {
			log.WarnContext(ctx, "deadline near; returning the rest of the batch",
				slog.Int("unprocessed", len(ev.Records)-i))
			for _, rest := range ev.Records[i:] {
				resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: rest.MessageId})
			}
			break
		}
		d := task.Delivery{Body: rec.Body, ReceiveCount: receiveCount(rec)}
		if err := h.Processor.Process(ctx, d); err != nil {
			level := slog.LevelWarn
			if _, poison := errors.AsType[*task.PoisonError](err); poison {
				level = slog.LevelError
			}
			log.Log(ctx, level, "record failed; it will be retried",
				slog.String("message_id", rec.MessageId),
				slog.Int("receive_count", d.ReceiveCount),
				slog.Any("error", err))
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: rec.MessageId})
		}
	}
	return resp, nil
}

func (h *Handler) nearDeadline(ctx context.Context) bool {
	if ctx.Err() != nil {
		return true
	}
	deadline, ok := ctx.Deadline()
	if !ok {
		return false
	}
	reserve := h.Reserve
	if reserve <= 0 {
		reserve = DefaultReserve
	}
	return time.Until(deadline) < reserve
}

// receiveCount reads ApproximateReceiveCount; a record without it is taken
// as a first delivery.
func receiveCount(rec events.SQSMessage) int {
	n, err := strconv.Atoi(rec.Attributes[queue.AttrReceiveCount])
	if err != nil || n < 1 {
		return 1
	}
	return n
}

func (h *Handler) logger() *slog.Logger {
	if h.Logger != nil {
		return h.Logger
	}
	return slog.Default()
}
