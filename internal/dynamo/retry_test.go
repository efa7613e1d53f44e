package dynamo_test

import (
	"testing"

	"github.com/asyncprime/asyncprime/internal/dynamo"
	"github.com/asyncprime/asyncprime/internal/tasktest"
)

func TestReopenConformance(t *testing.T) {
	t.Parallel()
	client, table := newTable(t)
	s := dynamo.New(client, table)
	tasktest.RunReopen(t, func(*testing.T) tasktest.ReopenStore { return s })
}
