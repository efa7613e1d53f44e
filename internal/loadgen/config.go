package loadgen

import (
	"errors"
	"fmt"
	"io"
	"math"
	"net/url"
	"time"
)

// Config describes one load-generator run. Start from DefaultConfig and set
// at least URL.
type Config struct {
	// URL is the base URL of the API, with or without a trailing slash, and
	// possibly with a path (an API Gateway stage such as /prod).
	URL string
	// Jobs is the total number of jobs to submit.
	Jobs int
	// Concurrency is the number of closed-loop workers. Ignored when Rate > 0.
	Concurrency int
	// Rate, when positive, switches to the open loop: jobs are started at
	// this many per second regardless of how fast earlier ones finish.
	Rate float64
	// Duration, when positive, sets the open loop's length instead of
	// Jobs: Rate × Duration jobs, rounded up.
	Duration time.Duration
	// MaxInFlight bounds the unfinished jobs of the open loop. When it is
	// reached the next start waits (and Report.InflightWaits counts it), so
	// a server that falls behind cannot make the generator open unbounded
	// connections or polling goroutines.
	MaxInFlight int
	// PollInterval is the pause between the end of one status request and
	// the start of the next (and between the submit and the first poll).
	PollInterval time.Duration
	// JobTimeout bounds each job, from just before its submit to seeing its
	// final state. A job that runs out is counted as a "timeout" error.
	JobTimeout time.Duration
	// Min and Max bound the random numbers, both inclusive.
	Min, Max int64
	// Seed seeds the random numbers; the same seed gives the same sequence.
	Seed uint64
	// Check verifies every SUCCESS result: the number must be the one
	// submitted and is_prime must match math/big's ProbablyPrime(20).
	Check bool
	// Verify, after the load phase, reads every accepted task again and
	// reports in Report.Verify the tasks that are lost, that received an
	// id already handed out, or whose final result changed. It keeps each
	// accepted task's id and number until the end of the run.
	Verify bool
	// PID, when positive, is a local server process whose resident memory
	// is sampled from /proc/PID/status every RSSInterval.
	PID         int
	RSSInterval time.Duration
	// Progress, when not nil, receives a one-line progress update every
	// ProgressInterval.
	Progress         io.Writer
	ProgressInterval time.Duration
}

// DefaultConfig returns a Config with every field but URL set to its default.
func DefaultConfig() Config {
	return Config{
		Jobs:             1000,
		Concurrency:      16,
		MaxInFlight:      256,
		PollInterval:     5 * time.Millisecond,
		JobTimeout:       30 * time.Second,
		Min:              1_000_000,
		Max:              10_000_000,
		Seed:             1,
		Check:            true,
		Verify:           true,
		RSSInterval:      100 * time.Millisecond,
		ProgressInterval: time.Second,
	}
}

// OpenLoop reports whether the config asks for the fixed-rate open loop.
func (c Config) OpenLoop() bool { return c.Rate > 0 }

// jobs is the number of jobs the run submits: Jobs, or Rate × Duration in
// an open loop with a Duration.
func (c Config) jobs() int {
	if c.OpenLoop() && c.Duration > 0 {
		return max(1, int(math.Ceil(c.Rate*c.Duration.Seconds())))
	}
	return c.Jobs
}

// Validate reports the first problem with c, naming the command-line flag
// that sets the field.
func (c Config) Validate() error {
	if err := checkURL(c.URL); err != nil {
		return err
	}
	switch {
	case c.Jobs < 1:
		return fmt.Errorf("jobs (-n) must be at least 1; got %d", c.Jobs)
	case !c.OpenLoop() && c.Concurrency < 1:
		return fmt.Errorf("concurrency (-c) must be at least 1; got %d", c.Concurrency)
	case c.Rate < 0 || math.IsNaN(c.Rate) || math.IsInf(c.Rate, 0):
		return fmt.Errorf("rate (-rate) must be a finite number >= 0; got %v", c.Rate)
	case c.Duration < 0 || c.Duration > 0 && !c.OpenLoop():
		return fmt.Errorf("duration (-duration) must be positive and needs -rate; got %v with rate %v", c.Duration, c.Rate)
	case c.OpenLoop() && c.MaxInFlight < 1:
		return fmt.Errorf("max in-flight jobs (-max-inflight) must be at least 1; got %d", c.MaxInFlight)
	case c.PollInterval <= 0:
		return fmt.Errorf("poll interval (-poll) must be positive; got %v", c.PollInterval)
	case c.JobTimeout <= 0:
		return fmt.Errorf("job timeout (-timeout) must be positive; got %v", c.JobTimeout)
	case c.Min > c.Max:
		return fmt.Errorf("range is empty: -min %d is greater than -max %d", c.Min, c.Max)
	case c.PID < 0:
		return fmt.Errorf("server pid (-pid) must not be negative; got %d", c.PID)
	case c.PID > 0 && c.RSSInterval <= 0:
		return fmt.Errorf("RSS sampling interval (-rss-every) must be positive; got %v", c.RSSInterval)
	case c.Progress != nil && c.ProgressInterval <= 0:
		return fmt.Errorf("progress interval (-progress) must be positive; got %v", c.ProgressInterval)
	}
	return nil
}

// connections is how many requests the run can have outstanding at once,
// which is how many idle keep-alive connections are worth keeping.
func (c Config) connections() int {
	if c.OpenLoop() {
		return min(c.MaxInFlight, c.jobs())
	}
	return min(c.Concurrency, c.Jobs)
}

// checkURL checks that raw is a base URL that "/" or "/{task_id}" can be
// appended to once its trailing slashes are trimmed.
func checkURL(raw string) error {
	if raw == "" {
		return errors.New("base URL (-url) is required, e.g. http://127.0.0.1:8000")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("base URL (-url): %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("base URL (-url) %q: scheme must be http or https", raw)
	}
	if u.Host == "" {
		return fmt.Errorf("base URL (-url) %q has no host", raw)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("base URL (-url) %q must not have a query or fragment", raw)
	}
	return nil
}
