package deadletter

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/asyncprime/asyncprime/internal/config"
	"github.com/asyncprime/asyncprime/internal/dynamo"
	"github.com/asyncprime/asyncprime/internal/metrics"
	"github.com/asyncprime/asyncprime/internal/sqsqueue"
	"github.com/asyncprime/asyncprime/internal/task"
)

// SQSClient is the part of the SQS API the dead-letter function calls:
// ReceiveMessage and ChangeMessageVisibilityBatch (a peek). *sqs.Client
// implements it.
type SQSClient interface {
	sqsqueue.Client
	sqsqueue.VisibilityClient
}

// Function is the dead-letter function: each invocation (a scheduled
// event, whose content it ignores) runs a settle round on each
// dead-letter queue. It lives as long as the execution environment, so
// that a warm one remembers what the last round saw.
type Function struct {
	Settlers []*Settler
	Logger   *slog.Logger
}

// SQSRedriveGrace is how long the settlers of an SQS dead-letter queue
// leave a dead letter whose task is not final before they settle it (see
// Settler.Grace): SQS's StartMessageMoveTask moves the messages of a
// redrive in the background, after the tasks were reopened. It must not
// hang on the schedule alone: two runs can come close together (a
// throttled scheduled event is retried later).
const SQSRedriveGrace = time.Minute

// NewFunction wires the dead-letter function to SQS and DynamoDB, as its
// environment says. obs, if not nil, is told of each FAILURE it records
// (the function passes metrics.EMF, so that the dashboard's failed tasks
// count the dead-lettered ones too).
func NewFunction(env config.DeadLetter, sqsClient SQSClient, db dynamo.Client, region string, obs metrics.Observer, log *slog.Logger) *Function {
	var store task.Store = dynamo.New(db, env.TableName)
	if obs != nil {
		store = metrics.Observe(store, obs)
	}
	reaper := &task.Reaper{Store: store, Retention: env.Retention, Logger: log}
	f := &Function{Logger: log}
	for _, q := range []struct{ name, url string }{{"tasks-dlq", env.DeadLetterQueueURL}, {"tasks-big-dlq", env.BigDeadLetterQueueURL}} {
		f.Settlers = append(f.Settlers, &Settler{
			Name:  q.name,
			Queue: PeekFunc(sqsqueue.New(sqsClient, q.url, sqsqueue.WithRegion(region)).Peek),
			Store: store, Reaper: reaper, Grace: SQSRedriveGrace, Logger: log,
		})
	}
	return f
}

// Handle runs a round on each dead-letter queue. It fails if a round
// failed (the next invocation goes on where it stopped).
func (f *Function) Handle(ctx context.Context) error {
	var errs []error
	for _, s := range f.Settlers {
		r, err := s.Settle(ctx)
		f.Logger.InfoContext(ctx, "settle round", slog.String("queue", s.Name), slog.Int("peeked", r.Peeked), slog.Int("settled", r.Settled),
			slog.Int("waiting", r.Waiting), slog.Int("final", r.Final), slog.Int("poison", r.Poison), slog.Int("unknown_task", r.Unknown))
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
