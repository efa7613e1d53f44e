package memory_test

import (
	"testing"

	"github.com/asyncprime/asyncprime/internal/memory"
	"github.com/asyncprime/asyncprime/internal/queuetest"
)

func TestAdminConformance(t *testing.T) {
	t.Parallel()
	queuetest.RunAdmin(t, func(_ *testing.T, opts queuetest.Options) queuetest.Admin {
		return memory.NewQueue(memory.QueueOptions{
			VisibilityTimeout: opts.VisibilityTimeout,
			DeadLetter:        memory.NewQueue(memory.QueueOptions{Name: "tasks-dlq"}),
			MaxReceiveCount:   opts.MaxReceiveCount,
		})
	})
}
