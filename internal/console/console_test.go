package console_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/asyncprime/asyncprime/internal/console"
	"github.com/asyncprime/asyncprime/internal/memory"
	"github.com/asyncprime/asyncprime/internal/metrics"
	"github.com/asyncprime/asyncprime/internal/queue"
	"github.com/asyncprime/asyncprime/internal/task"
)

// fakeStore wraps a real store; a non-nil getFunc overrides Get.
type fakeStore struct {
	task.Store
	getFunc func(ctx context.Context, id string) (task.Task, error)
}

func (f *fakeStore) Get(ctx context.Context, id string) (task.Task, error) {
	if f.getFunc != nil {
		return f.getFunc(ctx, id)
	}
	return f.Store.Get(ctx, id)
}

type fixture struct {
	srv      *httptest.Server
	store    *memory.Store
	queue    *memory.Queue
	counters *console.Counters
}

func newFixture(t *testing.T, store task.Store) fixture {
	t.Helper()
	mem := memory.NewStore()
	if store == nil {
		store = mem
	}
	q := memory.NewQueue(memory.QueueOptions{VisibilityTimeout: time.Hour, DeadLetter: memory.NewQueue(memory.QueueOptions{Name: "dlq"}), MaxReceiveCount: 1})
	counters := console.NewCounters(nil)
	c := console.New(console.Config{Backend: "memory", Store: metrics.Observe(store, counters), Queue: q, Counters: counters, MaxReceiveCount: 1, Logger: slog.New(slog.DiscardHandler)})
	srv := httptest.NewServer(c)
	t.Cleanup(srv.Close)
	return fixture{srv: srv, store: mem, queue: q, counters: counters}
}

func (f fixture) token(t *testing.T) string {
	t.Helper()
	var tok console.TokenResponse
	f.do(t, "GET", "/console/api/token", "", nil, &tok)
	return tok.Token
}

func (f fixture) do(t *testing.T, method, path, body string, header map[string]string, out any) (int, http.Header) {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), method, f.srv.URL+path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	if h, ok := header["Host"]; ok {
		req.Host = h
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: body %q is not JSON: %v", method, path, b, err)
		}
	}
	return resp.StatusCode, resp.Header
}

// TestBadInput: every bad request gets a clear 4xx JSON error.
func TestBadInput(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	used := f.token(t)
	f.do(t, "POST", "/console/api/actions/purge", `{"token":"`+used+`"}`, nil, nil)
	tests := []struct {
		name, method, path, body string
		header                   map[string]string
		want                     int
		wantErr                  string
	}{
		{name: "malformed id", method: "GET", path: "/console/api/tasks/not-a-uuid", want: 400, wantErr: "malformed task id"},
		{name: "unknown id", method: "GET", path: "/console/api/tasks/" + task.NewID(), want: 404, wantErr: "no task"},
		{name: "unknown API path", method: "GET", path: "/console/api/nope", want: 404, wantErr: "no such console API path"},
		{name: "unknown console file", method: "GET", path: "/console/nope.js", want: 404, wantErr: `no console file "nope.js"`},
		{name: "console directory", method: "GET", path: "/console/static/", want: 404, wantErr: "no console file"},
		{name: "stats by POST", method: "POST", path: "/console/api/stats", body: "{}", want: 405, wantErr: "use GET"},
		{name: "action by GET", method: "GET", path: "/console/api/actions/redrive", want: 405, wantErr: "actions take POST"},
		{name: "unknown action", method: "POST", path: "/console/api/actions/explode", body: "{}", want: 404, wantErr: "no action"},
		{name: "cross-origin", method: "POST", path: "/console/api/actions/redrive", body: `{"token":"x"}`, header: map[string]string{"Origin": "http://evil.example"}, want: 403, wantErr: "cross-origin"},
		{name: "cross-site fetch", method: "POST", path: "/console/api/actions/redrive", body: `{"token":"x"}`, header: map[string]string{"Sec-Fetch-Site": "cross-site"}, want: 403, wantErr: "cross-origin"},
		{name: "cross-origin token", method: "GET", path: "/console/api/token", header: map[string]string{"Origin": "http://evil.example"}, want: 403, wantErr: "cross-origin"},
		{name: "rebound DNS name", method: "GET", path: "/console/api/token", header: map[string]string{"Host": "evil.example:8000"}, want: 403, wantErr: "DNS rebinding"},
		{name: "rebound DNS name, action", method: "POST", path: "/console/api/actions/purge", body: `{"token":"x"}`, header: map[string]string{"Host": "evil.example", "Origin": "http://evil.example"}, want: 403, wantErr: "DNS rebinding"},
		{name: "form post", method: "POST", path: "/console/api/actions/redrive", body: "token=x", header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, want: 415, wantErr: "application/json"},
		{name: "not JSON", method: "POST", path: "/console/api/actions/redrive", body: "[", want: 400, wantErr: "JSON object"},
		{name: "a JSON object past the body limit", method: "POST", path: "/console/api/actions/redrive", body: `{"token":"x","pad":"` + strings.Repeat("a", 5000) + `"}`, want: 413, wantErr: "larger than 4096 bytes"},
		{name: "a gzipped body", method: "POST", path: "/console/api/actions/redrive", body: "\x1f\x8b", header: map[string]string{"Content-Encoding": "gzip"}, want: 415, wantErr: "uncompressed"},
		{name: "no token", method: "POST", path: "/console/api/actions/redrive", body: "{}", want: 403, wantErr: "unknown or expired action token"},
		{name: "replayed token", method: "POST", path: "/console/api/actions/redrive", body: `{"token":"` + used + `"}`, want: 409, wantErr: "already used"},
		{name: "retry malformed id", method: "POST", path: "/console/api/actions/retry", body: `{"token":"x","task_id":"1"}`, want: 400, wantErr: "malformed task_id"},
		{name: "dead letters max", method: "GET", path: "/console/api/dead-letters?max=0", want: 400, wantErr: "max must be"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var e struct{ Error string }
			got, h := f.do(t, tt.method, tt.path, tt.body, tt.header, &e)
			if got != tt.want || !strings.Contains(e.Error, tt.wantErr) {
				t.Errorf("%s %s = %d %q; want %d with %q", tt.method, tt.path, got, e.Error, tt.want, tt.wantErr)
			}
			if ct := h.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q; want application/json", ct)
			}
		})
	}
}

// TestActionsOnEmptyDeadLetters: an action on an empty DLQ says so.
func TestActionsOnEmptyDeadLetters(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	for _, action := range []string{"redrive", "purge"} {
		var e struct{ Error string }
		got, _ := f.do(t, "POST", "/console/api/actions/"+action, `{"token":"`+f.token(t)+`"}`, nil, &e)
		if got != http.StatusConflict || !strings.Contains(e.Error, "empty: nothing to "+action) {
			t.Errorf("%s on an empty DLQ = %d %q; want 409 saying it is empty", action, got, e.Error)
		}
	}
}

// TestRedriveAndPurge: the actions act, and say what they did.
func TestRedriveAndPurge(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	// Fill the DLQ through a queue with an immediate redelivery.
	dlq := memory.NewQueue(memory.QueueOptions{Name: "dlq"})
	q := memory.NewQueue(memory.QueueOptions{VisibilityTimeout: time.Nanosecond, DeadLetter: dlq, MaxReceiveCount: 1})
	srv := httptest.NewServer(console.New(console.Config{Store: memory.NewStore(), Queue: q, Logger: slog.New(slog.DiscardHandler)}))
	defer srv.Close()
	f := fixture{srv: srv}
	for _, b := range []string{"a", "b"} {
		q.Send(ctx, b)
	}
	kill(t, q, 2)
	var stats console.Stats
	f.do(t, "GET", "/console/api/stats", "", nil, &stats)
	if stats.DeadLetters == nil || stats.DeadLetters.Visible != 2 || stats.Queue == nil || stats.Queue.Visible != 0 {
		t.Fatalf("stats = queue %+v, dead letters %+v; want 0 and 2", stats.Queue, stats.DeadLetters)
	}
	var res console.ActionResponse
	if got, _ := f.do(t, "POST", "/console/api/actions/redrive", `{"token":"`+f.token(t)+`"}`, nil, &res); got != 200 || res.Moved == nil || *res.Moved != 2 || res.Message != "moved 2 dead letters back to the task queue" {
		t.Fatalf("redrive = %d %+v; want 200, 2 moved", got, res)
	}
	if n, _ := q.Counts(ctx); n.Visible != 2 {
		t.Errorf("after redrive the queue holds %+v; want 2 visible", n)
	}
	kill(t, q, 2)
	res = console.ActionResponse{}
	if got, _ := f.do(t, "POST", "/console/api/actions/purge", `{"token":"`+f.token(t)+`"}`, nil, &res); got != 200 || res.Purged == nil || *res.Purged != 2 {
		t.Fatalf("purge = %d %+v; want 200, 2 purged", got, res)
	}
	if n, _ := q.DeadLetterCounts(ctx); n.Total() != 0 {
		t.Errorf("after purge the DLQ holds %+v; want nothing", n)
	}
}

// deadLettering returns a queue named name whose messages reappear at once
// and are dead-lettered on their second receive.
func deadLettering(name string) *memory.Queue {
	return memory.NewQueue(memory.QueueOptions{Name: name, VisibilityTimeout: time.Nanosecond, DeadLetter: memory.NewQueue(memory.QueueOptions{Name: name + "-dlq"}), MaxReceiveCount: 1})
}

// TestBigQueue: the big-task queue's counts and dead letters are added to
// the task queue's, a redrive moves each dead-letter queue back to its own
// queue, and a purge empties both.
func TestBigQueue(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	q, big := deadLettering("tasks"), deadLettering("tasks-big")
	srv := httptest.NewServer(console.New(console.Config{Store: memory.NewStore(), Queue: q, BigQueue: big, Logger: slog.New(slog.DiscardHandler)}))
	defer srv.Close()
	f := fixture{srv: srv}
	q.Send(ctx, "small")
	for _, b := range []string{"big 1", "big 2"} {
		big.Send(ctx, b)
	}
	kill(t, q, 1)
	kill(t, big, 2)
	big.Send(ctx, "big 3")
	var stats console.Stats
	f.do(t, "GET", "/console/api/stats", "", nil, &stats)
	if stats.DeadLetters == nil || stats.DeadLetters.Visible != 3 || stats.Queue == nil || stats.Queue.Visible != 1 {
		t.Fatalf("stats = queue %+v, dead letters %+v; want 1 and 3", stats.Queue, stats.DeadLetters)
	}
	var listed struct{ Messages []console.DeadLetter }
	f.do(t, "GET", "/console/api/dead-letters", "", nil, &listed)
	if len(listed.Messages) != 3 {
		t.Errorf("dead letters listed: %+v; want 3", listed.Messages)
	}
	var res console.ActionResponse
	if got, _ := f.do(t, "POST", "/console/api/actions/redrive", `{"token":"`+f.token(t)+`"}`, nil, &res); got != 200 || res.Moved == nil || *res.Moved != 3 {
		t.Fatalf("redrive = %d %+v; want 200, 3 moved", got, res)
	}
	if n, _ := q.Counts(ctx); n.Visible != 1 {
		t.Errorf("after redrive the task queue holds %+v; want its 1 dead letter back", n)
	}
	if n, _ := big.Counts(ctx); n.Visible != 3 {
		t.Errorf("after redrive the big-task queue holds %+v; want its 2 dead letters back and the 1 never received", n)
	}
	kill(t, q, 1)
	kill(t, big, 3)
	res = console.ActionResponse{}
	if got, _ := f.do(t, "POST", "/console/api/actions/purge", `{"token":"`+f.token(t)+`"}`, nil, &res); got != 200 || res.Purged == nil || *res.Purged != 4 {
		t.Fatalf("purge = %d %+v; want 200, 4 purged", got, res)
	}
	for _, dq := range []*memory.Queue{q, big} {
		if n, _ := dq.DeadLetterCounts(ctx); n.Total() != 0 {
			t.Errorf("after purge a DLQ holds %+v; want nothing", n)
		}
	}
}

// kill receives from q, whose messages reappear at once, until its
// dead-letter queue holds n messages.
func kill(t *testing.T, q *memory.Queue, n int) {
	t.Helper()
	for range 100 {
		q.Receive(t.Context(), 10, 0)
		if d, _ := q.DeadLetterCounts(t.Context()); d.Total() == n {
			return
		}
	}
	t.Fatalf("the dead-letter queue never held %d messages", n)
}

func TestHealth(t *testing.T) {
	t.Parallel()
	down := &fakeStore{Store: memory.NewStore(), getFunc: func(context.Context, string) (task.Task, error) {
		return task.Task{}, errors.New("connection refused")
	}}
	tests := []struct {
		name  string
		store task.Store
		want  int
	}{
		{"up", nil, 200},
		{"store down", down, 503},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, tt.store)
			var h console.Health
			got, hdr := f.do(t, "GET", "/health", "", nil, &h)
			if got != tt.want {
				t.Fatalf("GET /health = %d %+v; want %d", got, h, tt.want)
			}
			if tt.want == 503 && (!strings.Contains(h.Error, "store: connection refused") || hdr.Get("Retry-After") == "") {
				t.Errorf("503 body %+v; want the reason and Retry-After", h)
			}
			if tt.want == 200 && (h.Status != "ok" || h.Checks["store"] != "ok" || h.Checks["queue"] != "ok") {
				t.Errorf("200 body %+v; want every check ok", h)
			}
		})
	}
}

// TestStatsSinceStart: the counters follow the store's transitions.
func TestStatsSinceStart(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	ctx := t.Context()
	obs := metrics.Observe(f.store, f.counters)
	now := time.Now()
	ids := []string{task.NewID(), task.NewID(), task.NewID()}
	for _, id := range ids {
		obs.Create(ctx, task.Task{ID: id, Status: task.StatusPending, Number: "11", CreatedAt: now, ExpiresAt: now.Add(time.Hour)})
	}
	obs.Start(ctx, ids[0], now)
	obs.Start(ctx, ids[1], now)
	obs.Finish(ctx, ids[1], task.Outcome{Status: task.StatusFailure, Error: "boom", FinishedAt: now.Add(time.Second), ExpiresAt: now.Add(time.Hour)})
	// A 64-bit number goes from PENDING to its result with no start: its
	// time to result comes from its submission.
	obs.Finish(ctx, ids[2], task.Outcome{Status: task.StatusSuccess, IsPrime: true, FinishedAt: now.Add(2 * time.Second), ExpiresAt: now.Add(time.Hour)})
	var s console.Stats
	f.do(t, "GET", "/console/api/stats", "", nil, &s)
	tot := s.SinceStart.Totals
	if tot.Submitted != 3 || tot.Pending != 0 || tot.Running != 1 || tot.Failed != 1 || tot.Succeeded != 1 {
		t.Errorf("totals %+v; want 3 submitted, 0 pending, 1 running, 1 failed, 1 succeeded", tot)
	}
	if r := s.SinceStart.Recent; len(r) == 0 || r[0].TaskID != ids[2] || r[0].Number != "11" || r[0].TimeToResult == nil || *r[0].TimeToResult != 2 {
		t.Errorf("recent %+v; want the task finished without a start first, with its number and 2 s to result", r)
	}
	if len(s.SinceStart.Failures) != 1 || s.SinceStart.Failures[0].Error != "boom" || *s.SinceStart.Failures[0].TimeToResult != 1 {
		t.Errorf("failures %+v; want the one, with its error and 1 s to result", s.SinceStart.Failures)
	}
	if sum(s.SinceStart.Rates.Submitted) != 3 || sum(s.SinceStart.Rates.Completed) != 2 || len(s.SinceStart.Rates.Submitted) != console.RatePoints {
		t.Errorf("rates %+v; want 3 submitted and 2 completed in %d points", s.SinceStart.Rates, console.RatePoints)
	}
}

// TestStatsNamesTasksAfterRestart: tasks submitted before a restart
// (their Create unseen by these counters) finish with events that know
// only their ids, as a settler's FAILURE of a dead-lettered task and a
// 64-bit number's result do; the stats show their numbers, read from the
// store, in the recent tasks and the failures.
func TestStatsNamesTasksAfterRestart(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	ctx := t.Context()
	now := time.Now()
	dead, done := task.NewID(), task.NewID()
	for id, n := range map[string]task.Number{dead: "4242", done: "11"} {
		if err := f.store.Create(ctx, task.Task{ID: id, Status: task.StatusPending, Number: n, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	obs := metrics.Observe(f.store, f.counters)
	obs.Finish(ctx, dead, task.Outcome{Status: task.StatusFailure, Error: "the task's message was dead-lettered", FinishedAt: now.Add(time.Second), ExpiresAt: now.Add(time.Hour)})
	obs.Finish(ctx, done, task.Outcome{Status: task.StatusSuccess, IsPrime: true, FinishedAt: now.Add(2 * time.Second), ExpiresAt: now.Add(time.Hour)})
	var s console.Stats
	f.do(t, "GET", "/console/api/stats", "", nil, &s)
	want := map[string]string{dead: "4242", done: "11"}
	if len(s.SinceStart.Recent) != 2 || len(s.SinceStart.Failures) != 1 {
		t.Fatalf("recent %+v, failures %+v; want 2 and 1", s.SinceStart.Recent, s.SinceStart.Failures)
	}
	for _, r := range append(s.SinceStart.Recent, s.SinceStart.Failures...) {
		if r.Number != want[r.TaskID] || r.TimeToResult == nil {
			t.Errorf("row %+v; want number %s and a time to result", r, want[r.TaskID])
		}
	}
}

func sum(xs []int) int {
	n := 0
	for _, x := range xs {
		n += x
	}
	return n
}

var _ queue.Queue = (*memory.Queue)(nil)

// TestJoin: joined queues count, list, redrive and purge as one, as
// primectl -stack joins a stack's two task queues.
func TestJoin(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	q, big := deadLettering("tasks"), deadLettering("tasks-big")
	q.Send(ctx, "small")
	big.Send(ctx, "big")
	kill(t, q, 1)
	kill(t, big, 1)
	j := console.Join(q, big)
	if n, err := j.DeadLetterCounts(ctx); err != nil || n.Visible != 2 {
		t.Fatalf("DeadLetterCounts = %+v, %v; want 2 visible", n, err)
	}
	if p, err := j.PeekDeadLetters(ctx, 10); err != nil || len(p) != 2 {
		t.Fatalf("PeekDeadLetters = %+v, %v; want 2", p, err)
	}
	if r, err := j.RedriveDeadLetters(ctx); err != nil || r.Moved != 2 {
		t.Fatalf("RedriveDeadLetters = %+v, %v; want 2 moved", r, err)
	}
	if n, err := j.Counts(ctx); err != nil || n.Visible != 2 {
		t.Fatalf("Counts = %+v, %v; want both messages back", n, err)
	}
}
