package bolt_test

import (
	"testing"

	"github.com/asyncprime/asyncprime/internal/bolt"
	"github.com/asyncprime/asyncprime/internal/tasktest"
)

func TestReopenConformance(t *testing.T) {
	t.Parallel()
	db, _ := open(t, bolt.Options{})
	tasktest.RunReopen(t, func(*testing.T) tasktest.ReopenStore { return db.Store() })
}
