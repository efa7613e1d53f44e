package local

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/asyncprime/asyncprime/internal/bolt"
	"github.com/asyncprime/asyncprime/internal/memory"
	"github.com/asyncprime/asyncprime/internal/queue"
	"github.com/asyncprime/asyncprime/internal/task"
)

// Backend is a task store and a queue, with what it takes to close them.
type Backend struct {
	Store task.Store
	Queue queue.Queue
	// DeadLetters are the dead-letter queues of the job queues; the
	// system's reapers settle the tasks whose messages land there.
	DeadLetters []queue.Queue
	close       []func() error
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
			Outbox:            true,
			Logger:            log,
		})
		if err != nil {
			return nil, fmt.Errorf("open the embedded store (DATA_DIR=%s): %w", cfg.DataDir, err)
		}
		log.InfoContext(ctx, "backend: embedded, durable", slog.String("file", path))
		return &Backend{Store: db.Store(), Queue: db.Queue(), DeadLetters: []queue.Queue{db.DLQ()}, close: []func() error{db.Close}}, nil
	case "memory":
		dlq := memory.NewQueue(memory.QueueOptions{Name: "tasks-dlq"})
		q := memory.NewQueue(memory.QueueOptions{
			VisibilityTimeout: cfg.VisibilityTimeout,
			DeadLetter:        dlq,
			MaxReceiveCount:   cfg.MaxReceiveCount,
		})
		log.InfoContext(ctx, "backend: in memory (nothing survives a restart)")
		return &Backend{Store: memory.NewStore(), Queue: q, DeadLetters: []queue.Queue{dlq}}, nil
	case "aws":
		return openAWS(ctx, cfg, log)
	default:
		return nil, fmt.Errorf("environment variable BACKEND=%q is not one of bolt, memory, aws", cfg.Backend)
	}
}
