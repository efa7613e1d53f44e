package loadgen

import (
	"context"
	"math"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// testConfig is a fast config against url.
func testConfig(url string) Config {
	cfg := DefaultConfig()
	cfg.URL = url
	cfg.Jobs = 40
	cfg.Concurrency = 4
	cfg.PollInterval = time.Millisecond
	cfg.JobTimeout = 10 * time.Second
	return cfg
}

// runAgainst runs cfg, as changed by edit, against a test server for h.
func runAgainst(t *testing.T, h http.Handler, edit func(*Config)) *Report {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	cfg := testConfig(srv.URL)
	if edit != nil {
		edit(&cfg)
	}
	res, err := Run(t.Context(), cfg)
	if err != nil {
		t.Fatalf("Run() error = %v; want nil", err)
	}
	return &res.Report
}

// primesIn counts the primes among the numbers a config submits.
func primesIn(cfg Config) int {
	g := newNumbers(cfg.Seed, cfg.Min, cfg.Max, cfg.Jobs)
	primes := 0
	for n, ok := g.next(); ok; n, ok = g.next() {
		if big.NewInt(n).ProbablyPrime(20) {
			primes++
		}
	}
	return primes
}

// verifyCounts are the figures of a VerifyReport that do not depend on
// timing.
type verifyCounts struct {
	Accepted, Finished, Lost, Duplicates, DuplicateIDs, ChangedResults, Mismatched, Unverified, Stragglers int
}

// countsOf returns the counts of v, or all -1 for a nil report.
func countsOf(v *VerifyReport) verifyCounts {
	if v == nil {
		return verifyCounts{-1, -1, -1, -1, -1, -1, -1, -1, -1}
	}
	return verifyCounts{v.Accepted, v.Finished, v.Lost, v.Duplicates, v.DuplicateIDs, v.ChangedResults, v.Mismatched, v.Unverified, v.Stragglers}
}

// want compares one named figure.
func want[T comparable](t *testing.T, name string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %v; want %v", name, got, want)
	}
}

func TestRunClosedLoopClean(t *testing.T) {
	t.Parallel()
	fake := &fakeAPI{PollsToComplete: 3}
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(fake)
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	cfg := testConfig(srv.URL)
	cfg.Jobs = 50

	res, err := Run(t.Context(), cfg)
	if err != nil {
		t.Fatalf("Run() error = %v; want nil", err)
	}
	r := res.Report
	c := fake.Counts()
	want(t, "mode", r.Mode, "closed")
	want(t, "submitted", r.Submitted, 50)
	want(t, "accepted", r.Accepted, 50)
	want(t, "completed", r.Completed, 50)
	want(t, "success", r.Succeeded, 50)
	want(t, "failure", r.Failed, 0)
	want(t, "primes", r.Primes, primesIn(cfg))
	want(t, "error count", r.ErrorCount, 0)
	want(t, "jobs errored", r.JobsErrored, 0)
	want(t, "status requests", r.StatusRequests, 150)
	want(t, "verify requests", r.Verify.Requests, 50)
	want(t, "server status requests", c.StatusRequests, 150+50)
	want(t, "polls per job", r.PollsPerJob, 3.0)
	want(t, "submit latency count", r.SubmitLatency.Count, 50)
	want(t, "status latency count", r.StatusLatency.Count, 150)
	want(t, "time to result count", r.TimeToResult.Count, 50)
	want(t, "ok", r.OK(), true)
	want(t, "interrupted", r.Interrupted, false)
	want(t, "verify", countsOf(r.Verify), verifyCounts{Accepted: 50, Finished: 50})
	want(t, "verify examples", len(r.Verify.Examples), 0)
	if c.MaxActive > cfg.Concurrency {
		t.Errorf("server saw %d tasks in flight; want at most %d (-c)", c.MaxActive, cfg.Concurrency)
	}
	// Bodies are drained and closed, so connections are reused: far fewer
	// connections than the 200 requests.
	if n := conns.Load(); n > 50 {
		t.Errorf("server saw %d connections for 200 requests; want keep-alive reuse", n)
	}
	if n := res.Samples.TimeToResult.TotalCount(); n != 50 {
		t.Errorf("got %d time-to-result samples; want 50", n)
	}
}

func TestRunCountsErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		fake *fakeAPI
		edit func(*Config)
		// check compares the report with what the fake served.
		check func(t *testing.T, r *Report, c fakeCounts, cfg Config)
	}{
		{
			name: "injected 503s",
			fake: &fakeAPI{PollsToComplete: 2, SubmitFailEvery: 5, StatusFailEvery: 4},
			// The verify pass would add its own status requests and 503s;
			// TestRunVerify covers it.
			edit: func(c *Config) { c.Verify = false },
			check: func(t *testing.T, r *Report, c fakeCounts, _ Config) {
				want(t, "submitted", r.Submitted, 40)
				want(t, "accepted", r.Accepted, 32)
				want(t, "submit_http_503", r.Errors["submit_http_503"], 8)
				want(t, "status_http_503", r.Errors["status_http_503"], c.Status503)
				want(t, "error count", r.ErrorCount, 8+c.Status503)
				want(t, "completed (503 polls are retried)", r.Completed, 32)
				want(t, "jobs errored", r.JobsErrored, 8)
				want(t, "status requests", r.StatusRequests, c.StatusRequests)
				want(t, "example", r.ErrorExamples["status_http_503"] != "", true)
				if c.Status503 == 0 {
					t.Errorf("fake served no status 503s; the test injects some")
				}
			},
		},
		{
			name: "wrong is_prime",
			fake: &fakeAPI{WrongPrime: true},
			check: func(t *testing.T, r *Report, _ fakeCounts, _ Config) {
				want(t, "completed", r.Completed, 40)
				want(t, "mismatch", r.Errors[ErrKindMismatch], 40)
				want(t, "jobs errored", r.JobsErrored, 40)
			},
		},
		{
			name: "wrong is_prime unchecked",
			fake: &fakeAPI{WrongPrime: true},
			edit: func(c *Config) { c.Check = false },
			check: func(t *testing.T, r *Report, _ fakeCounts, cfg Config) {
				want(t, "completed", r.Completed, 40)
				want(t, "error count", r.ErrorCount, 0)
				want(t, "primes (as reported)", r.Primes, 40-primesIn(cfg))
			},
		},
		{
			name: "FAILURE tasks",
			fake: &fakeAPI{Fail: func(n int64) bool { return n%2 == 0 }},
			check: func(t *testing.T, r *Report, _ fakeCounts, cfg Config) {
				even := 0
				g := newNumbers(cfg.Seed, cfg.Min, cfg.Max, cfg.Jobs)
				for n, ok := g.next(); ok; n, ok = g.next() {
					if n%2 == 0 {
						even++
					}
				}
				want(t, "failure", r.Failed, even)
				want(t, "success", r.Succeeded, 40-even)
				want(t, "error count", r.ErrorCount, 0)
				want(t, "ok", r.OK(), false)
				want(t, "failure example", r.FailureExample != "", true)
			},
		},
		{
			name: "timeouts",
			fake: &fakeAPI{PollsToComplete: -1},
			edit: func(c *Config) {
				c.Jobs = 6
				c.Concurrency = 3
				c.JobTimeout = 200 * time.Millisecond
			},
			check: func(t *testing.T, r *Report, _ fakeCounts, _ Config) {
				want(t, "accepted", r.Accepted, 6)
				want(t, "completed", r.Completed, 0)
				want(t, "timeout", r.Errors[ErrKindTimeout], 6)
				want(t, "error count", r.ErrorCount, 6)
				want(t, "jobs errored", r.JobsErrored, 6)
			},
		},
		{
			name: "open loop",
			fake: &fakeAPI{PollsToComplete: 2},
			edit: func(c *Config) {
				c.Rate = 5000
				c.MaxInFlight = 3
				c.Jobs = 30
			},
			check: func(t *testing.T, r *Report, c fakeCounts, _ Config) {
				want(t, "mode", r.Mode, "open")
				want(t, "completed", r.Completed, 30)
				want(t, "error count", r.ErrorCount, 0)
				if c.MaxActive > 3 {
					t.Errorf("server saw %d tasks in flight; want at most 3 (-max-inflight)", c.MaxActive)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var cfg Config
			r := runAgainst(t, tt.fake, func(c *Config) {
				if tt.edit != nil {
					tt.edit(c)
				}
				cfg = *c
			})
			tt.check(t, r, tt.fake.Counts(), cfg)
			want(t, "ok", r.OK(), r.ErrorCount == 0 && r.Failed == 0)
		})
	}
}

func TestRunStatus404EndsJob(t *testing.T) {
	t.Parallel()
	fake := &fakeAPI{}
	// A server that accepts tasks and then forgets them.
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"error":"task not found"}`))
			return
		}
		fake.ServeHTTP(w, r)
	})
	r := runAgainst(t, h, func(c *Config) { c.Jobs = 10 })
	want(t, "status_http_404", r.Errors["status_http_404"], 10)
	want(t, "status requests", r.StatusRequests, 10)
	want(t, "jobs errored", r.JobsErrored, 10)
	want(t, "example", r.ErrorExamples["status_http_404"] != "", true)
}

func TestRunTransportErrors(t *testing.T) {
	t.Parallel()
	// A listener that is closed at once: every submit fails to connect.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cfg := testConfig("http://" + addr)
	cfg.Jobs = 5
	res, err := Run(t.Context(), cfg)
	if err != nil {
		t.Fatalf("Run() error = %v; want nil", err)
	}
	want(t, "submit_transport", res.Report.Errors[ErrKindSubmitNetwork], 5)
	want(t, "accepted", res.Report.Accepted, 0)
	want(t, "ok", res.Report.OK(), false)
}

func TestRunBaseURLWithPath(t *testing.T) {
	t.Parallel()
	fake := &fakeAPI{PollsToComplete: 2}
	mux := http.NewServeMux()
	mux.Handle("/prod/", http.StripPrefix("/prod", fake))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	for _, suffix := range []string{"/prod", "/prod/"} {
		cfg := testConfig(srv.URL + suffix)
		cfg.Jobs = 5
		res, err := Run(t.Context(), cfg)
		if err != nil {
			t.Fatalf("Run(%s) error = %v; want nil", suffix, err)
		}
		want(t, "completed with "+suffix, res.Report.Completed, 5)
		want(t, "errors with "+suffix, res.Report.ErrorCount, 0)
	}
}

func TestRunCanceled(t *testing.T) {
	t.Parallel()
	fake := &fakeAPI{PollsToComplete: -1}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var once sync.Once
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			once.Do(cancel)
		}
		fake.ServeHTTP(w, r)
	})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	cfg := testConfig(srv.URL)
	cfg.Jobs = 100
	cfg.Concurrency = 2
	res, err := Run(ctx, cfg)
	if err != nil {
		t.Fatalf("Run() error = %v; want nil", err)
	}
	r := res.Report
	want(t, "interrupted", r.Interrupted, true)
	want(t, "ok", r.OK(), false)
	want(t, "completed", r.Completed, 0)
	want(t, "unverified", r.Verify.Unverified, r.Accepted)
	if r.Submitted >= 100 {
		t.Errorf("submitted %d jobs after cancel; want fewer than 100", r.Submitted)
	}
}

func TestRunInvalidConfig(t *testing.T) {
	t.Parallel()
	cfg := DefaultConfig() // no URL
	if _, err := Run(t.Context(), cfg); err == nil {
		t.Errorf("Run() without URL error = nil; want an error")
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		edit    func(*Config)
		wantErr bool
	}{
		{name: "defaults with url", edit: func(*Config) {}},
		{name: "https with stage", edit: func(c *Config) { c.URL = "https://abc.execute-api.eu-west-1.amazonaws.com/prod/" }},
		{name: "no url", edit: func(c *Config) { c.URL = "" }, wantErr: true},
		{name: "no scheme", edit: func(c *Config) { c.URL = "127.0.0.1:8000" }, wantErr: true},
		{name: "ftp", edit: func(c *Config) { c.URL = "ftp://example.com" }, wantErr: true},
		{name: "query", edit: func(c *Config) { c.URL = "http://example.com/?a=1" }, wantErr: true},
		{name: "zero jobs", edit: func(c *Config) { c.Jobs = 0 }, wantErr: true},
		{name: "zero concurrency", edit: func(c *Config) { c.Concurrency = 0 }, wantErr: true},
		{name: "zero concurrency is fine in open loop", edit: func(c *Config) { c.Concurrency, c.Rate = 0, 10 }},
		{name: "negative rate", edit: func(c *Config) { c.Rate = -1 }, wantErr: true},
		{name: "infinite rate", edit: func(c *Config) { c.Rate = math.Inf(1) }, wantErr: true},
		{name: "open loop without slots", edit: func(c *Config) { c.Rate, c.MaxInFlight = 10, 0 }, wantErr: true},
		{name: "zero poll", edit: func(c *Config) { c.PollInterval = 0 }, wantErr: true},
		{name: "zero timeout", edit: func(c *Config) { c.JobTimeout = 0 }, wantErr: true},
		{name: "empty range", edit: func(c *Config) { c.Min, c.Max = 10, 9 }, wantErr: true},
		{name: "single number", edit: func(c *Config) { c.Min, c.Max = 9, 9 }},
		{name: "negative pid", edit: func(c *Config) { c.PID = -1 }, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := DefaultConfig()
			cfg.URL = "http://127.0.0.1:8000"
			tt.edit(&cfg)
			err := cfg.Validate()
			if (err != nil) != tt.wantErr {
				t.Errorf("Validate() error = %v; want error: %t", err, tt.wantErr)
			}
		})
	}
}

func TestNumbers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		min, max int64
	}{
		{name: "default range", min: DefaultConfig().Min, max: DefaultConfig().Max},
		{name: "single value", min: 7, max: 7},
		{name: "negative", min: -5, max: 5},
		{name: "full int64 range", min: math.MinInt64, max: math.MaxInt64},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := newNumbers(42, tt.min, tt.max, 100)
			b := newNumbers(42, tt.min, tt.max, 100)
			count := 0
			for {
				x, okA := a.next()
				y, okB := b.next()
				if okA != okB {
					t.Fatalf("generators with the same seed disagree on length")
				}
				if !okA {
					break
				}
				count++
				if x != y {
					t.Fatalf("number %d: got %d and %d from the same seed; want equal", count, x, y)
				}
				if x < tt.min || x > tt.max {
					t.Fatalf("number %d = %d; want in [%d, %d]", count, x, tt.min, tt.max)
				}
			}
			want(t, "count", count, 100)
		})
	}
}

func TestRunVerify(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		fake *fakeAPI
		edit func(*Config)
		want verifyCounts
		// example is a kind that must have an example containing text.
		example, text string
		// check compares the rest of the report with what the fake served.
		check func(t *testing.T, r *Report, c fakeCounts)
	}{
		{
			name: "clean",
			fake: &fakeAPI{PollsToComplete: 2},
			want: verifyCounts{Accepted: 40, Finished: 40},
			check: func(t *testing.T, r *Report, c fakeCounts) {
				want(t, "verify requests", r.Verify.Requests, 40)
				want(t, "server status requests", c.StatusRequests, r.StatusRequests+40)
			},
		},
		{
			name: "clean open loop",
			fake: &fakeAPI{PollsToComplete: 2},
			edit: func(c *Config) { c.Rate, c.MaxInFlight, c.Jobs = 5000, 3, 30 },
			want: verifyCounts{Accepted: 30, Finished: 30},
		},
		{
			name: "FAILURE is final too",
			fake: &fakeAPI{Fail: func(n int64) bool { return n%2 == 0 }},
			want: verifyCounts{Accepted: 40, Finished: 40},
		},
		{
			name: "503s on re-read are retried",
			fake: &fakeAPI{PollsToComplete: 2, StatusFailEvery: 3},
			// One worker: a retry is the next request the fake sees, so
			// it is never the third in a row.
			edit: func(c *Config) { c.Jobs, c.Concurrency = 12, 1 },
			want: verifyCounts{Accepted: 12, Finished: 12},
			check: func(t *testing.T, r *Report, _ fakeCounts) {
				if r.Verify.Requests <= 12 {
					t.Errorf("verify requests = %d; want more than 12 (retries of 503s)", r.Verify.Requests)
				}
			},
		},
		{
			name:    "forgotten tasks are lost",
			fake:    &fakeAPI{ForgetEvery: 4},
			want:    verifyCounts{Accepted: 40, Finished: 30, Lost: 10},
			example: VerifyLost, text: "HTTP 404",
			check: func(t *testing.T, r *Report, c fakeCounts) {
				want(t, "fake forgotten", c.Forgotten, 10)
				want(t, "run errors", r.ErrorCount, 0)
			},
		},
		{
			name:    "unfinished tasks are lost",
			fake:    &fakeAPI{PollsToComplete: -1},
			edit:    func(c *Config) { c.Jobs, c.Concurrency, c.JobTimeout = 6, 3, 100*time.Millisecond },
			want:    verifyCounts{Accepted: 6, Lost: 6, Stragglers: 6},
			example: VerifyLost, text: "still STARTED",
		},
		{
			name:    "flipped results",
			fake:    &fakeAPI{FlipEvery: 4},
			want:    verifyCounts{Accepted: 40, Finished: 40, Duplicates: 10, ChangedResults: 10, Mismatched: 10},
			example: VerifyChanged, text: "during the run",
			check: func(t *testing.T, r *Report, c fakeCounts) {
				want(t, "fake flipped", c.Flipped, 10)
				want(t, "run errors", r.ErrorCount, 0)
				if r.Verify.Examples[VerifyMismatched] == "" {
					t.Errorf("no %s example", VerifyMismatched)
				}
			},
		},
		{
			name: "flipped results unchecked",
			fake: &fakeAPI{FlipEvery: 4},
			edit: func(c *Config) { c.Check = false },
			want: verifyCounts{Accepted: 40, Finished: 40, Duplicates: 10, ChangedResults: 10},
		},
		{
			name:    "duplicate ids",
			fake:    &fakeAPI{DuplicateIDEvery: 5},
			want:    verifyCounts{Accepted: 40, Finished: 40, Duplicates: 8, DuplicateIDs: 8, Mismatched: 8},
			example: VerifyDuplicateID, text: "returned by 2 accepted submits",
			check: func(t *testing.T, r *Report, c fakeCounts) {
				want(t, "fake duplicate ids", c.DuplicateIDs, 8)
				// The second submit's check sees the first one's number.
				want(t, "run mismatches", r.Errors[ErrKindMismatch], 8)
			},
		},
		{
			name: "duplicate ids unchecked",
			fake: &fakeAPI{DuplicateIDEvery: 5},
			edit: func(c *Config) { c.Check = false },
			want: verifyCounts{Accepted: 40, Finished: 40, Duplicates: 8, DuplicateIDs: 8},
			check: func(t *testing.T, r *Report, _ fakeCounts) {
				want(t, "run errors", r.ErrorCount, 0)
			},
		},
		{
			name: "off",
			fake: &fakeAPI{},
			edit: func(c *Config) { c.Verify = false },
			want: countsOf(nil),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := runAgainst(t, tt.fake, tt.edit)
			want(t, "verify", countsOf(r.Verify), tt.want)
			if tt.example != "" {
				if ex := r.Verify.Examples[tt.example]; !strings.Contains(ex, tt.text) {
					t.Errorf("verify example %s = %q; want it to contain %q", tt.example, ex, tt.text)
				}
			}
			if tt.check != nil {
				tt.check(t, r, tt.fake.Counts())
			}
			verifyOK := r.Verify == nil || r.Verify.OK()
			want(t, "verify ok", verifyOK, r.Verify == nil || tt.want.Lost == 0 && tt.want.Duplicates == 0 && tt.want.Mismatched == 0)
			want(t, "ok", r.OK(), r.ErrorCount == 0 && r.Failed == 0 && verifyOK)
			want(t, "problem mentions verify", strings.Contains(r.Problem(), "verify: "), !verifyOK)
		})
	}
}
