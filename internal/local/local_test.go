package local_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/asyncprime/asyncprime/internal/api"
	"github.com/asyncprime/asyncprime/internal/apitest"
	"github.com/asyncprime/asyncprime/internal/local"
	"github.com/asyncprime/asyncprime/internal/memory"
	"github.com/asyncprime/asyncprime/internal/task"
	"github.com/asyncprime/asyncprime/internal/testkit"
	"github.com/asyncprime/asyncprime/internal/worker"
)

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

// startSystem runs the whole local system on memory adapters.
func startSystem(t *testing.T, cfg local.Config) *httptest.Server {
	t.Helper()
	dlq := memory.NewQueue(memory.QueueOptions{Name: "dlq"})
	q := memory.NewQueue(memory.QueueOptions{VisibilityTimeout: cfg.VisibilityTimeout, DeadLetter: dlq, MaxReceiveCount: cfg.MaxReceiveCount})
	sys := local.NewSystem(cfg, &local.Backend{Store: memory.NewStore(), Queue: q}, quiet())
	srv := httptest.NewServer(sys.API)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { sys.Poller.Run(ctx); close(done) }()
	t.Cleanup(func() { srv.Close(); cancel(); <-done })
	return srv
}

func testConfig() local.Config {
	return local.Config{Workers: 2, BatchSize: 10, VisibilityTimeout: time.Second, MaxReceiveCount: 3, WorkerTimeout: 10 * time.Second, Retention: time.Hour}
}

// submit posts body until it is accepted and returns the task id. A 503
// (the store or queue missed the submit budget: a loaded emulator) is an
// answer a client retries; any other answer but 202 fails.
func submit(t *testing.T, base, body string) string {
	t.Helper()
	var r api.SubmitResponse
	testkit.Eventually(t, 2*time.Minute, func() bool {
		resp, b := apitest.Do(t, http.MethodPost, base+"/", body, nil)
		if resp.StatusCode == http.StatusServiceUnavailable {
			return false
		}
		if err := json.Unmarshal(b, &r); err != nil || resp.StatusCode != http.StatusAccepted {
			t.Fatalf("POST %s = %d, %v; want 202", body, resp.StatusCode, err)
		}
		if loc := resp.Header.Get("Location"); loc != "/"+r.TaskID {
			t.Errorf("Location = %q; want /%s", loc, r.TaskID)
		}
		return true
	}, "POST %s accepted", body)
	return r.TaskID
}

// waitFinal polls the task until it is final. A 503 is the status
// function's answer when the store did not answer within its budget (a
// loaded emulator, an outage just ended): ask again. Any other answer but
// 200 fails: a 404 is an accepted task lost.
func waitFinal(t *testing.T, base, id string) api.StatusResponse {
	t.Helper()
	var s api.StatusResponse
	testkit.Eventually(t, 2*time.Minute, func() bool {
		resp, b := apitest.Do(t, http.MethodGet, base+"/"+id, "", nil)
		switch resp.StatusCode {
		case http.StatusOK:
		case http.StatusServiceUnavailable:
			return false
		default:
			t.Fatalf("GET /%s = %d; want 200", id, resp.StatusCode)
		}
		s = api.StatusResponse{}
		if err := json.Unmarshal(b, &s); err != nil {
			t.Fatalf("GET /%s: %v", id, err)
		}
		return s.Status.Final()
	}, "task %s finished", id)
	return s
}

// TestSeedSession replays the tutorial's curl session against the local mode.
func TestSeedSession(t *testing.T) {
	t.Parallel()
	srv := startSystem(t, testConfig())
	id := submit(t, srv.URL, `{"number":  11}`)
	waitFinal(t, srv.URL, id)
	resp, err := http.Get(srv.URL + "/" + id)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got map[string]any
	json.NewDecoder(resp.Body).Decode(&got)
	if got["status"] != "SUCCESS" || fmt.Sprint(got["result"]) != "map[is_prime:true number:11]" {
		t.Errorf("GET = %v; want SUCCESS with result {number: 11, is_prime: true}", got)
	}
}

func TestEndToEndResultsAreRight(t *testing.T) {
	t.Parallel()
	srv := startSystem(t, testConfig())
	numbers := []string{"0", "1", "2", "4", "9", "25", "49", "-7", "561", "2305843009213693951", "18446744073709551557", "18446744073709551617", "170141183460469231731687303715884105727"}
	ids := make([]string, len(numbers))
	for i, n := range numbers {
		ids[i] = submit(t, srv.URL, `{"number": "`+n+`"}`)
	}
	for i, n := range numbers {
		s := waitFinal(t, srv.URL, ids[i])
		b, _ := new(big.Int).SetString(n, 10)
		want := b.Sign() > 0 && b.ProbablyPrime(20)
		if s.Status != task.StatusSuccess || s.Result == nil || string(s.Result.Number) != n || s.Result.IsPrime != want {
			t.Errorf("%s: got %+v %+v; want SUCCESS is_prime=%v", n, s, s.Result, want)
		}
	}
}

func TestHTTPRouting(t *testing.T) {
	t.Parallel()
	srv := startSystem(t, testConfig())
	tests := []struct {
		method, path, body string
		wantStatus         int
		wantAllow          string
	}{
		{method: "GET", path: "/", wantStatus: 405, wantAllow: "POST"},
		{method: "PUT", path: "/", body: `{"number": 1}`, wantStatus: 405, wantAllow: "POST"},
		{method: "POST", path: "/" + task.NewID(), wantStatus: 405, wantAllow: "GET, HEAD, DELETE"},
		{method: "GET", path: "/" + task.NewID(), wantStatus: 404},
		{method: "DELETE", path: "/" + task.NewID(), wantStatus: 404},
		{method: "DELETE", path: "/", wantStatus: 405, wantAllow: "POST"},
		{method: "GET", path: "/a/b", wantStatus: 404},
		{method: "POST", path: "/", body: strings.Repeat("1", 1<<20), wantStatus: 413},
		{method: "POST", path: "/", body: "\xff\xfe", wantStatus: 400},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			t.Parallel()
			resp, body := apitest.Do(t, tt.method, srv.URL+tt.path, tt.body, nil)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d (%s); want %d", resp.StatusCode, body, tt.wantStatus)
			}
			if got := resp.Header.Get("Allow"); got != tt.wantAllow {
				t.Errorf("Allow = %q; want %q", got, tt.wantAllow)
			}
			var e api.Error
			if err := json.Unmarshal(body, &e); err != nil || e.Error == "" {
				t.Errorf("body %q is not a JSON error", body)
			}
		})
	}
}

func TestEventShape(t *testing.T) {
	t.Parallel()
	req := httptest.NewRequest("POST", "/?x=1", strings.NewReader(`{"number": 11}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Cookie", "a=b")
	ev := local.Event(req, []byte(`{"number": 11}`), api.RouteSubmit, nil)
	if ev.Version != "2.0" || ev.RouteKey != "POST /" || ev.RequestContext.HTTP.Method != "POST" ||
		ev.Headers["content-type"] != "application/json" || ev.Body != `{"number": 11}` || ev.IsBase64Encoded ||
		ev.RawQueryString != "x=1" || len(ev.Cookies) != 1 || ev.RequestContext.RequestID == "" {
		t.Errorf("event = %+v; want a payload 2.0 POST / event", ev)
	}
}

// TestPollerRetriesOnlyFailures checks the event source mapping's contract:
// records reported as failures come back after the visibility timeout with a
// higher receive count, the rest are deleted.
func TestPollerRetriesOnlyFailures(t *testing.T) {
	t.Parallel()
	q := memory.NewQueue(memory.QueueOptions{VisibilityTimeout: 300 * time.Millisecond})
	for _, b := range []string{"ok-1", "flaky", "ok-2"} {
		q.Send(t.Context(), b)
	}
	var mu sync.Mutex
	seen := map[string][]string{}
	var flakyDone atomic.Bool
	p := &local.Poller{
		Queue: q, BatchSize: 10, WaitTime: 50 * time.Millisecond, Concurrency: 1, FunctionTimeout: time.Second, Logger: quiet(),
		Handler: func(_ context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
			var resp events.SQSEventResponse
			mu.Lock()
			defer mu.Unlock()
			for _, r := range ev.Records {
				seen[r.Body] = append(seen[r.Body], r.Attributes["ApproximateReceiveCount"])
				if r.Body == "flaky" && len(seen[r.Body]) < 3 {
					resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: r.MessageId})
				} else if r.Body == "flaky" {
					flakyDone.Store(true)
				}
			}
			return resp, nil
		},
	}
	ctx, cancel := context.WithCancel(t.Context())
	polled := make(chan struct{})
	go func() { p.Run(ctx); close(polled) }()
	// Until flaky succeeded and every message was deleted.
	testkit.Eventually(t, time.Minute, func() bool { return flakyDone.Load() && q.Len() == 0 }, "flaky delivered 3 times and the queue empty")
	cancel()
	<-polled
	mu.Lock()
	defer mu.Unlock()
	if got := fmt.Sprint(seen["flaky"]); got != "[1 2 3]" {
		t.Errorf("flaky receive counts = %s; want [1 2 3]", got)
	}
	for _, b := range []string{"ok-1", "ok-2"} {
		if len(seen[b]) != 1 {
			t.Errorf("%s delivered %d times; want 1", b, len(seen[b]))
		}
	}
	if q.Len() != 0 {
		t.Errorf("queue holds %d messages; want 0", q.Len())
	}
}

func TestPollerWholeBatchFailsOnHandlerError(t *testing.T) {
	t.Parallel()
	q := memory.NewQueue(memory.QueueOptions{VisibilityTimeout: time.Hour})
	q.Send(t.Context(), "a")
	var calls atomic.Int32
	p := &local.Poller{
		Queue: q, BatchSize: 10, WaitTime: 10 * time.Millisecond, Concurrency: 1, FunctionTimeout: time.Second, Logger: quiet(),
		Handler: func(context.Context, events.SQSEvent) (events.SQSEventResponse, error) {
			calls.Add(1)
			panic("crash")
		},
	}
	ctx, cancel := context.WithCancel(t.Context())
	polled := make(chan struct{})
	go func() { p.Run(ctx); close(polled) }()
	testkit.Eventually(t, time.Minute, func() bool { return calls.Load() > 0 }, "the handler called")
	cancel()
	<-polled // Run returns once the batch in flight is done with
	if calls.Load() != 1 || q.Len() != 1 {
		t.Errorf("calls = %d, queue = %d; want 1 call and the message kept", calls.Load(), q.Len())
	}
}

// TestNewSystemWarnsOfATimeoutWithinTheReserve: a WORKER_TIMEOUT the
// worker's reserve takes whole is allowed (it makes dead letters on
// purpose), with a warning at start that no task will be checked.
func TestNewSystemWarnsOfATimeoutWithinTheReserve(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		timeout time.Duration
		warn    bool
	}{
		{"below", time.Second, true},
		{"equal", worker.DefaultReserve, true},
		{"above", worker.DefaultReserve + 500*time.Millisecond, false},
		{"default", worker.DefaultTimeout, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var logs bytes.Buffer
			cfg := testConfig()
			cfg.WorkerTimeout = tt.timeout
			local.NewSystem(cfg, &local.Backend{Store: memory.NewStore(), Queue: memory.NewQueue(memory.QueueOptions{})},
				slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn})))
			want := fmt.Sprintf(`level=WARN msg="WORKER_TIMEOUT is not above the worker's reserve: no task will be checked; every message goes back to its queue until it is dead-lettered and its task settled as FAILURE" worker_timeout=%s reserve=2s`, tt.timeout)
			if got := strings.Contains(logs.String(), want); got != tt.warn {
				t.Errorf("log:\n%s\nwant the warning %v", logs.String(), tt.warn)
			}
		})
	}
}
