package local

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/asyncprime/asyncprime/internal/memory"
	"github.com/asyncprime/asyncprime/internal/queue"
	"github.com/asyncprime/asyncprime/internal/task"
)

// Backend is a task store and a queue, with what it takes to close them.
type Backend struct {
	Store task.Store
	Queue queue.Queue
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
	case "memory":
		dlq := memory.NewQueue(memory.QueueOptions{Name: "tasks-dlq"})
		q := memory.NewQueue(memory.QueueOptions{
			VisibilityTimeout: cfg.VisibilityTimeout,
			DeadLetter:        dlq,
			MaxReceiveCount:   cfg.MaxReceiveCount,
		})
		log.InfoContext(ctx, "backend: in memory (nothing survives a restart)")
		return &Backend{Store: memory.NewStore(), Queue: q}, nil
	default:
		return nil, fmt.Errorf("environment variable BACKEND=%q is not one of bolt, memory, aws", cfg.Backend)
	}
}
