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

func TestReopenConformance(t *testing.T) {
	t.Parallel()
	tasktest.RunReopen(t, func(*testing.T) tasktest.ReopenStore { return memory.NewStore() })
}

// newQueue returns a queue as opts says, with a dead-letter queue.
func newQueue(opts queuetest.Options) *memory.Queue {
	return memory.NewQueue(memory.QueueOptions{
		VisibilityTimeout: opts.VisibilityTimeout,
		DeadLetter:        memory.NewQueue(memory.QueueOptions{Name: "tasks-dlq"}),
		MaxReceiveCount:   opts.MaxReceiveCount,
	})
}

func TestQueueConformance(t *testing.T) {
	t.Parallel()
	queuetest.Run(t, func(_ *testing.T, opts queuetest.Options) (queue.Queue, queue.Queue) {
		q := newQueue(opts)
		return q, q.DeadLetter()
	})
}

func TestAdminConformance(t *testing.T) {
	t.Parallel()
	queuetest.RunAdmin(t, func(_ *testing.T, opts queuetest.Options) queuetest.Admin { return newQueue(opts) })
}
