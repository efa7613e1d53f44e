package loadgen

import (
	"fmt"
	"github.com/HdrHistogram/hdrhistogram-go"
	"math"
	"sync"
	"time"
	"unicode/utf8"
)

// Error kinds that are not an HTTP status code. HTTP errors are counted as
// "submit_http_<code>" and "status_http_<code>".
const (
	ErrKindTimeout        = "timeout"              // a job did not finish within JobTimeout
	ErrKindCanceled       = "canceled"             // the run was interrupted while the job was in flight
	ErrKindMismatch       = "mismatch"             // a SUCCESS result failed the check
	ErrKindSubmitNetwork  = "submit_transport"     // the submit request got no response
	ErrKindStatusNetwork  = "status_transport"     // a status request got no response
	ErrKindSubmitBadBody  = "submit_bad_response"  // a 2xx submit whose body made no sense
	ErrKindStatusBadBody  = "status_bad_response"  // a 2xx status whose body made no sense
	ErrKindUnknownState   = "status_unknown_state" // a status that is none of the four states
	errKindHTTPFormat     = "%s_http_%d"
	maxExampleMessageSize = 200
)

// recorder collects the outcome of every request and job. It is safe for
// concurrent use; a mutex is cheap next to an HTTP round trip.
type recorder struct {
	mu             sync.Mutex
	submitted      int
	accepted       int
	succeeded      int
	failed         int
	primes         int
	jobsErrored    int
	active         int
	statusRequests int
	pollsCompleted int // status requests of the jobs that completed
	inflightWaits  int
	maxLag         time.Duration
	errors         map[string]int
	examples       map[string]string
	failureExample string
	submitLat      *hdrhistogram.Histogram
	statusLat      *hdrhistogram.Histogram
	timeToResult   *hdrhistogram.Histogram
}

func newRecorder() *recorder {
	return &recorder{
		errors: map[string]int{}, examples: map[string]string{},
		submitLat: newLatencies(), statusLat: newLatencies(), timeToResult: newLatencies(),
	}
}

// addError counts one error of kind and keeps the first message seen for it.
func (r *recorder) addError(kind, message string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errors[kind]++
	if _, ok := r.examples[kind]; !ok && message != "" {
		r.examples[kind] = clip(message)
	}
}

func (r *recorder) submitStarted() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.submitted++
}

func (r *recorder) submitAccepted(lat time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.accepted++
	r.active++
	recordLatency(r.submitLat, lat)
}

// statusRequest counts one status request; ok requests add their latency.
func (r *recorder) statusRequest(lat time.Duration, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.statusRequests++
	if ok {
		recordLatency(r.statusLat, lat)
	}
}

// jobCompleted records a job that reached SUCCESS or FAILURE.
func (r *recorder) jobCompleted(state string, prime bool, polls int, ttr time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.active--
	if state == stateSuccess {
		r.succeeded++
		if prime {
			r.primes++
		}
	} else {
		r.failed++
	}
	r.pollsCompleted += polls
	recordLatency(r.timeToResult, ttr)
}

// failure keeps the first FAILURE message seen.
func (r *recorder) failure(message string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.failureExample == "" {
		r.failureExample = clip(message)
	}
}

// jobErrored records a job that ends without a verified result. active
// says whether it was still counted as active (accepted, not completed).
func (r *recorder) jobErrored(active bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.jobsErrored++
	if active {
		r.active--
	}
}

// started records an open-loop start: whether it waited for a free slot and
// how late it was against the schedule.
func (r *recorder) started(waited bool, lag time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if waited {
		r.inflightWaits++
	}
	r.maxLag = max(r.maxLag, lag)
}

// progress is a one-line snapshot for progress output.
func (r *recorder) progress(elapsed time.Duration) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	errs := 0
	for _, n := range r.errors {
		errs += n
	}
	return fmt.Sprintf("loadgen: %6.1fs submitted=%d accepted=%d completed=%d in_flight=%d errors=%d",
		elapsed.Seconds(), r.submitted, r.accepted, r.succeeded+r.failed, r.active, errs)
}

// clip shortens s to at most maxExampleMessageSize bytes, on a rune
// boundary.
func clip(s string) string {
	if len(s) <= maxExampleMessageSize {
		return s
	}
	cut := maxExampleMessageSize
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// Samples are the latency histograms of a run.
type Samples struct {
	Submit       *hdrhistogram.Histogram
	Status       *hdrhistogram.Histogram
	TimeToResult *hdrhistogram.Histogram
}

// result turns what was recorded into a Report and its samples. The
// recorder must not be used afterwards.
func (r *recorder) result(cfg Config, wall time.Duration) *Result {
	r.mu.Lock()
	defer r.mu.Unlock()
	rep := Report{
		Mode:           "closed",
		URL:            cfg.URL,
		Concurrency:    cfg.Concurrency,
		PollMS:         millis(cfg.PollInterval),
		TimeoutMS:      millis(cfg.JobTimeout),
		Seed:           cfg.Seed,
		Min:            cfg.Min,
		Max:            cfg.Max,
		Check:          cfg.Check,
		Jobs:           cfg.Jobs,
		Submitted:      r.submitted,
		Accepted:       r.accepted,
		Completed:      r.succeeded + r.failed,
		Succeeded:      r.succeeded,
		Failed:         r.failed,
		Primes:         r.primes,
		JobsErrored:    r.jobsErrored,
		Errors:         r.errors,
		ErrorExamples:  r.examples,
		FailureExample: r.failureExample,
		WallSeconds:    round(wall.Seconds(), 3),
		StatusRequests: r.statusRequests,
		SubmitLatency:  Summarize(r.submitLat),
		StatusLatency:  Summarize(r.statusLat),
		TimeToResult:   Summarize(r.timeToResult),
	}
	if cfg.OpenLoop() {
		rep.Mode = "open"
		rep.Concurrency = 0
		rep.Rate = cfg.Rate
		rep.MaxInFlight = cfg.MaxInFlight
		rep.InflightWaits = r.inflightWaits
		rep.MaxScheduleLagMS = millis(r.maxLag)
	}
	for _, n := range r.errors {
		rep.ErrorCount += n
	}
	if wall > 0 {
		rep.SubmitsPerSec = round(float64(r.accepted)/wall.Seconds(), 2)
		rep.CompletedPerSec = round(float64(rep.Completed)/wall.Seconds(), 2)
	}
	if rep.Completed > 0 {
		rep.PollsPerJob = round(float64(r.pollsCompleted)/float64(rep.Completed), 3)
	}
	return &Result{
		Report:  rep,
		Samples: Samples{Submit: r.submitLat, Status: r.statusLat, TimeToResult: r.timeToResult},
	}
}

// round rounds f to the given number of decimals, to keep the JSON short.
func round(f float64, decimals int) float64 {
	p := math.Pow10(decimals)
	return math.Round(f*p) / p
}
