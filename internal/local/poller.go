package local

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// SQSFunc is the signature of an SQS-triggered Lambda handler that reports
// partial batch failures.
type SQSFunc func(context.Context, events.SQSEvent) (events.SQSEventResponse, error)

// Source is the part of a queue the poller needs.
type Source interface {
	Receive(ctx context.Context, max int, wait time.Duration) ([]events.SQSMessage, error)
	Delete(ctx context.Context, receiptHandles ...string) error
}

// Poller plays the part of Lambda's SQS event source mapping with
// ReportBatchItemFailures: it receives batches, invokes the handler with a
// deadline, and deletes the records the handler did not report as failures.
// Failed records come back after their visibility timeout.
type Poller struct {
	Queue   Source
	Handler SQSFunc
	// BatchSize is the largest batch per invocation (1 to 10).
	BatchSize int
	// WaitTime is the long-poll wait of each receive.
	WaitTime time.Duration
	// Concurrency is the number of invocations at once.
	Concurrency int
	// FunctionTimeout is each invocation's deadline, as the function's
	// Timeout in the template.
	FunctionTimeout time.Duration
	Logger          *slog.Logger
}

// Run polls until ctx is done, then lets the batches in flight finish.
func (p *Poller) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for range max(p.Concurrency, 1) {
		wg.Go(func() { p.loop(ctx) })
	}
	wg.Wait()
}

const (
	minBackoff = 50 * time.Millisecond
	maxBackoff = 5 * time.Second
)

func (p *Poller) loop(ctx context.Context) {
	backoff := minBackoff
	for ctx.Err() == nil {
		msgs, err := p.Queue.Receive(ctx, p.BatchSize, p.WaitTime)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			cmp.Or(p.Logger, slog.Default()).WarnContext(ctx, "receive failed; backing off", slog.Duration("backoff", backoff), slog.Any("error", err))
			sleep(ctx, backoff/2+rand.N(backoff/2+1))
			backoff = min(2*backoff, maxBackoff)
			continue
		}
		backoff = minBackoff
		if len(msgs) > 0 {
			// The batch finishes even if ctx ends meanwhile: a graceful stop.
			p.invoke(context.WithoutCancel(ctx), msgs)
		}
	}
}

// invoke runs one batch and deletes what succeeded.
func (p *Poller) invoke(ctx context.Context, msgs []events.SQSMessage) {
	ictx, cancel := context.WithTimeout(ctx, p.FunctionTimeout)
	resp, err := p.call(ictx, events.SQSEvent{Records: msgs})
	cancel()
	if err != nil {
		cmp.Or(p.Logger, slog.Default()).ErrorContext(ctx, "worker invocation failed; the whole batch will be retried", slog.Int("records", len(msgs)), slog.Any("error", err))
		return
	}
	failed := make(map[string]bool, len(resp.BatchItemFailures))
	for _, f := range resp.BatchItemFailures {
		failed[f.ItemIdentifier] = true
	}
	handles := make([]string, 0, len(msgs))
	known := 0
	for _, m := range msgs {
		if failed[m.MessageId] {
			known++
			continue
		}
		handles = append(handles, m.ReceiptHandle)
	}
	if known != len(failed) {
		// As Lambda does: a failure naming no record of the batch fails it all.
		cmp.Or(p.Logger, slog.Default()).ErrorContext(ctx, "batchItemFailures names unknown records; the whole batch will be retried")
		return
	}
	if len(handles) == 0 {
		return
	}
	// A delete that fails is harmless: the records come back, and
	// processing them again changes nothing.
	for attempt, backoff := 1, minBackoff; ; attempt, backoff = attempt+1, 2*backoff {
		err := p.Queue.Delete(ctx, handles...)
		if err == nil {
			return
		}
		if attempt == 3 {
			cmp.Or(p.Logger, slog.Default()).WarnContext(ctx, "delete failed; the records will be delivered again", slog.Int("records", len(handles)), slog.Any("error", err))
			return
		}
		sleep(ctx, backoff)
	}
}

func (p *Poller) call(ctx context.Context, ev events.SQSEvent) (resp events.SQSEventResponse, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("handler panicked: %v", r)
		}
	}()
	return p.Handler(ctx, ev)
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
