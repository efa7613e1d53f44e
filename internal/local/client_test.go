package local_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/asyncprime/asyncprime"
	"github.com/asyncprime/asyncprime/internal/api"
	"github.com/asyncprime/asyncprime/internal/apitest"
	"github.com/asyncprime/asyncprime/internal/local"
	"github.com/asyncprime/asyncprime/internal/memory"
	"github.com/asyncprime/asyncprime/internal/task"
	"github.com/asyncprime/asyncprime/internal/testkit"
)

func TestServesOpenAPI(t *testing.T) {
	t.Parallel()
	srv := startSystem(t, testConfig())
	resp, err := http.Get(srv.URL + "/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || string(b) != string(asyncprime.OpenAPI) || !strings.Contains(resp.Header.Get("Content-Type"), "yaml") {
		t.Errorf("GET /openapi.yaml = %d %s, %d bytes; want 200 with openapi.yaml", resp.StatusCode, resp.Header.Get("Content-Type"), len(b))
	}
}

// TestBatchAndIdempotencyEndToEnd submits a batch twice with one key over
// HTTP, and every task finishes once.
func TestBatchAndIdempotencyEndToEnd(t *testing.T) {
	t.Parallel()
	srv := startSystem(t, testConfig())
	key := map[string]string{"Idempotency-Key": "e2e-" + task.NewID()}
	resp, first := apitest.Do(t, "POST", srv.URL+"/", `{"numbers": [4, 5, "97", 2305843009213693951]}`, key)
	if resp.StatusCode != http.StatusAccepted || resp.Header.Get("Retry-After") != api.PollAfter {
		t.Fatalf("POST batch = %d %s; want 202 with Retry-After", resp.StatusCode, first)
	}
	_, again := apitest.Do(t, "POST", srv.URL+"/", `{"numbers": [4, 5, 97, "2305843009213693951"]}`, key)
	if string(again) != string(first) {
		t.Errorf("retry = %s; want %s", again, first)
	}
	if resp, _ := apitest.Do(t, "POST", srv.URL+"/", `{"numbers": [4]}`, key); resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("key reused = %d; want 422", resp.StatusCode)
	}
	var b api.BatchResponse
	if err := json.Unmarshal(first, &b); err != nil {
		t.Fatal(err)
	}
	for i, want := range []bool{false, true, true, true} {
		if got := waitFinal(t, srv.URL, b.TaskIDs[i]); got.Status != task.StatusSuccess || got.Result == nil || got.Result.IsPrime != want {
			t.Errorf("task %d = %+v; want SUCCESS, is_prime %v", i, got, want)
		}
	}
}

// TestCancelEndToEnd revokes queued tasks over HTTP before any worker
// runs; the worker then acknowledges their messages, records nothing, and
// never runs the long check of a number beyond 64 bits. (A number of up to
// 64 bits may be checked, a microsecond, before its result is refused.)
func TestCancelEndToEnd(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	q := memory.NewQueue(memory.QueueOptions{VisibilityTimeout: cfg.VisibilityTimeout})
	sys := local.NewSystem(cfg, &local.Backend{Store: memory.NewStore(), Queue: q}, quiet())
	checked := make(chan task.Number, 10)
	sys.Poller.Handler = workerWith(&task.Processor{Store: sys.Store, Check: func(_ context.Context, n task.Number) (bool, error) {
		checked <- n
		return true, nil
	}})
	srv := httptest.NewServer(sys.API)
	defer srv.Close()
	ids := []string{submit(t, srv.URL, `{"number": 11}`), submit(t, srv.URL, `{"number": 170141183460469231731687303715884105727}`)}
	for _, id := range ids {
		resp, body := apitest.Do(t, "DELETE", srv.URL+"/"+id, "", nil)
		var got api.StatusResponse
		json.Unmarshal(body, &got)
		if resp.StatusCode != http.StatusOK || got.Status != task.StatusRevoked {
			t.Fatalf("DELETE = %d %s; want 200 REVOKED", resp.StatusCode, body)
		}
		if resp, body := apitest.Do(t, "DELETE", srv.URL+"/"+id, "", nil); resp.StatusCode != http.StatusConflict {
			t.Errorf("second DELETE = %d %s; want 409", resp.StatusCode, body)
		}
	}
	// Now the worker runs: the message is acknowledged, nothing checked.
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { sys.Poller.Run(ctx); close(done) }()
	testkit.Eventually(t, 20*time.Second, func() bool { return q.Len() == 0 },
		"want the revoked tasks' messages acknowledged")
	cancel()
	<-done
	close(checked)
	for n := range checked {
		if task.Big(n) {
			t.Errorf("the worker checked %s, a revoked task beyond 64 bits", n)
		}
	}
	for _, id := range ids {
		if s := waitFinal(t, srv.URL, id); s.Status != task.StatusRevoked {
			t.Errorf("after the worker, the task is %s; want REVOKED", s.Status)
		}
	}
}
