package loadgen

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeClock is a schedule's time that moves only when the open loop
// sleeps: by the time asked, plus late, as a loaded machine wakes late.
type fakeClock struct {
	mu    sync.Mutex
	now   time.Time
	late  time.Duration
	wakes []time.Duration // when each Sleep returned, since the start
	start time.Time
}

func newFakeClock(late time.Duration) *fakeClock {
	t0 := time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)
	return &fakeClock{now: t0, start: t0, late: late}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if d > 0 {
		c.now = c.now.Add(d + c.late)
	}
	c.wakes = append(c.wakes, c.now.Sub(c.start))
	return ctx.Err() == nil
}

func TestOpenLoopSchedule(t *testing.T) {
	t.Parallel()
	ms := time.Millisecond
	tests := []struct {
		name      string
		rate      float64
		late      time.Duration
		wantWakes []time.Duration
		wantLag   time.Duration
	}{
		{name: "on time", rate: 4, wantWakes: []time.Duration{0, 250 * ms, 500 * ms, 750 * ms, 1000 * ms}},
		// A late wake-up delays that start, not the schedule: the next
		// start is still due at i/rate.
		{name: "waking late", rate: 4, late: 100 * ms, wantWakes: []time.Duration{0, 350 * ms, 600 * ms, 850 * ms, 1100 * ms}, wantLag: 100 * ms},
		{name: "1000 jobs/s", rate: 1000, wantWakes: []time.Duration{0, ms, 2 * ms, 3 * ms, 4 * ms}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clk := newFakeClock(tt.late)
			r := &runner{cfg: Config{Rate: tt.rate, MaxInFlight: 10}, rec: newRecorder(), numbers: newNumbers(1, 1, 1000, 5), clock: clk}
			var ran atomic.Int32
			r.openLoop(t.Context(), func(context.Context, int64) { ran.Add(1) })
			if got := ran.Load(); got != 5 {
				t.Errorf("ran %d jobs; want 5", got)
			}
			if !slices.Equal(clk.wakes, tt.wantWakes) {
				t.Errorf("starts at %v; want %v", clk.wakes, tt.wantWakes)
			}
			if r.rec.maxLag != tt.wantLag || r.rec.inflightWaits != 0 {
				t.Errorf("max lag %v, in-flight waits %d; want %v, 0", r.rec.maxLag, r.rec.inflightWaits, tt.wantLag)
			}
		})
	}
}

func TestOpenLoopStopsWhenCanceled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	r := &runner{cfg: Config{Rate: 4, MaxInFlight: 10}, rec: newRecorder(), numbers: newNumbers(1, 1, 1000, 5), clock: newFakeClock(0)}
	var ran atomic.Int32
	r.openLoop(ctx, func(context.Context, int64) { ran.Add(1) })
	if got := ran.Load(); got != 0 {
		t.Errorf("a canceled open loop ran %d jobs; want 0", got)
	}
}

func TestConfigJobsFromDuration(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  Config
		want int
	}{
		{name: "closed loop keeps -n", cfg: Config{Jobs: 7, Duration: time.Second}, want: 7},
		{name: "open loop without duration keeps -n", cfg: Config{Jobs: 7, Rate: 100}, want: 7},
		{name: "rate × duration", cfg: Config{Jobs: 7, Rate: 250, Duration: 10 * time.Second}, want: 2500},
		{name: "rounded up", cfg: Config{Jobs: 7, Rate: 2.5, Duration: time.Second}, want: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.cfg.jobs(); got != tt.want {
				t.Errorf("jobs() = %d; want %d", got, tt.want)
			}
		})
	}
}

func TestObjectiveSustained(t *testing.T) {
	t.Parallel()
	clean := func(edit func(*Report)) *Report {
		r := &Report{Jobs: 100, Submitted: 100, Accepted: 100, Completed: 100, Succeeded: 100, Errors: map[string]int{}}
		r.TimeToResult.P99 = 120
		if edit != nil {
			edit(r)
		}
		return r
	}
	tests := []struct {
		name string
		rep  *Report
		want bool
	}{
		{name: "clean and fast", rep: clean(nil), want: true},
		{name: "exactly at the bound", rep: clean(func(r *Report) { r.TimeToResult.P99 = 250 }), want: true},
		{name: "p99 over the bound", rep: clean(func(r *Report) { r.TimeToResult.P99 = 251 }), want: false},
		{name: "a job timed out", rep: clean(func(r *Report) { r.Completed, r.JobsErrored, r.ErrorCount = 99, 1, 1 }), want: false},
		{name: "a task ended in FAILURE", rep: clean(func(r *Report) { r.Succeeded, r.Failed = 99, 1 }), want: false},
		{name: "starts waited for in-flight slots", rep: clean(func(r *Report) { r.InflightWaits = 3 }), want: false},
		{name: "interrupted", rep: clean(func(r *Report) { r.Interrupted = true }), want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, why := DefaultObjective.Sustained(tt.rep)
			if got != tt.want || got != (why == "") {
				t.Errorf("Sustained = %v %q; want %v (and a reason exactly when not)", got, why, tt.want)
			}
		})
	}
}

func TestSweepStopsAtFirstRateNotSustained(t *testing.T) {
	t.Parallel()
	p99 := map[float64]float64{100: 40, 200: 90, 300: 400, 400: 30}
	var ran []Config
	run := func(_ context.Context, c Config) (*Result, error) {
		ran = append(ran, c)
		jobs := c.jobs()
		res := &Result{Report: Report{Jobs: jobs, Submitted: jobs, Accepted: jobs, Completed: jobs, Succeeded: jobs,
			Errors: map[string]int{}, CompletedPerSec: c.Rate}}
		res.Report.TimeToResult.P99 = p99[c.Rate]
		return res, nil
	}
	cfg := DefaultConfig()
	cfg.URL, cfg.Duration = "http://127.0.0.1:1", 2*time.Second
	rep, err := Sweep(t.Context(), cfg, []float64{100, 200, 300, 400}, DefaultObjective, run)
	if err != nil {
		t.Fatal(err)
	}
	var rates []float64
	for _, c := range ran {
		rates = append(rates, c.Rate)
		if c.Duration != cfg.Duration || c.MaxInFlight < int(c.Rate) || c.jobs() != int(c.Rate*2) {
			t.Errorf("run at %v: duration %v, max in flight %d, %d jobs; want %v, ≥ the rate, rate × 2 s", c.Rate, c.Duration, c.MaxInFlight, c.jobs(), cfg.Duration)
		}
	}
	if !slices.Equal(rates, []float64{100, 200, 300}) {
		t.Errorf("ran the rates %v; want 100, 200, 300 (stop at the first not sustained)", rates)
	}
	if rep.MaxSustained != 200 || rep.StoppedAtRate != 300 || len(rep.Steps) != 3 || rep.Steps[2].Sustained {
		t.Errorf("report: max sustained %v, stopped at %v, %d steps; want 200, 300, 3 with the last not sustained", rep.MaxSustained, rep.StoppedAtRate, len(rep.Steps))
	}
	if rep.LimitAbove() {
		t.Error("LimitAbove = true for a sweep that stopped at a rate not sustained")
	}

	// Every rate sustained: the table says the limit was not found.
	rep, err = Sweep(t.Context(), cfg, []float64{100, 200}, DefaultObjective, run)
	if err != nil {
		t.Fatal(err)
	}
	var table strings.Builder
	if err := rep.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	if want := "the limit is above 200 jobs/s"; !rep.LimitAbove() || !strings.Contains(table.String(), want) {
		t.Errorf("LimitAbove = %v, table:\n%s\nwant true and %q", rep.LimitAbove(), table.String(), want)
	}
	var js strings.Builder
	if err := rep.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	if want := `"limit_above":true`; !strings.Contains(js.String(), want) || !strings.Contains(js.String(), `"max_sustained_per_s":200`) {
		t.Errorf("WriteJSON = %s; want the report's fields and %s", js.String(), want)
	}
}

func TestStatusResultShapes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		body       string
		wantNumber string
		wantPrime  bool
	}{
		{name: "this API", body: `{"status":"SUCCESS","result":{"number":11,"is_prime":true}}`, wantNumber: "11", wantPrime: true},
		{name: "the tutorial's Celery stack", body: `{"status":"SUCCESS","result":true}`, wantPrime: true},
		{name: "the tutorial's, composite", body: `{"status":"SUCCESS","result":false}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var st statusResponse
			if err := json.Unmarshal([]byte(tt.body), &st); err != nil {
				t.Fatalf("decode %s: %v", tt.body, err)
			}
			if st.Result == nil || st.Result.IsPrime == nil || *st.Result.IsPrime != tt.wantPrime || string(st.Result.Number) != tt.wantNumber {
				t.Errorf("decode %s = %+v; want number %q, is_prime %v", tt.body, st.Result, tt.wantNumber, tt.wantPrime)
			}
		})
	}
}
