package local

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/asyncprime/asyncprime/internal/bolt"
	"github.com/asyncprime/asyncprime/internal/deadletter"
	"github.com/asyncprime/asyncprime/internal/memory"
	"github.com/asyncprime/asyncprime/internal/queue"
	"github.com/asyncprime/asyncprime/internal/task"
)

// Backend is a task store and a queue, with what it takes to close them.
type Backend struct {
	Store task.Store
	Queue queue.Queue
	// BigQueue, if not nil, takes the tasks of numbers beyond 64 bits.
	BigQueue queue.Queue
	// DeadLetters look at the dead-letter queues of the job queues (the
	// local job queues peek at their own: PeekDeadLetters), the tasks
	// queue's first; the system's settlers record FAILURE for the tasks
	// whose messages land there, and leave the messages in place.
	DeadLetters []deadletter.Peeker
	// Gone, if not nil, delivers an error once something the backend
	// started and holds its data in has exited: the moto that BACKEND=aws
	// starts when nothing else is named. Its queues and table are gone
	// with it, so the system cannot go on (System.Serve stops).
	Gone  <-chan error
	close []func() error
}

// Close releases the backend.
func (b *Backend) Close() error {
	var first error
	for i := len(b.close) - 1; i >= 0; i-- {
		if err := b.close[i](); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// OpenBackend opens the store and queue that cfg.Backend names.
func OpenBackend(ctx context.Context, cfg Config, log *slog.Logger) (*Backend, error) {
	switch cfg.Backend {
	case "bolt":
		path := filepath.Join(cfg.DataDir, "asyncprime.db")
		db, err := bolt.Open(path, bolt.Options{
			VisibilityTimeout: cfg.VisibilityTimeout,
			MaxReceiveCount:   cfg.MaxReceiveCount,
			Logger:            log,
		})
		if err != nil {
			return nil, fmt.Errorf("open the embedded store (DATA_DIR=%s): %w", cfg.DataDir, err)
		}
		log.InfoContext(ctx, "backend: embedded, durable", slog.String("file", path))
		return &Backend{
			Store: db.Store(), Queue: db.Queue(), BigQueue: db.BigQueue(),
			DeadLetters: []deadletter.Peeker{db.Queue(), db.BigQueue()},
			close: []func() error{func() error {
				st := db.Stats()
				log.Info("bolt: commits since start", slog.Uint64("commits", st.Commits), slog.Uint64("ops", st.Ops),
					slog.Float64("mean_batch", st.MeanBatch()), slog.String("batches", st.Histogram()))
				return db.Close()
			}},
		}, nil
	case "memory":
		newQueue := func(name string) *memory.Queue {
			return memory.NewQueue(memory.QueueOptions{
				Name:              name,
				VisibilityTimeout: cfg.VisibilityTimeout,
				DeadLetter:        memory.NewQueue(memory.QueueOptions{Name: name + "-dlq"}),
				MaxReceiveCount:   cfg.MaxReceiveCount,
			})
		}
		q, big := newQueue("tasks"), newQueue("tasks-big")
		log.InfoContext(ctx, "backend: in memory (nothing survives a restart)")
		return &Backend{Store: memory.NewStore(), Queue: q, BigQueue: big, DeadLetters: []deadletter.Peeker{q, big}}, nil
	case "aws":
		return openAWS(ctx, cfg, log)
	default:
		return nil, fmt.Errorf("environment variable BACKEND=%q is not one of bolt, memory, aws", cfg.Backend)
	}
}
