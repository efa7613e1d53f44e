package primectl_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/asyncprime/asyncprime/internal/client"
	"github.com/asyncprime/asyncprime/internal/console"
	"github.com/asyncprime/asyncprime/internal/local"
	"github.com/asyncprime/asyncprime/internal/memory"
	"github.com/asyncprime/asyncprime/internal/primectl"
	"github.com/asyncprime/asyncprime/internal/queue"
	"github.com/asyncprime/asyncprime/internal/task"
)

// startLocal runs the local system on memory adapters.
func startLocal(t *testing.T) string {
	t.Helper()
	cfg := local.Config{Backend: "memory", Workers: 1, BatchSize: 10, VisibilityTimeout: time.Minute, MaxReceiveCount: 3, WorkerTimeout: 10 * time.Second, Retention: time.Hour}
	dlq := memory.NewQueue(memory.QueueOptions{Name: "dlq"})
	q := memory.NewQueue(memory.QueueOptions{VisibilityTimeout: cfg.VisibilityTimeout, DeadLetter: dlq, MaxReceiveCount: cfg.MaxReceiveCount})
	sys := local.NewSystem(cfg, &local.Backend{Store: memory.NewStore(), Queue: q}, slog.New(slog.DiscardHandler))
	srv := httptest.NewServer(sys.Handler())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { sys.Poller.Run(ctx); close(done) }()
	t.Cleanup(func() { srv.Close(); cancel(); <-done })
	return srv.URL
}

func TestCommands(t *testing.T) {
	t.Parallel()
	base := startLocal(t)
	tests := []struct {
		name    string
		args    []string
		json    bool
		want    string // a regexp the output matches
		wantErr string // a part of the error
	}{
		{name: "submit and wait", args: []string{"submit", "-wait", "2305843009213693951"}, want: `^[0-9a-f-]{36} SUCCESS: 2305843009213693951 is prime\n$`},
		{name: "negative number", args: []string{"submit", "-wait", "-7"}, want: `SUCCESS: -7 is not prime`},
		{name: "submit", args: []string{"submit", "11"}, want: `^[0-9a-f-]{36}\n$`},
		{name: "submit as JSON", args: []string{"submit", "11"}, json: true, want: `^\{"status":"success","task_id":"[0-9a-f-]{36}"\}\n$`},
		{name: "bad number is the API's error", args: []string{"submit", "1.5"}, wantErr: `(HTTP 400)`},
		{name: "unknown task is the API's 404", args: []string{"get", task.NewID()}, wantErr: `(HTTP 404)`},
		{name: "stats", args: []string{"stats"}, want: `(?m)^backend +memory\n^queue +\d+ waiting, \d+ in flight`},
		{name: "health", args: []string{"health"}, want: `^ok \(store ok, queue ok\)\n$`},
		{name: "redrive of nothing", args: []string{"redrive"}, wantErr: `the dead-letter queue is empty: nothing to redrive (HTTP 409)`},
		{name: "retry of an unknown task", args: []string{"retry", task.NewID()}, wantErr: `(HTTP 404)`},
		{name: "unknown command", args: []string{"explode"}, wantErr: `unknown command`},
		{name: "get without id", args: []string{"get"}, wantErr: `get takes one argument`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var out bytes.Buffer
			cli := &primectl.CLI{API: &client.Client{Base: base}, Out: &out, JSON: tt.json, Poll: 10 * time.Millisecond}
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			err := cli.Run(ctx, tt.args)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("primectl %v = %v; want an error with %q", tt.args, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("primectl %v = %v; want nil", tt.args, err)
			}
			if !regexp.MustCompile(tt.want).MatchString(out.String()) {
				t.Errorf("primectl %v printed %q; want a match of %s", tt.args, out.String(), tt.want)
			}
		})
	}
}

// fakeQueue is a deployed stack's queue.
type fakeQueue struct {
	console.AdminQueue
	dead int
}

func (f *fakeQueue) DeadLetterCounts(context.Context) (queue.Counts, error) {
	return queue.Counts{Visible: f.dead}, nil
}

func (f *fakeQueue) RedriveDeadLetters(context.Context) (queue.Redrive, error) {
	return queue.Redrive{Moved: f.dead, Async: true, TaskHandle: "h-1"}, nil
}

func TestRedriveOnAStack(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	cli := &primectl.CLI{API: &client.Client{Base: "http://127.0.0.1:1"}, Queue: &fakeQueue{dead: 3}, Out: &out}
	if err := cli.Run(t.Context(), []string{"redrive"}); err != nil {
		t.Fatal(err)
	}
	if want := "SQS is moving the 3 dead letters back to the task queue (move task h-1)\n"; out.String() != want {
		t.Errorf("printed %q; want %q", out.String(), want)
	}
	cli.Queue = &fakeQueue{}
	if err := cli.Run(t.Context(), []string{"redrive"}); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Errorf("redrive of an empty DLQ = %v; want an error saying it is empty", err)
	}
}

// deadQueue is a stack's queue whose dead letters name tasks.
type deadQueue struct {
	fakeQueue
	bodies []string
}

func (q *deadQueue) PeekDeadLetters(_ context.Context, max int) ([]queue.Peeked, error) {
	var out []queue.Peeked
	for i, b := range q.bodies[:min(max, len(q.bodies))] {
		out = append(out, queue.Peeked{ID: fmt.Sprint(i), Body: b})
	}
	return out, nil
}

// TestRedriveOnAStackReopens: with the stack's table, a redrive first
// moves the tasks that failed because they were dead-lettered back to
// PENDING, so that they run again.
func TestRedriveOnAStackReopens(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	store := memory.NewStore()
	id := task.NewID()
	n, _ := task.ParseNumber("11")
	now := time.Now()
	if err := store.Create(ctx, task.Task{ID: id, Number: n, Status: task.StatusPending, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if _, err := (&task.Reaper{Store: store, Logger: slog.New(slog.DiscardHandler)}).Settle(ctx, id); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	q := &deadQueue{fakeQueue: fakeQueue{dead: 2}, bodies: []string{task.EncodeMessage(id), "poison"}}
	cli := &primectl.CLI{API: &client.Client{Base: "http://127.0.0.1:1"}, Queue: q, Store: store, Out: &out}
	if err := cli.Run(ctx, []string{"redrive"}); err != nil {
		t.Fatal(err)
	}
	if got, _ := store.Get(ctx, id); got.Status != task.StatusPending {
		t.Errorf("after the redrive the task is %s; want PENDING", got.Status)
	}
	if !strings.Contains(out.String(), "1 task that had failed because it was dead-lettered is PENDING again") {
		t.Errorf("printed %q; want it to say 1 task was reopened", out.String())
	}
}
