package metrics_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/asyncprime/asyncprime/internal/memory"
	"github.com/asyncprime/asyncprime/internal/metrics"
	"github.com/asyncprime/asyncprime/internal/task"
)

// recorder is an Observer that keeps what it is told.
type recorder struct{ events []metrics.Event }

func (r *recorder) Observe(_ context.Context, e metrics.Event) { r.events = append(r.events, e) }

func (r *recorder) kinds() []metrics.Kind {
	var out []metrics.Kind
	for _, e := range r.events {
		out = append(out, e.Kind)
	}
	return out
}

func TestStoreTellsOfWritesThatLanded(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	s := metrics.Observe(memory.NewStore(), rec)
	ctx := t.Context()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tk := task.Task{ID: task.NewID(), Status: task.StatusPending, Number: "11", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
	if err := s.Create(ctx, tk); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Start(ctx, tk.ID, t0.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	out := task.Outcome{Status: task.StatusFailure, Error: "boom", FinishedAt: t0.Add(1500 * time.Millisecond), ExpiresAt: t0.Add(time.Hour)}
	if err := s.Finish(ctx, tk.ID, out); err != nil {
		t.Fatal(err)
	}
	// A duplicate finish is refused, and not counted.
	if err := s.Finish(ctx, tk.ID, out); !errors.Is(err, task.ErrConflict) {
		t.Fatalf("second Finish = %v; want ErrConflict", err)
	}
	if err := s.Reopen(ctx, tk.ID, t0.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	want := []metrics.Kind{metrics.Submitted, metrics.Started, metrics.Finished, metrics.Retried}
	if got := rec.kinds(); !slices.Equal(got, want) {
		t.Fatalf("events %v; want %v", got, want)
	}
	fin := rec.events[2]
	if fin.CheckDuration != 500*time.Millisecond || fin.Task.Number != "11" || fin.Task.Error != "boom" || fin.Task.Attempts != 1 {
		t.Errorf("finished event %+v; want the started task with the outcome and a 500ms check", fin)
	}
}

// outboxStore is a memory store with a stand-in outbox that records the
// tasks and forgets the queues.
type outboxStore struct{ *memory.Store }

func (s outboxStore) CreateAndEnqueue(ctx context.Context, jobs []task.Job) error {
	var ts []task.Task
	for _, j := range jobs {
		ts = append(ts, j.Task)
	}
	return s.CreateBatch(ctx, ts)
}

// TestStoreForwardsTheOutbox: the observed store is an outbox when the
// store it wraps is one, and tells of the tasks it submits; over a store
// without one it says so, having written nothing.
func TestStoreForwardsTheOutbox(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	jobs := []task.Job{
		{Task: task.Task{ID: task.NewID(), Status: task.StatusPending, Number: "11", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}},
		{Task: task.Task{ID: task.NewID(), Status: task.StatusPending, Number: "13", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}},
	}
	rec := &recorder{}
	if err := metrics.Observe(outboxStore{memory.NewStore()}, rec).CreateAndEnqueue(t.Context(), jobs); err != nil {
		t.Fatalf("CreateAndEnqueue over an outbox = %v; want nil", err)
	}
	if got, want := rec.kinds(), []metrics.Kind{metrics.Submitted, metrics.Submitted}; !slices.Equal(got, want) {
		t.Errorf("events %v; want %v", got, want)
	}
	rec, plain := &recorder{}, memory.NewStore()
	if err := metrics.Observe(plain, rec).CreateAndEnqueue(t.Context(), jobs); !errors.Is(err, task.ErrNoOutbox) {
		t.Errorf("CreateAndEnqueue over a store without an outbox = %v; want ErrNoOutbox", err)
	}
	if len(rec.events) != 0 || plain.Len() != 0 {
		t.Errorf("without an outbox: %d events, %d tasks; want none", len(rec.events), plain.Len())
	}
}

// workerFirst is a store whose create lets a worker finish the new tasks
// before it returns, as an Outbox does when a worker takes the message
// its write queued at once, before the submitting goroutine runs again.
type workerFirst struct {
	*memory.Store
	worker func(ids []string) // runs after the write, before the create returns
}

func (s workerFirst) Create(ctx context.Context, t task.Task) error {
	return s.CreateBatch(ctx, []task.Task{t})
}

func (s workerFirst) CreateBatch(ctx context.Context, ts []task.Task) error {
	if err := s.Store.CreateBatch(ctx, ts); err != nil {
		return err
	}
	var ids []string
	for _, t := range ts {
		ids = append(ids, t.ID)
	}
	s.worker(ids)
	return nil
}

func (s workerFirst) CreateAndEnqueue(ctx context.Context, jobs []task.Job) error {
	var ts []task.Task
	for _, j := range jobs {
		ts = append(ts, j.Task)
	}
	return s.CreateBatch(ctx, ts)
}

// syncRecorder is a recorder that the worker's goroutine may tell too.
type syncRecorder struct {
	mu sync.Mutex
	recorder
}

func (r *syncRecorder) Observe(ctx context.Context, e metrics.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.recorder.Observe(ctx, e)
}

// TestStoreTellsSubmittedFirst: a transition that lands while the create
// of its task has not returned yet (a worker took the message an Outbox
// queued, and finished the task) is told after the task's Submitted, not
// before it: the console's counters would otherwise count the task
// pending for ever.
func TestStoreTellsSubmittedFirst(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	newTask := func(n task.Number) task.Task {
		return task.Task{ID: task.NewID(), Status: task.StatusPending, Number: n, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
	}
	tests := []struct {
		name   string
		create func(ctx context.Context, s *metrics.Store, ts []task.Task) error
	}{
		{"Create", func(ctx context.Context, s *metrics.Store, ts []task.Task) error { return s.Create(ctx, ts[0]) }},
		{"CreateBatch", func(ctx context.Context, s *metrics.Store, ts []task.Task) error { return s.CreateBatch(ctx, ts) }},
		{"CreateAndEnqueue", func(ctx context.Context, s *metrics.Store, ts []task.Task) error {
			return s.CreateAndEnqueue(ctx, []task.Job{{Task: ts[0]}, {Task: ts[1]}})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := &syncRecorder{}
			var s *metrics.Store
			fake := workerFirst{Store: memory.NewStore(), worker: func(ids []string) {
				done := make(chan error)
				go func() { // the worker: another goroutine, as the poller's
					out := task.Outcome{Status: task.StatusSuccess, IsPrime: true, FinishedAt: t0.Add(time.Second), ExpiresAt: t0.Add(time.Hour)}
					done <- s.Finish(t.Context(), ids[0], out)
				}()
				if err := <-done; err != nil {
					t.Errorf("worker's Finish = %v; want nil", err)
				}
			}}
			s = metrics.Observe(fake, rec)
			ts := []task.Task{newTask("11"), newTask("13")}
			if err := tt.create(t.Context(), s, ts); err != nil {
				t.Fatalf("create = %v; want nil", err)
			}
			var got []string
			for _, e := range rec.events {
				got = append(got, string(e.Kind)+" "+e.Task.ID)
			}
			want := []string{"submitted " + ts[0].ID, "finished " + ts[0].ID}
			if tt.name != "Create" {
				want = append(want, "submitted "+ts[1].ID)
			}
			if !slices.Equal(got, want) {
				t.Errorf("events\n%v; want\n%v", got, want)
			}
		})
	}
}

func TestEMF(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		event metrics.Event
		want  map[string]float64 // metric name -> value; nil: no line
	}{
		{"submitted", metrics.Event{Kind: metrics.Submitted, Task: task.Task{ID: "a"}}, map[string]float64{"TasksSubmitted": 1}},
		{"first start", metrics.Event{Kind: metrics.Started, Task: task.Task{ID: "a", Attempts: 1, CreatedAt: t0, StartedAt: t0.Add(250 * time.Millisecond)}}, map[string]float64{"SubmitToStart": 250}},
		{"later start", metrics.Event{Kind: metrics.Started, Task: task.Task{ID: "a", Attempts: 2, CreatedAt: t0, StartedAt: t0.Add(time.Minute)}}, nil},
		{"success", metrics.Event{Kind: metrics.Finished, Task: task.Task{ID: "a", Status: task.StatusSuccess}, CheckDuration: 2 * time.Millisecond}, map[string]float64{"TasksSucceeded": 1, "CheckDuration": 2}},
		{"failure", metrics.Event{Kind: metrics.Finished, Task: task.Task{ID: "a", Status: task.StatusFailure}}, map[string]float64{"TasksFailed": 1}},
		{"abandoned", metrics.Event{Kind: metrics.Abandoned, Task: task.Task{ID: "a", Status: task.StatusFailure}}, map[string]float64{"TasksFailed": 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			e := &metrics.EMF{Logger: slog.New(slog.NewJSONHandler(&buf, nil)), Function: "asyncprime-WorkerFunction-x", Now: func() time.Time { return t0 }}
			e.Observe(t.Context(), tt.event)
			if tt.want == nil {
				if buf.Len() != 0 {
					t.Errorf("logged %s; want nothing", buf.String())
				}
				return
			}
			var line struct {
				AWS struct {
					Timestamp         int64
					CloudWatchMetrics []struct {
						Namespace  string
						Dimensions [][]string
						Metrics    []struct{ Name, Unit string }
					}
				} `json:"_aws"`
				FunctionName string
			}
			if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
				t.Fatalf("log line %s: %v", buf.String(), err)
			}
			var fields map[string]any
			json.Unmarshal(buf.Bytes(), &fields)
			d := line.AWS.CloudWatchMetrics
			if line.AWS.Timestamp != t0.UnixMilli() || len(d) != 1 || d[0].Namespace != "asyncprime" ||
				!slices.Equal(d[0].Dimensions[0], []string{"FunctionName"}) || line.FunctionName != "asyncprime-WorkerFunction-x" {
				t.Fatalf("log line %s; want an EMF record in namespace asyncprime by FunctionName", buf.String())
			}
			if len(d[0].Metrics) != len(tt.want) {
				t.Errorf("metrics %v; want %v", d[0].Metrics, tt.want)
			}
			for _, m := range d[0].Metrics {
				if v, ok := fields[m.Name].(float64); !ok || v != tt.want[m.Name] {
					t.Errorf("metric %s = %v; want %v", m.Name, fields[m.Name], tt.want[m.Name])
				}
			}
		})
	}
}
