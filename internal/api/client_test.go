package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/asyncprime/asyncprime/internal/api"
	"github.com/asyncprime/asyncprime/internal/apitest"
	"github.com/asyncprime/asyncprime/internal/memory"
	"github.com/asyncprime/asyncprime/internal/task"
)

// submitReq returns the submit fixture with body and headers set.
func submitReq(t *testing.T, body string, headers map[string]string) events.APIGatewayV2HTTPRequest {
	t.Helper()
	req := fixture(t, "submit.json")
	req.Body = body
	for k, v := range headers {
		req.Headers[k] = v
	}
	return req
}

// realSubmit is a submit handler over a memory store and queue.
func realSubmit() (*api.Submit, *memory.Store, *memory.Queue) {
	store, q := memory.NewStore(), memory.NewQueue(memory.QueueOptions{})
	return &api.Submit{Tasks: &task.Submitter{Store: store, Queue: q}}, store, q
}

func handle(t *testing.T, h interface {
	Handle(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)
}, req events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPResponse {
	t.Helper()
	resp, err := h.Handle(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	apitest.CheckEvent(t, req.RequestContext.HTTP.Method, req.RawPath, resp)
	return resp
}

func TestSubmitBatch(t *testing.T) {
	t.Parallel()
	h, store, q := realSubmit()
	resp := handle(t, h, submitReq(t, `{"numbers": [11, "12", -3, 2305843009213693951]}`, nil))
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("status = %d (%s); want 202", resp.StatusCode, resp.Body)
	}
	if resp.Headers["Retry-After"] != api.PollAfter || resp.Headers["Location"] != "" {
		t.Errorf("headers %v; want Retry-After %s and no Location", resp.Headers, api.PollAfter)
	}
	var got api.BatchResponse
	decode(t, resp.Body, &got)
	want := []task.Number{"11", "12", "-3", "2305843009213693951"}
	if got.Status != "success" || len(got.TaskIDs) != len(want) {
		t.Fatalf("body = %s; want success and %d task ids", resp.Body, len(want))
	}
	for i, id := range got.TaskIDs {
		tk, err := store.Get(t.Context(), id)
		if err != nil || tk.Number != want[i] || tk.Status != task.StatusPending {
			t.Errorf("task_ids[%d] = %s: %+v, %v; want PENDING %s (the order of the numbers)", i, id, tk, err, want[i])
		}
	}
	if q.Len() != len(want) {
		t.Errorf("queue holds %d messages; want %d", q.Len(), len(want))
	}
	// A batch of one still answers task_ids.
	resp = handle(t, h, submitReq(t, `{"numbers": [7]}`, nil))
	if resp.StatusCode != http.StatusAccepted || !strings.Contains(resp.Body, `"task_ids":["`) {
		t.Errorf("batch of one = %d %s; want 202 with task_ids", resp.StatusCode, resp.Body)
	}
}

func TestSubmitBatchRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, body, wantError string
	}{
		{name: "empty", body: `{"numbers": []}`, wantError: "send 1 to 100"},
		{name: "too many", body: `{"numbers": [` + strings.Repeat("1,", task.MaxBatch) + `1]}`, wantError: "holds 101 entries"},
		{name: "not an array", body: `{"numbers": 11}`, wantError: "must be an array"},
		{name: "an object", body: `{"numbers": {"0": 11}}`, wantError: "must be an array"},
		{name: "null", body: `{"numbers": null}`, wantError: "must be an array"},
		{name: "bad entry named by index", body: `{"numbers": [11, 13, 1.5]}`, wantError: `"numbers"[2]`},
		{name: "nested array", body: `{"numbers": [[11]]}`, wantError: `"numbers"[0]`},
		{name: "both fields", body: `{"number": 11, "numbers": [13]}`, wantError: "both"},
		{name: "numbers twice", body: `{"numbers": [11], "numbers": [13]}`, wantError: `the field "numbers" more than once`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h, store, _ := realSubmit()
			resp := handle(t, h, submitReq(t, tt.body, nil))
			if resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("status = %d (%s); want 400", resp.StatusCode, resp.Body)
			}
			if msg := decodeError(t, resp); !strings.Contains(msg, tt.wantError) {
				t.Errorf("error = %q; want it to contain %q", msg, tt.wantError)
			}
			if store.Len() != 0 {
				t.Errorf("store holds %d tasks after a rejected batch; want 0", store.Len())
			}
		})
	}
}

func TestSubmitBatchUnavailableLeavesNoPendingTask(t *testing.T) {
	t.Parallel()
	store := memory.NewStore()
	h := &api.Submit{Tasks: &task.Submitter{Store: store, Queue: failingBatchQueue{memory.NewQueue(memory.QueueOptions{})}}}
	resp := handle(t, h, submitReq(t, `{"numbers": [11, 13, 17]}`, nil))
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("status = %d (%s); want 503", resp.StatusCode, resp.Body)
	}
	for _, id := range store.IDs() {
		if tk, _ := store.Get(t.Context(), id); tk.Status == task.StatusPending {
			t.Errorf("task %s left PENDING after a failed batch", id)
		}
	}
	if store.Len() != 3 {
		t.Errorf("store holds %d tasks; want the 3 tombstones", store.Len())
	}
}

// failingBatchQueue sends half of a batch, then fails: a partial failure.
type failingBatchQueue struct{ *memory.Queue }

func (q failingBatchQueue) SendBatch(ctx context.Context, bodies []string) ([]string, error) {
	q.Queue.SendBatch(ctx, bodies[:len(bodies)/2])
	return nil, errors.New("SendMessageBatch: 2 of 3 entries failed")
}

func TestIdempotencyKey(t *testing.T) {
	t.Parallel()
	h, store, q := realSubmit()
	key := map[string]string{"idempotency-key": "order-42"}
	first := handle(t, h, submitReq(t, `{"number": 11}`, key))
	if first.StatusCode != http.StatusAccepted {
		t.Fatalf("first = %d %s; want 202", first.StatusCode, first.Body)
	}
	// The same request, even spelled another way, answers the same.
	for _, body := range []string{`{"number": 11}`, `{"number": "11"}`} {
		again := handle(t, h, submitReq(t, body, key))
		if again.StatusCode != first.StatusCode || again.Body != first.Body || again.Headers["Location"] != first.Headers["Location"] {
			t.Errorf("retry with %s = %d %s; want the first answer %d %s", body, again.StatusCode, again.Body, first.StatusCode, first.Body)
		}
	}
	if n := q.Len(); n != 1 {
		t.Errorf("queue holds %d messages; want 1 (retries queue nothing)", n)
	}
	for _, id := range store.IDs() {
		if tk, _ := store.Get(t.Context(), id); tk.Status == task.StatusPending && "/"+id != first.Headers["Location"] {
			t.Errorf("a retry left PENDING task %s", id)
		}
	}
	// Another request with the same key is 422; with the same numbers as a batch too.
	for _, body := range []string{`{"number": 13}`, `{"numbers": [11]}`} {
		resp := handle(t, h, submitReq(t, body, key))
		if resp.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("key reused with %s = %d %s; want 422", body, resp.StatusCode, resp.Body)
		}
		decodeError(t, resp)
	}
	// A batch with a key replays its list.
	bkey := map[string]string{"Idempotency-Key": "batch-1"}
	b1 := handle(t, h, submitReq(t, `{"numbers": [5, 6]}`, bkey))
	b2 := handle(t, h, submitReq(t, `{"numbers": [5, 6]}`, bkey))
	if b1.StatusCode != http.StatusAccepted || b1.Body != b2.Body {
		t.Errorf("batch retry = %s; want %s", b2.Body, b1.Body)
	}
	// No key: two tasks.
	n1 := handle(t, h, submitReq(t, `{"number": 11}`, nil))
	n2 := handle(t, h, submitReq(t, `{"number": 11}`, nil))
	if n1.Body == n2.Body {
		t.Error("two submits without a key answered the same task")
	}
}

func TestIdempotencyKeyRace(t *testing.T) {
	t.Parallel()
	h, _, q := realSubmit()
	const clients = 8
	bodies := make([]string, clients)
	var wg sync.WaitGroup
	for i := range clients {
		wg.Go(func() {
			resp, err := h.Handle(t.Context(), submitReq(t, `{"number": 97}`, map[string]string{"idempotency-key": "race"}))
			if err != nil || resp.StatusCode != http.StatusAccepted {
				t.Errorf("submit = %d %s, %v; want 202", resp.StatusCode, resp.Body, err)
			}
			bodies[i] = resp.Body
		})
	}
	wg.Wait()
	for i := range bodies {
		if bodies[i] != bodies[0] {
			t.Errorf("racing submits with one key answered %s and %s; want the same task", bodies[0], bodies[i])
		}
	}
	if n := q.Len(); n != 1 {
		t.Errorf("queue holds %d messages; want 1", n)
	}
}

func TestIdempotencyKeyRejects(t *testing.T) {
	t.Parallel()
	for _, k := range []string{"", strings.Repeat("k", task.MaxKeyLength+1), "has space", "ünïcode", "semi;colon", "quote\""} {
		h, store, _ := realSubmit()
		resp := handle(t, h, submitReq(t, `{"number": 11}`, map[string]string{"idempotency-key": k}))
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("key %.20q = %d %s; want 400", k, resp.StatusCode, resp.Body)
			continue
		}
		if msg := decodeError(t, resp); !strings.Contains(msg, "Idempotency-Key") {
			t.Errorf("key %.20q: error %q; want it to name the Idempotency-Key", k, msg)
		}
		if store.Len() != 0 {
			t.Errorf("key %.20q: a task was created", k)
		}
	}
	h, _, _ := realSubmit()
	ok := strings.Repeat("a", task.MaxKeyLength)
	for _, k := range []string{ok, "3f2b8c1e-7d4a-4e59-9b1c-2a6f0e8d4c71", "b64+/=._:~-"} {
		if resp := handle(t, h, submitReq(t, `{"number": 11}`, map[string]string{"Idempotency-Key": k})); resp.StatusCode != http.StatusAccepted {
			t.Errorf("key %.20q = %d %s; want 202", k, resp.StatusCode, resp.Body)
		}
	}
}

func TestStatusRetryAfter(t *testing.T) {
	t.Parallel()
	store := memory.NewStore()
	t0 := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	h := &api.Status{Store: store, Now: func() time.Time { return t0 }}
	for _, tt := range []struct {
		status task.Status
		want   string
	}{
		{task.StatusPending, api.PollAfter}, {task.StatusStarted, api.PollAfter},
		{task.StatusSuccess, ""}, {task.StatusFailure, ""}, {task.StatusRevoked, ""},
	} {
		tk := task.Task{ID: task.NewID(), Status: tt.status, Number: "11", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
		if tt.status.Final() {
			tk.FinishedAt = t0
		}
		store.Create(t.Context(), tk)
		req := fixture(t, "status.json")
		req.PathParameters = map[string]string{"task_id": tk.ID}
		req.RawPath = "/" + tk.ID
		resp := handle(t, h, req)
		if got := resp.Headers["Retry-After"]; got != tt.want {
			t.Errorf("%s: Retry-After = %q; want %q", tt.status, got, tt.want)
		}
	}
}

func TestCancel(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	store := memory.NewStore()
	h := &api.Status{Store: store, Revoker: store, Retention: time.Hour, Now: func() time.Time { return t0.Add(time.Second) }}
	mk := func(s task.Status) string {
		tk := task.Task{ID: task.NewID(), Status: s, Number: "11", CreatedAt: t0, ExpiresAt: t0.Add(24 * time.Hour)}
		store.Create(t.Context(), tk)
		return tk.ID
	}
	del := func(id string) events.APIGatewayV2HTTPResponse {
		req := fixture(t, "status.json")
		req.RequestContext.HTTP.Method = http.MethodDelete
		req.PathParameters = map[string]string{"task_id": id}
		req.RawPath = "/" + id
		return handle(t, h, req)
	}
	for _, s := range []task.Status{task.StatusPending, task.StatusStarted} {
		id := mk(s)
		resp := del(id)
		var got api.StatusResponse
		decode(t, resp.Body, &got)
		if resp.StatusCode != http.StatusOK || got.Status != task.StatusRevoked || got.FinishedAt == nil || !got.FinishedAt.Equal(t0.Add(time.Second)) {
			t.Errorf("DELETE %s task = %d %s; want 200 REVOKED, finished now", s, resp.StatusCode, resp.Body)
		}
		if tk, _ := store.Get(t.Context(), id); tk.Status != task.StatusRevoked || !tk.ExpiresAt.Equal(t0.Add(time.Second+time.Hour)) {
			t.Errorf("stored %+v; want REVOKED, kept for the retention", tk)
		}
		if again := del(id); again.StatusCode != http.StatusConflict || !strings.Contains(decodeError(t, again), "REVOKED") {
			t.Errorf("second DELETE = %d %s; want 409 naming REVOKED", again.StatusCode, again.Body)
		}
	}
	done := mk(task.StatusPending)
	store.Finish(t.Context(), done, task.Outcome{Status: task.StatusSuccess, IsPrime: true, FinishedAt: t0, ExpiresAt: t0.Add(time.Hour)})
	if resp := del(done); resp.StatusCode != http.StatusConflict || !strings.Contains(decodeError(t, resp), "SUCCESS") {
		t.Errorf("DELETE of a SUCCESS = %d %s; want 409 naming SUCCESS", resp.StatusCode, resp.Body)
	}
	for _, id := range []string{task.NewID(), "not-a-uuid"} {
		if resp := del(id); resp.StatusCode != http.StatusNotFound {
			t.Errorf("DELETE %s = %d %s; want 404", id, resp.StatusCode, resp.Body)
		}
	}
	// The store down is a 503.
	down := &api.Status{Store: store, Revoker: revokerFunc(func() error { return errors.New("timeout") })}
	req := fixture(t, "status.json")
	req.RequestContext.HTTP.Method = http.MethodDelete
	resp := handle(t, down, req)
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Headers["Retry-After"] == "" {
		t.Errorf("DELETE with the store down = %d %v; want 503 with Retry-After", resp.StatusCode, resp.Headers)
	}
	// With a Revoker, 405s name DELETE.
	req = fixture(t, "status.json")
	req.RequestContext.HTTP.Method = http.MethodPut
	if resp := handle(t, h, req); resp.StatusCode != http.StatusMethodNotAllowed || resp.Headers["Allow"] != "GET, HEAD, DELETE" {
		t.Errorf("PUT = %d Allow %q; want 405 with Allow: GET, HEAD, DELETE", resp.StatusCode, resp.Headers["Allow"])
	}
}

type revokerFunc func() error

func (f revokerFunc) Revoke(context.Context, string, time.Time, time.Time) (task.Task, error) {
	return task.Task{}, f()
}

func decode(t *testing.T, body string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(body), v); err != nil {
		t.Fatalf("body %q: %v", body, err)
	}
}

// TestPreflight: OPTIONS, a browser's CORS preflight, is 204 with no body
// and Allow naming the route's methods, on / and on a task (whether or not
// it exists); on a path that is no route it is the 404 of any method.
func TestPreflight(t *testing.T) {
	t.Parallel()
	store := memory.NewStore()
	tests := []struct {
		name       string
		handler    func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)
		fixture    string
		params     map[string]string // nil: the fixture's
		wantStatus int
		wantAllow  string
	}{
		{"submit", (&api.Submit{Tasks: &fakeSubmitter{}}).Handle, "submit.json", nil, 204, "POST"},
		{"task", (&api.Status{Store: store}).Handle, "status.json", nil, 204, "GET, HEAD"},
		{"task, with cancel", (&api.Status{Store: store, Revoker: store}).Handle, "status.json", nil, 204, "GET, HEAD, DELETE"},
		{"no route", (&api.Status{Store: store}).Handle, "status.json", map[string]string{}, 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req := fixture(t, tt.fixture)
			req.RequestContext.HTTP.Method = http.MethodOptions
			req.Body = ""
			if tt.params != nil {
				req.PathParameters = nil
			}
			resp, err := tt.handler(t.Context(), req)
			if err != nil {
				t.Fatal(err)
			}
			if tt.params == nil {
				apitest.CheckEvent(t, req.RequestContext.HTTP.Method, req.RawPath, resp)
			}
			if resp.StatusCode != tt.wantStatus || resp.Headers["Allow"] != tt.wantAllow {
				t.Errorf("OPTIONS = %d, Allow %q; want %d, Allow %q", resp.StatusCode, resp.Headers["Allow"], tt.wantStatus, tt.wantAllow)
			}
			if tt.wantStatus == 204 && resp.Body != "" {
				t.Errorf("OPTIONS body = %q; want none", resp.Body)
			}
		})
	}
}
