package queue_test

import (
	"testing"

	"github.com/asyncprime/asyncprime/internal/queue"
)

func TestReportsCountInWords(t *testing.T) {
	t.Parallel()
	tests := []struct{ got, want string }{
		{queue.Redrive{Moved: 1}.String(), "moved 1 dead letter back to the task queue"},
		{queue.Redrive{Moved: 2}.String(), "moved 2 dead letters back to the task queue"},
		{queue.Redrive{Moved: 0}.String(), "moved 0 dead letters back to the task queue"},
		{queue.Redrive{Moved: 1, Async: true, TaskHandle: "h"}.String(), "SQS is moving the 1 dead letter back to the task queue (move task h)"},
		{queue.Reopened(1), "1 task that had failed because it was dead-lettered is PENDING again and will run"},
		{queue.Reopened(3), "3 tasks that had failed because they were dead-lettered are PENDING again and will run"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q; want %q", tt.got, tt.want)
		}
	}
}
