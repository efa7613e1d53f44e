package memory_test

import (
	"testing"

	"github.com/asyncprime/asyncprime/internal/memory"
	"github.com/asyncprime/asyncprime/internal/tasktest"
)

func TestReopenConformance(t *testing.T) {
	t.Parallel()
	tasktest.RunReopen(t, func(*testing.T) tasktest.ReopenStore { return memory.NewStore() })
}
