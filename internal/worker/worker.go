// Package worker is the SQS side of the system as Lambda sees it: a handler
// that takes an events.SQSEvent batch and returns an events.SQSEventResponse
// naming the records to retry (partial batch failures), so that one bad
// record never fails the batch. The worker function runs it under
// lambda.Start; the local mode's poller calls it with the same events.
package worker

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"strconv"
	"sync"
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

// answerMargin is the time kept for the answer after the records' work
// must end: encoding it and posting it to the Lambda runtime API.
const answerMargin = 300 * time.Millisecond

// DefaultTimeout is the worker function's timeout: the template's
// WorkerTimeout default.
const DefaultTimeout = 10 * time.Second

// DefaultConcurrency is how many records of a batch run at once: a whole
// batch, since a record mostly waits on the store.
const DefaultConcurrency = 10

// Handler runs a batch of SQS records.
type Handler struct {
	Processor Processor
	// Concurrency bounds the records of one batch processed at once.
	// DefaultConcurrency if zero.
	Concurrency int
	// Reserve is how close to the deadline the handler stops taking new
	// records; those left are reported as failures and come back after
	// their visibility timeout. DefaultReserve if zero.
	Reserve time.Duration
	Logger  *slog.Logger // slog.Default() if nil
}

// Handle is the Lambda handler. It never returns an error: every record
// is either done (and SQS deletes it) or listed in BatchItemFailures, in the
// batch's order.
func (h *Handler) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	// The records' work ends answerMargin before the invocation does: a
	// store call that hangs must not hold the answer past the deadline,
	// where Lambda counts a timeout, loses the list of failures and returns
	// the whole batch, its done records too, to the queue.
	work := ctx
	if deadline, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		work, cancel = context.WithDeadline(ctx, deadline.Add(-answerMargin))
		defer cancel()
	}
	failed := make([]bool, len(ev.Records))
	sem := make(chan struct{}, cmp.Or(h.Concurrency, DefaultConcurrency))
	var wg sync.WaitGroup
	skipped := 0
	for i, rec := range ev.Records {
		sem <- struct{}{}
		if h.nearDeadline(ctx) {
			skipped = len(ev.Records) - i
			for j := i; j < len(ev.Records); j++ {
				failed[j] = true
			}
			break
		}
		wg.Go(func() {
			defer func() { <-sem }()
			failed[i] = !h.process(work, rec)
		})
	}
	wg.Wait()
	switch log := cmp.Or(h.Logger, slog.Default()); {
	case skipped > 0 && skipped == len(ev.Records):
		log.WarnContext(ctx, "no time to process any record: the invocation's timeout leaves less than the reserve; the batch goes back to the queue",
			slog.Int("unprocessed", skipped), slog.Duration("reserve", cmp.Or(h.Reserve, DefaultReserve)))
	case skipped > 0:
		log.WarnContext(ctx, "deadline near; returning the rest of the batch", slog.Int("unprocessed", skipped))
	}
	var resp events.SQSEventResponse
	for i, f := range failed {
		if f {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: ev.Records[i].MessageId})
		}
	}
	return resp, nil
}

// process runs one record and reports whether it is done with.
func (h *Handler) process(ctx context.Context, rec events.SQSMessage) bool {
	d := task.Delivery{Body: rec.Body, ReceiveCount: receiveCount(rec)}
	err := h.Processor.Process(ctx, d)
	if err == nil {
		return true
	}
	log := cmp.Or(h.Logger, slog.Default())
	if missing, ok := errors.AsType[*task.MissingResourceError](err); ok {
		// No retry mends it, but the message goes back all the same: once
		// an operator restores the resource, the task runs.
		log.ErrorContext(ctx, "record failed: the "+missing.Kind+" "+missing.Name+" does not exist, a fault of the deployment or its configuration; the record goes back to the queue",
			slog.String("message_id", rec.MessageId),
			slog.Int("receive_count", d.ReceiveCount),
			slog.String("missing", missing.Kind+" "+missing.Name),
			slog.Any("error", err))
		return false
	}
	level := slog.LevelWarn
	if _, poison := errors.AsType[*task.PoisonError](err); poison {
		level = slog.LevelError
	}
	log.Log(ctx, level, "record failed; it will be retried",
		slog.String("message_id", rec.MessageId),
		slog.Int("receive_count", d.ReceiveCount),
		slog.Any("error", err))
	return false
}

func (h *Handler) nearDeadline(ctx context.Context) bool {
	if ctx.Err() != nil {
		return true
	}
	deadline, ok := ctx.Deadline()
	if !ok {
		return false
	}
	return time.Until(deadline) < cmp.Or(h.Reserve, DefaultReserve)
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
