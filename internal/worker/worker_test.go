package worker_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/asyncprime/asyncprime/internal/memory"
	"github.com/asyncprime/asyncprime/internal/task"
	"github.com/asyncprime/asyncprime/internal/worker"
)

const (
	goodID   = "3f2b8c1e-7d4a-4e59-9b1c-2a6f0e8d4c71"
	secondID = "a7c1e9d2-5b3f-4a80-8e6d-0c9b2f4e1a35"
	poisonID = "poison-2e1424d4-f796-459a-8184-9c92662be6da"
)

func batch(t *testing.T) events.SQSEvent {
	t.Helper()
	b, err := os.ReadFile("testdata/batch.json")
	if err != nil {
		t.Fatal(err)
	}
	var ev events.SQSEvent
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatal(err)
	}
	return ev
}

func failedIDs(resp events.SQSEventResponse) []string {
	var ids []string
	for _, f := range resp.BatchItemFailures {
		ids = append(ids, f.ItemIdentifier)
	}
	return ids
}

func TestPoisonRecordFailsAlone(t *testing.T) {
	t.Parallel()
	store := memory.NewStore()
	for id, n := range map[string]task.Number{goodID: "11", secondID: "25"} {
		if err := store.Create(t.Context(), task.Task{ID: id, Status: task.StatusPending, Number: n, CreatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	h := &worker.Handler{Processor: &task.Processor{Store: store}}
	resp, err := h.Handle(t.Context(), batch(t))
	if err != nil {
		t.Fatalf("Handle = %v; want nil (never fail the whole batch)", err)
	}
	if got, want := failedIDs(resp), []string{poisonID}; !slices.Equal(got, want) {
		t.Errorf("batchItemFailures = %v; want %v", got, want)
	}
	for id, want := range map[string]bool{goodID: true, secondID: false} {
		got, _ := store.Get(t.Context(), id)
		if got.Status != task.StatusSuccess || got.IsPrime != want {
			t.Errorf("task %s = %s prime=%v; want SUCCESS prime=%v", id, got.Status, got.IsPrime, want)
		}
	}
}

type fakeProcessor struct {
	processFunc func(ctx context.Context, d task.Delivery) error
}

func (f *fakeProcessor) Process(ctx context.Context, d task.Delivery) error {
	return f.processFunc(ctx, d)
}

func TestDeadlineReturnsTheRest(t *testing.T) {
	t.Parallel()
	var processed []int
	var logs bytes.Buffer
	h := &worker.Handler{
		Concurrency: 1,
		Logger:      slog.New(slog.NewTextHandler(&logs, nil)),
		Reserve:     time.Hour, // any real deadline is "near"
		Processor: &fakeProcessor{processFunc: func(_ context.Context, d task.Delivery) error {
			processed = append(processed, d.ReceiveCount)
			return nil
		}},
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Minute)
	defer cancel()
	ev := batch(t)
	resp, _ := h.Handle(ctx, ev)
	if len(processed) != 0 {
		t.Errorf("processed %d records past the deadline; want 0", len(processed))
	}
	if got := failedIDs(resp); len(got) != len(ev.Records) {
		t.Errorf("batchItemFailures = %v; want all %d records", got, len(ev.Records))
	}
	// A timeout within the reserve (WORKER_TIMEOUT=2s) is named as such.
	if want := "no time to process any record: the invocation's timeout leaves less than the reserve"; !strings.Contains(logs.String(), want) {
		t.Errorf("log:\n%s\nwant %q", logs.String(), want)
	}
}

func TestDeadlineMidBatch(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	calls := 0
	var logs bytes.Buffer
	h := &worker.Handler{Concurrency: 1, Logger: slog.New(slog.NewTextHandler(&logs, nil)), Processor: &fakeProcessor{processFunc: func(context.Context, task.Delivery) error {
		calls++
		cancel() // the invocation runs out of time during the first record
		return nil
	}}}
	ev := batch(t)
	resp, _ := h.Handle(ctx, ev)
	if calls != 1 {
		t.Errorf("processed %d records; want 1", calls)
	}
	want := []string{ev.Records[1].MessageId, ev.Records[2].MessageId}
	if got := failedIDs(resp); !slices.Equal(got, want) {
		t.Errorf("batchItemFailures = %v; want %v", got, want)
	}
	if want := `msg="deadline near; returning the rest of the batch" unprocessed=2`; !strings.Contains(logs.String(), want) {
		t.Errorf("log:\n%s\nwant %q", logs.String(), want)
	}
}

// TestRecordsEndBeforeTheInvocation: a record's work (a store call that
// hangs) ends before the invocation's deadline, so that the answer, with
// its failures, reaches Lambda in time: past the deadline Lambda would
// count a timeout and return the whole batch, done records too.
func TestRecordsEndBeforeTheInvocation(t *testing.T) {
	t.Parallel()
	deadline := time.Now().Add(time.Hour)
	ctx, cancel := context.WithDeadline(t.Context(), deadline)
	defer cancel()
	var mu sync.Mutex
	var workDeadlines []time.Time
	h := &worker.Handler{Reserve: time.Millisecond, Processor: &fakeProcessor{processFunc: func(ctx context.Context, d task.Delivery) error {
		d0, _ := ctx.Deadline()
		mu.Lock()
		workDeadlines = append(workDeadlines, d0)
		mu.Unlock()
		return nil
	}}}
	ev := batch(t)
	if _, err := h.Handle(ctx, ev); err != nil {
		t.Fatal(err)
	}
	if len(workDeadlines) != len(ev.Records) {
		t.Fatalf("processed %d records; want %d", len(workDeadlines), len(ev.Records))
	}
	for _, d := range workDeadlines {
		if !d.Before(deadline) {
			t.Errorf("a record's work ends at the invocation's deadline %v (got %v); want before it, leaving time for the answer", deadline, d)
		}
	}
}

func TestReceiveCountReachesProcessor(t *testing.T) {
	t.Parallel()
	var counts []int
	h := &worker.Handler{Concurrency: 1, Processor: &fakeProcessor{processFunc: func(_ context.Context, d task.Delivery) error {
		counts = append(counts, d.ReceiveCount)
		return nil
	}}}
	ev := batch(t)
	delete(ev.Records[1].Attributes, "ApproximateReceiveCount")
	h.Handle(t.Context(), ev)
	if want := []int{1, 1, 2}; !slices.Equal(counts, want) {
		t.Errorf("receive counts = %v; want %v", counts, want)
	}
}

func TestBatchRecordsRunConcurrently(t *testing.T) {
	t.Parallel()
	ev := batch(t)
	var arrived sync.WaitGroup
	arrived.Add(len(ev.Records))
	h := &worker.Handler{Processor: &fakeProcessor{processFunc: func(context.Context, task.Delivery) error {
		arrived.Done()
		arrived.Wait() // returns only once every record of the batch is in flight
		return nil
	}}}
	resp, _ := h.Handle(t.Context(), ev)
	if len(resp.BatchItemFailures) != 0 {
		t.Errorf("batchItemFailures = %v; want none", failedIDs(resp))
	}
}

// goneStore is a memory store whose table does not exist, as far as
// Finish can tell.
type goneStore struct{ *memory.Store }

func (goneStore) Finish(_ context.Context, id string, _ task.Outcome) error {
	return fmt.Errorf("finish task %s: %w", id,
		&task.MissingResourceError{Kind: "table", Name: "asyncprime-tasks", Err: errors.New("ResourceNotFoundException")})
}

// TestMissingTableIsLoggedAsSuch: a record whose task cannot be written
// because the table does not exist goes back to the queue, and the log
// names the table as missing, at ERROR.
func TestMissingTableIsLoggedAsSuch(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	store := goneStore{memory.NewStore()}
	h := &worker.Handler{
		Logger:    slog.New(slog.NewTextHandler(&logs, nil)),
		Processor: &task.Processor{Store: store, Logger: slog.New(slog.DiscardHandler)},
	}
	ev := events.SQSEvent{Records: []events.SQSMessage{{MessageId: "m1", Body: task.MessageFor(task.Task{ID: goodID, Number: "11"})}}}
	resp, _ := h.Handle(t.Context(), ev)
	if got, want := failedIDs(resp), []string{"m1"}; !slices.Equal(got, want) {
		t.Errorf("batchItemFailures = %v; want %v (back to the queue)", got, want)
	}
	for _, want := range []string{"level=ERROR", "the table asyncprime-tasks does not exist", `missing="table asyncprime-tasks"`} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log %q; want it to contain %q", logs.String(), want)
		}
	}
}
