package task_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/asyncprime/asyncprime/internal/memory"
	"github.com/asyncprime/asyncprime/internal/task"
)

// sendFunc is a task.Sender.
type sendFunc func(ctx context.Context, body string) (string, error)

func (f sendFunc) Send(ctx context.Context, body string) (string, error) { return f(ctx, body) }

func TestRetry(t *testing.T) {
	t.Parallel()
	now := time.Now()
	failed := task.Task{ID: task.NewID(), Status: task.StatusFailure, Number: "11", Error: "boom", Attempts: 5, CreatedAt: now, FinishedAt: now, ExpiresAt: now.Add(time.Hour)}
	bigFailed := failed
	bigFailed.ID, bigFailed.Number = task.NewID(), "170141183460469231731687303715884105727"
	succeeded := task.Task{ID: task.NewID(), Status: task.StatusSuccess, Number: "11", IsPrime: true, CreatedAt: now, FinishedAt: now, ExpiresAt: now.Add(time.Hour)}
	tests := []struct {
		name       string
		task       task.Task
		id         string
		sendErr    error
		wantErr    error
		wantStatus task.Status // of the stored task afterwards
		wantSent   bool
		wantBig    bool // sent to the big-task queue
	}{
		{name: "failure runs again", task: failed, id: failed.ID, wantStatus: task.StatusPending, wantSent: true},
		{name: "a number beyond 64 bits goes to the big-task queue", task: bigFailed, id: bigFailed.ID, wantStatus: task.StatusPending, wantSent: true, wantBig: true},
		{name: "success is refused", task: succeeded, id: succeeded.ID, wantErr: task.ErrNotFailed, wantStatus: task.StatusSuccess},
		{name: "unknown id", task: failed, id: task.NewID(), wantErr: task.ErrNotFound, wantStatus: task.StatusFailure},
		{name: "queue down puts it back", task: failed, id: failed.ID, sendErr: errors.New("down"), wantErr: task.ErrUnavailable, wantStatus: task.StatusFailure, wantSent: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			store := memory.NewStore()
			if err := store.Create(t.Context(), tt.task); err != nil {
				t.Fatal(err)
			}
			var sent string
			var sentBig bool
			q := sendFunc(func(_ context.Context, body string) (string, error) { sent = body; return "m", tt.sendErr })
			big := sendFunc(func(_ context.Context, body string) (string, error) {
				sent, sentBig = body, true
				return "m", tt.sendErr
			})
			got, err := task.Retry(t.Context(), store, q, big, tt.id, time.Hour, now)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("Retry = %v; want %v", err, tt.wantErr)
			}
			if (sent != "") != tt.wantSent || tt.wantSent && sent != task.MessageFor(tt.task) {
				t.Errorf("sent %q; want a message: %v, the one a submit sends (%q)", sent, tt.wantSent, task.MessageFor(tt.task))
			}
			if sentBig != tt.wantBig {
				t.Errorf("sent to the big-task queue: %v; want %v", sentBig, tt.wantBig)
			}
			stored, _ := store.Get(t.Context(), tt.task.ID)
			if stored.Status != tt.wantStatus {
				t.Errorf("stored task is %s; want %s", stored.Status, tt.wantStatus)
			}
			if err == nil && (got.Status != task.StatusPending || got.Error != "" || got.Attempts != tt.task.Attempts) {
				t.Errorf("Retry returned %+v; want PENDING, no error, attempts kept", got)
			}
			if tt.sendErr != nil && stored.Error != tt.task.Error {
				t.Errorf("put back with error %q; want %q", stored.Error, tt.task.Error)
			}
		})
	}
}
