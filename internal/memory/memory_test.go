package memory_test

import (
	"testing"

	"github.com/asyncprime/asyncprime/internal/memory"
	"github.com/asyncprime/asyncprime/internal/queue"
	"github.com/asyncprime/asyncprime/internal/queuetest"
	"github.com/asyncprime/asyncprime/internal/task"
	"github.com/asyncprime/asyncprime/internal/tasktest"
)

func TestStoreConformance(t *testing.T) {
	t.Parallel()
	tasktest.Run(t, func(*testing.T) task.Store { return memory.NewStore() })
}

func TestQueueConformance(t *testing.T) {
	t.Parallel()
	queuetest.Run(t, func(_ *testing.T, opts queuetest.Options) (queue.Queue, queue.Queue) {
		dlq := memory.NewQueue(memory.QueueOptions{Name: "tasks-dlq"})
		q := memory.NewQueue(memory.QueueOptions{
			VisibilityTimeout: opts.VisibilityTimeout,
			DeadLetter:        dlq,
			MaxReceiveCount:   opts.MaxReceiveCount,
		})
		return q, dlq
	})
}
