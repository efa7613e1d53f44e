package loadgen

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// newVerifyRunner returns a runner for cfg whose ledger holds jobs tasks
// submitted to srv directly, as if the load phase had ended before seeing
// any of them final.
func newVerifyRunner(t *testing.T, srv *httptest.Server, cfg Config, jobs int) *runner {
	t.Helper()
	r := &runner{cfg: cfg, api: &apiClient{http: srv.Client(), base: srv.URL}, ledger: newLedger(jobs)}
	for n := range int64(jobs) {
		id, _, err := r.api.submit(t.Context(), 1_000_000+n)
		if err != nil {
			t.Fatalf("submit: %v", err)
		}
		r.ledger.accept(id, 1_000_000+n)
	}
	return r
}

func TestVerifyStragglers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		fake *fakeAPI
		// timeout is the window for stragglers; the test only relies on
		// it being an upper bound.
		timeout time.Duration
		want    verifyCounts
	}{
		{
			// PENDING at the first re-read, STARTED at the second, final
			// at the third: stragglers, but not lost.
			name:    "finish late",
			fake:    &fakeAPI{PollsToComplete: 3},
			timeout: time.Minute,
			want:    verifyCounts{Accepted: 5, Finished: 5, Stragglers: 5},
		},
		{
			name:    "never finish",
			fake:    &fakeAPI{PollsToComplete: -1},
			timeout: 50 * time.Millisecond,
			want:    verifyCounts{Accepted: 5, Lost: 5, Stragglers: 5},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(tt.fake)
			t.Cleanup(srv.Close)
			cfg := testConfig(srv.URL)
			cfg.Concurrency = 2
			cfg.JobTimeout = tt.timeout
			r := newVerifyRunner(t, srv, cfg, 5)
			v := r.verify(t.Context())
			want(t, "verify", countsOf(v), tt.want)
			if v.Requests < 2*5 {
				t.Errorf("requests = %d; want at least two rounds of 5", v.Requests)
			}
		})
	}
}

func TestVerifyUnknownState(t *testing.T) {
	t.Parallel()
	fake := &fakeAPI{}
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	r := newVerifyRunner(t, srv, testConfig(srv.URL), 3)
	// Re-read through a server that answers a state the API does not have.
	odd := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"status":"RETRYING"}`))
	}))
	t.Cleanup(odd.Close)
	r.api.base = odd.URL
	v := r.verify(t.Context())
	want(t, "verify", countsOf(v), verifyCounts{Accepted: 3, Lost: 3})
	if ex := v.Examples[VerifyLost]; !strings.Contains(ex, `"RETRYING"`) {
		t.Errorf("lost example = %q; want the state named", ex)
	}
}

func TestVerifyCanceled(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(&fakeAPI{})
	t.Cleanup(srv.Close)
	r := newVerifyRunner(t, srv, testConfig(srv.URL), 4)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	v := r.verify(ctx)
	want(t, "verify", countsOf(v), verifyCounts{Accepted: 4, Unverified: 4})
	want(t, "ok", v.OK(), false)
}
