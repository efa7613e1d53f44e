package loadgen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"math/rand/v2"
	"strings"
	"sync"
	"time"
)

// Run submits cfg.Jobs jobs and waits for each to finish, fail or time out,
// then, with cfg.Verify, reads every accepted task again (see VerifyReport).
// Problems with the jobs are counted in the report, never returned; Run
// returns an error only if it cannot start (an invalid config, or a -pid
// whose /proc/PID/status cannot be read). When ctx is canceled Run stops
// starting jobs, abandons the ones in flight, skips what is left of the
// verification, and returns the partial report with Interrupted set.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.Jobs = cfg.jobs()
	var rss func() *RSSReport
	if cfg.PID > 0 {
		var err error
		if rss, err = startRSSSampler(cfg.PID, cfg.RSSInterval); err != nil {
			return nil, err
		}
	}
	client := newHTTPClient(cfg.connections())
	defer client.CloseIdleConnections()
	r := &runner{
		cfg:     cfg,
		api:     &apiClient{http: client, base: strings.TrimRight(cfg.URL, "/")},
		rec:     newRecorder(),
		numbers: newNumbers(cfg.Seed, cfg.Min, cfg.Max, cfg.Jobs),
	}
	if cfg.Verify {
		r.ledger = newLedger(cfg.Jobs)
	}

	start := time.Now()
	stopProgress := r.startProgress(start, r.rec.progress)
	if cfg.OpenLoop() {
		r.openLoop(ctx, r.runJob)
	} else {
		r.closedLoop(ctx)
	}
	wall := time.Since(start)
	stopProgress()

	res := r.rec.result(cfg, wall)
	if r.ledger != nil {
		res.Report.Verify = r.verify(ctx)
	}
	if rss != nil {
		res.Report.RSS = rss()
	}
	res.Report.Interrupted = res.Report.Submitted < cfg.Jobs || res.Report.Errors[ErrKindCanceled] > 0 ||
		(res.Report.Verify != nil && res.Report.Verify.Unverified > 0)
	return res, nil
}

type runner struct {
	cfg     Config
	api     *apiClient
	rec     *recorder
	numbers *numbers
	ledger  *ledger // nil unless cfg.Verify
	clock   clock   // the open loop's schedule; the real one if nil
}

// clock is the time the open loop's schedule keeps: tests inject one.
type clock interface {
	Now() time.Time
	// Sleep waits for d, or returns false at once when ctx is done.
	Sleep(ctx context.Context, d time.Duration) bool
}

type realClock struct{}

func (realClock) Now() time.Time                                  { return time.Now() }
func (realClock) Sleep(ctx context.Context, d time.Duration) bool { return sleep(ctx, d) }

// closedLoop runs Concurrency workers, each doing one job at a time.
func (r *runner) closedLoop(ctx context.Context) {
	var wg sync.WaitGroup
	for range min(r.cfg.Concurrency, r.cfg.Jobs) {
		wg.Go(func() {
			for ctx.Err() == nil {
				n, ok := r.numbers.next()
				if !ok {
					return
				}
				r.runJob(ctx, n)
			}
		})
	}
	wg.Wait()
}

// openLoop starts job i at i/Rate seconds after the start, each in its own
// goroutine running job, with at most MaxInFlight unfinished. A start that
// finds no free slot waits for one, and the rest of the schedule keeps its
// times, so the generator catches up once the server does.
func (r *runner) openLoop(ctx context.Context, job func(context.Context, int64)) {
	clk := r.clock
	if clk == nil {
		clk = realClock{}
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	slots := make(chan struct{}, r.cfg.MaxInFlight)
	start := clk.Now()
	for i := 0; ; i++ {
		n, ok := r.numbers.next()
		if !ok {
			return
		}
		due := start.Add(time.Duration(float64(i) * float64(time.Second) / r.cfg.Rate))
		if !clk.Sleep(ctx, due.Sub(clk.Now())) {
			return
		}
		waited := false
		select {
		case slots <- struct{}{}:
		default:
			waited = true
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				return
			}
		}
		r.rec.started(waited, max(clk.Now().Sub(due), 0))
		wg.Go(func() {
			defer func() { <-slots }()
			job(ctx, n)
		})
	}
}

// runJob submits n and polls until its task is final, the job times out, or
// ctx is canceled.
func (r *runner) runJob(ctx context.Context, n int64) {
	jctx, cancel := context.WithTimeout(ctx, r.cfg.JobTimeout)
	defer cancel()
	start := time.Now()

	r.rec.submitStarted()
	id, lat, err := r.api.submit(jctx, n)
	if err != nil {
		kind, _ := r.classify(ctx, jctx, "submit", err)
		r.rec.addError(kind, fmt.Sprintf("submit %d: %v", n, err))
		r.rec.jobErrored(false)
		return
	}
	r.rec.submitAccepted(lat)
	slot := r.ledger.accept(id, n)

	polls := 0
	for {
		if !sleep(jctx, r.cfg.PollInterval) {
			r.abandon(ctx, jctx, id, polls, jctx.Err())
			return
		}
		st, lat, err := r.api.status(jctx, id)
		polls++
		r.rec.statusRequest(lat, err == nil)
		if err != nil {
			kind, final := r.classify(ctx, jctx, "status", err)
			if final {
				r.abandon(ctx, jctx, id, polls, err)
				return
			}
			r.rec.addError(kind, fmt.Sprintf("task %s: %v", id, err))
			continue
		}
		switch st.Status {
		case statePending, stateStarted:
			continue
		case stateSuccess, stateFailure:
			r.ledger.finish(slot, outcomeOf(n, st))
			r.complete(n, id, st, polls, time.Since(start))
			return
		default:
			r.rec.addError(ErrKindUnknownState, fmt.Sprintf("task %s: state %q", id, st.Status))
			r.rec.jobErrored(true)
			return
		}
	}
}

// complete records a job whose task reached SUCCESS or FAILURE.
func (r *runner) complete(n int64, id string, st statusResponse, polls int, ttr time.Duration) {
	prime := st.Status == stateSuccess && st.Result != nil && st.Result.IsPrime != nil && *st.Result.IsPrime
	r.rec.jobCompleted(st.Status, prime, polls, ttr)
	if st.Status == stateFailure {
		r.rec.failure(fmt.Sprintf("task %s (number %d): %s", id, n, st.Error))
		return
	}
	if !r.cfg.Check {
		return
	}
	if err := check(n, id, st); err != nil {
		r.rec.addError(ErrKindMismatch, fmt.Sprintf("task %s: %v", id, err))
		r.rec.jobErrored(false) // completed: no longer active
	}
}

// abandon records an accepted job that ends without a final state.
func (r *runner) abandon(ctx, jctx context.Context, id string, polls int, err error) {
	kind, _ := r.classify(ctx, jctx, "status", err)
	msg := fmt.Sprintf("task %s: %v", id, err)
	switch kind {
	case ErrKindTimeout:
		msg = fmt.Sprintf("task %s: no final state within %v (%d polls)", id, r.cfg.JobTimeout, polls)
	case ErrKindCanceled:
		msg = ""
	}
	r.rec.addError(kind, msg)
	r.rec.jobErrored(true)
}

// classify names the kind of a failed request and says whether it ends the
// job. Every submit error does. For status requests, a timeout, a
// cancellation, a 4xx other than 408/429, or a body that is not a status
// ends the job; a 5xx, a 408/429 or a transport error is worth another poll.
func (r *runner) classify(ctx, jctx context.Context, op string, err error) (kind string, final bool) {
	switch {
	case ctx.Err() != nil:
		return ErrKindCanceled, true
	case jctx.Err() != nil:
		return ErrKindTimeout, true
	}
	var se *statusError
	var be *badResponseError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf(errKindHTTPFormat, op, se.code), op == "submit" || !retryable(err)
	case errors.As(err, &be):
		if op == "submit" {
			return ErrKindSubmitBadBody, true
		}
		return ErrKindStatusBadBody, true
	case op == "submit":
		return ErrKindSubmitNetwork, true
	default:
		return ErrKindStatusNetwork, false
	}
}

// check verifies a SUCCESS answer for n against math/big.
func check(n int64, id string, st statusResponse) error {
	if st.TaskID != "" && st.TaskID != id {
		return fmt.Errorf("status answers for task_id %q", st.TaskID)
	}
	if st.Result == nil {
		return errors.New("SUCCESS without a result")
	}
	got, ok := new(big.Int).SetString(st.Result.Number.String(), 10)
	if !ok || !got.IsInt64() || got.Int64() != n {
		return fmt.Errorf("result.number %q; want %d", st.Result.Number, n)
	}
	if st.Result.IsPrime == nil {
		return errors.New("result has no is_prime")
	}
	if want := big.NewInt(n).ProbablyPrime(20); *st.Result.IsPrime != want {
		return fmt.Errorf("is_prime(%d) = %t; want %t", n, *st.Result.IsPrime, want)
	}
	return nil
}

// sleep waits for d or until ctx is done, and reports whether ctx is still
// live.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// startProgress writes line(time since start) every ProgressInterval until
// the returned function is called.
func (r *runner) startProgress(start time.Time, line func(elapsed time.Duration) string) (stop func()) {
	if r.cfg.Progress == nil {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(r.cfg.ProgressInterval)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				_, _ = io.WriteString(r.cfg.Progress, line(time.Since(start))+"\n")
			}
		}
	})
	return func() {
		close(done)
		wg.Wait()
	}
}

// numbers hands out the run's random numbers in a fixed order: the i-th
// call to next returns the same number for the same seed, whichever worker
// makes it.
type numbers struct {
	mu   sync.Mutex
	rng  *rand.Rand
	min  int64
	span uint64 // max - min, as an unsigned distance
	left int
}

func newNumbers(seed uint64, lo, hi int64, jobs int) *numbers {
	return &numbers{
		rng:  rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15)),
		min:  lo,
		span: uint64(hi) - uint64(lo),
		left: jobs,
	}
}

// next returns the next number, or false when all jobs have been handed out.
func (g *numbers) next() (int64, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.left <= 0 {
		return 0, false
	}
	g.left--
	var off uint64
	if g.span == math.MaxUint64 {
		off = g.rng.Uint64()
	} else {
		off = g.rng.Uint64N(g.span + 1)
	}
	return g.min + int64(off), true
}
