package loadgen

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
)

// Result is what Run returns: the report and the raw samples behind it.
type Result struct {
	Report  Report
	Samples Samples
}

// Report summarizes a run. It marshals to the JSON line the command prints.
type Report struct {
	// The run's settings, so that a JSON line can be reproduced.
	Mode        string  `json:"mode"` // "closed" or "open"
	URL         string  `json:"url"`
	Concurrency int     `json:"concurrency,omitempty"`
	Rate        float64 `json:"rate,omitempty"`
	MaxInFlight int     `json:"max_inflight,omitempty"`
	PollMS      float64 `json:"poll_ms"`
	TimeoutMS   float64 `json:"timeout_ms"`
	Seed        uint64  `json:"seed"`
	Min         int64   `json:"min"`
	Max         int64   `json:"max"`
	Check       bool    `json:"check"`

	// Jobs is the number of jobs asked for; Submitted the number of submit
	// requests sent; Accepted the number the API accepted.
	Jobs      int `json:"jobs"`
	Submitted int `json:"submitted"`
	Accepted  int `json:"accepted"`
	// Completed jobs reached SUCCESS or FAILURE. Primes counts the SUCCESS
	// results with is_prime true.
	Completed int `json:"completed"`
	Succeeded int `json:"success"`
	Failed    int `json:"failure"`
	Primes    int `json:"primes"`
	// FailureExample is the first FAILURE seen, with its error message.
	FailureExample string `json:"failure_example,omitempty"`
	// JobsErrored counts jobs that ended without a verified result: not
	// accepted, timed out, abandoned on a 4xx, canceled, or a mismatch.
	JobsErrored int `json:"jobs_errored"`
	// Errors counts error events by kind: every failed request (a job that
	// keeps polling through 503s counts each one), every timeout, every
	// mismatch. ErrorExamples keeps the first message seen for each kind.
	ErrorCount    int               `json:"error_count"`
	Errors        map[string]int    `json:"errors"`
	ErrorExamples map[string]string `json:"error_examples,omitempty"`

	WallSeconds     float64 `json:"wall_s"`
	SubmitsPerSec   float64 `json:"submits_per_s"` // accepted submits per second
	CompletedPerSec float64 `json:"completed_per_s"`
	StatusRequests  int     `json:"status_requests"`
	// PollsPerJob is the mean number of status requests of completed jobs.
	PollsPerJob float64 `json:"polls_per_job"`

	// Latencies of accepted submits, of answered status requests, and from
	// just before the submit to seeing the final state of completed jobs.
	SubmitLatency LatencySummary `json:"submit_latency"`
	StatusLatency LatencySummary `json:"status_latency"`
	TimeToResult  LatencySummary `json:"time_to_result"`

	// Open loop only: how many starts waited for a free in-flight slot, and
	// the latest any start was against its schedule.
	InflightWaits    int     `json:"inflight_waits,omitempty"`
	MaxScheduleLagMS float64 `json:"max_schedule_lag_ms,omitempty"`

	RSS *RSSReport `json:"server_rss,omitempty"`

	// Verify is the verification pass after the load phase; nil when
	// Config.Verify is off.
	Verify *VerifyReport `json:"verify,omitempty"`

	// Interrupted is set when the run was canceled before all jobs ran or
	// before the verification pass settled every task.
	Interrupted bool `json:"interrupted,omitempty"`
}

// OK reports whether the run was clean: no errors, no FAILURE task, not
// interrupted, and, if verified, every task finished, unique and unchanged.
// Commands exit non-zero when it is false.
func (r *Report) OK() bool {
	return r.ErrorCount == 0 && r.Failed == 0 && !r.Interrupted && (r.Verify == nil || r.Verify.OK())
}

// Problem describes why OK is false, or returns "" when it is true.
func (r *Report) Problem() string {
	var parts []string
	if r.ErrorCount > 0 {
		parts = append(parts, fmt.Sprintf("%d errors (%d jobs without a result)", r.ErrorCount, r.JobsErrored))
	}
	if r.Failed > 0 {
		parts = append(parts, fmt.Sprintf("%d tasks ended in FAILURE", r.Failed))
	}
	if r.Verify != nil {
		if p := r.Verify.problem(); p != "" {
			parts = append(parts, "verify: "+p)
		}
	}
	if r.Interrupted {
		parts = append(parts, "interrupted")
	}
	return strings.Join(parts, ", ")
}

// WriteJSON writes the report as one line of JSON.
func (r *Report) WriteJSON(w io.Writer) error { return json.NewEncoder(w).Encode(r) }

// WriteTable writes the report as an aligned, human-readable table.
func (r *Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	line := func(format string, args ...any) { fmt.Fprintf(tw, format+"\n", args...) }

	if r.Mode == "open" {
		line("mode\topen loop, %s jobs/s, at most %d in flight", formatFloat(r.Rate), r.MaxInFlight)
	} else {
		line("mode\tclosed loop, %d workers", r.Concurrency)
	}
	line("url\t%s", r.URL)
	line("jobs\t%d requested, %d submitted, %d accepted", r.Jobs, r.Submitted, r.Accepted)
	line("completed\t%d (SUCCESS %d, FAILURE %d; %d prime)", r.Completed, r.Succeeded, r.Failed, r.Primes)
	if r.FailureExample != "" {
		line("  FAILURE\te.g. %s", strconv.Quote(r.FailureExample))
	}
	if r.ErrorCount == 0 {
		line("errors\t0")
	} else {
		line("errors\t%d (%d jobs without a result)", r.ErrorCount, r.JobsErrored)
		digits := 0
		for _, n := range r.Errors {
			digits = max(digits, len(strconv.Itoa(n)))
		}
		for _, kind := range slices.Sorted(maps.Keys(r.Errors)) {
			if ex := r.ErrorExamples[kind]; ex != "" {
				line("  %s\t%*d  e.g. %s", kind, digits, r.Errors[kind], strconv.Quote(ex))
			} else {
				line("  %s\t%*d", kind, digits, r.Errors[kind])
			}
		}
	}
	line("wall time\t%.3fs", r.WallSeconds)
	line("throughput\t%.1f submits/s, %.1f completed/s", r.SubmitsPerSec, r.CompletedPerSec)
	line("status requests\t%d (%.2f polls per completed job)", r.StatusRequests, r.PollsPerJob)
	if r.Mode == "open" {
		line("schedule\t%d starts waited for a slot, max lag %.2f ms", r.InflightWaits, r.MaxScheduleLagMS)
	}
	if v := r.Verify; v != nil {
		line("verify\taccepted=%d finished=%d lost=%d duplicates=%d", v.Accepted, v.Finished, v.Lost, v.Duplicates)
		detail := fmt.Sprintf("duplicate_ids=%d changed_results=%d mismatched=%d", v.DuplicateIDs, v.ChangedResults, v.Mismatched)
		if v.Unverified > 0 {
			detail += fmt.Sprintf(" unverified=%d", v.Unverified)
		}
		line("\t%s; %d stragglers, %d requests in %.3fs", detail, v.Stragglers, v.Requests, v.Seconds)
		for _, kind := range slices.Sorted(maps.Keys(v.Examples)) {
			line("  %s\te.g. %s", kind, strconv.Quote(v.Examples[kind]))
		}
	}
	if r.RSS != nil {
		m := r.RSS
		line("server RSS\tpeak %.1f MiB (pid %d)", m.PeakMiB, m.PID)
		line("\tVmHWM %.1f MiB; VmRSS start %.1f, max %.1f, end %.1f MiB (%d samples)",
			m.HWMMiB, m.StartMiB, m.MaxSampledMiB, m.EndMiB, m.Samples)
		if m.Error != "" {
			line("\tsampling stopped: %s", m.Error)
		}
	}
	if r.Interrupted {
		line("interrupted\tyes: the run was canceled before all jobs ran")
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	fmt.Fprintln(w)
	return writeLatencyTable(w, []latencyRow{
		{"submit", r.SubmitLatency},
		{"status", r.StatusLatency},
		{"time to result", r.TimeToResult},
	})
}

type latencyRow struct {
	name string
	s    LatencySummary
}

// writeLatencyTable writes rows with the names left-aligned and the numbers
// right-aligned, columns two spaces apart.
func writeLatencyTable(w io.Writer, rows []latencyRow) error {
	table := [][]string{{"latency (ms)", "count", "mean", "p50", "p95", "p99", "max"}}
	for _, row := range rows {
		f := func(v float64) string {
			if row.s.Count == 0 {
				return "-"
			}
			return strconv.FormatFloat(v, 'f', 2, 64)
		}
		table = append(table, []string{row.name, strconv.Itoa(row.s.Count),
			f(row.s.Mean), f(row.s.P50), f(row.s.P95), f(row.s.P99), f(row.s.Max)})
	}
	widths := make([]int, len(table[0]))
	for _, cells := range table {
		for i, c := range cells {
			widths[i] = max(widths[i], len(c))
		}
	}
	var b strings.Builder
	for _, cells := range table {
		for i, c := range cells {
			if i == 0 {
				fmt.Fprintf(&b, "%-*s", widths[i], c)
			} else {
				fmt.Fprintf(&b, "  %*s", widths[i], c)
			}
		}
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// formatFloat prints f without trailing zeros.
func formatFloat(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
