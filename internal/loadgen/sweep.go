package loadgen

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// Objective is what a rate must meet to count as sustained.
type Objective struct {
	// P99TimeToResult bounds the 99th percentile of the time from submit
	// to seeing the final state.
	P99TimeToResult time.Duration
}

// DefaultObjective is issue 15's: every job finishes, p99 time to result
// ≤ 250 ms.
var DefaultObjective = Objective{P99TimeToResult: 250 * time.Millisecond}

// Sustained reports whether the open-loop run rep met o: every job was
// accepted and finished with a verified result (no error, no FAILURE, not
// interrupted, no lost or changed task), no start waited for an in-flight
// slot (which would hide the server's lag from the time to result), and
// the p99 time to result is within bound. If not, why says which failed.
func (o Objective) Sustained(rep *Report) (ok bool, why string) {
	var fails []string
	if rep.Completed < rep.Jobs {
		fails = append(fails, fmt.Sprintf("%d of %d jobs finished", rep.Completed, rep.Jobs))
	}
	if !rep.OK() {
		fails = append(fails, rep.Problem())
	}
	if rep.InflightWaits > 0 {
		fails = append(fails, fmt.Sprintf("%d starts waited for an in-flight slot", rep.InflightWaits))
	}
	if p99 := time.Duration(rep.TimeToResult.P99 * float64(time.Millisecond)); p99 > o.P99TimeToResult {
		fails = append(fails, fmt.Sprintf("p99 time to result %v > %v", p99.Round(time.Millisecond), o.P99TimeToResult))
	}
	return len(fails) == 0, strings.Join(fails, "; ")
}

// SweepStep is one rate of a sweep.
type SweepStep struct {
	Offered   float64 `json:"offered_per_s"`
	Submitted float64 `json:"submitted_per_s"` // accepted submits per second of the run
	Achieved  float64 `json:"achieved_per_s"`  // completed jobs per second of the run
	Jobs      int     `json:"jobs"`
	Completed int     `json:"completed"`
	Errors    int     `json:"errors"`
	// Latencies, milliseconds.
	SubmitP50    float64 `json:"submit_p50_ms"`
	SubmitP99    float64 `json:"submit_p99_ms"`
	ResultP50    float64 `json:"time_to_result_p50_ms"`
	ResultP99    float64 `json:"time_to_result_p99_ms"`
	Sustained    bool    `json:"sustained"`
	NotSustained string  `json:"not_sustained,omitempty"`
}

// SweepReport is the result of Sweep.
type SweepReport struct {
	URL           string      `json:"url"`
	DurationS     float64     `json:"duration_s"`
	PollMS        float64     `json:"poll_ms"`
	ObjectiveP99  float64     `json:"objective_p99_ms"`
	Steps         []SweepStep `json:"steps"`
	MaxSustained  float64     `json:"max_sustained_per_s"` // 0 if no rate was
	StoppedAtRate float64     `json:"stopped_at_per_s,omitempty"`
	Interrupted   bool        `json:"interrupted,omitempty"`
}

// RunFunc runs one load-generator run; Run is the real one.
type RunFunc func(context.Context, Config) (*Result, error)

// Sweep runs cfg's open loop at each rate in turn, for cfg.Duration each,
// and stops after the first rate that does not meet o. cfg.MaxInFlight is
// raised for each rate to at least the jobs of one second, so that the
// in-flight cap is not what fails a rate the server sustains.
func Sweep(ctx context.Context, cfg Config, rates []float64, o Objective, run RunFunc) (*SweepReport, error) {
	if len(rates) == 0 {
		return nil, fmt.Errorf("sweep: no rates")
	}
	if cfg.Duration <= 0 {
		return nil, fmt.Errorf("sweep: the duration (-duration) of each rate must be positive")
	}
	rep := &SweepReport{URL: cfg.URL, DurationS: cfg.Duration.Seconds(), PollMS: millis(cfg.PollInterval), ObjectiveP99: millis(o.P99TimeToResult)}
	for _, rate := range rates {
		c := cfg
		c.Rate = rate
		c.MaxInFlight = max(c.MaxInFlight, int(rate)+1)
		res, err := run(ctx, c)
		if err != nil {
			return rep, fmt.Errorf("sweep at %v jobs/s: %w", rate, err)
		}
		r := &res.Report
		ok, why := o.Sustained(r)
		rep.Steps = append(rep.Steps, SweepStep{
			Offered: rate, Submitted: r.SubmitsPerSec, Achieved: r.CompletedPerSec,
			Jobs: r.Jobs, Completed: r.Completed, Errors: r.ErrorCount,
			SubmitP50: r.SubmitLatency.P50, SubmitP99: r.SubmitLatency.P99,
			ResultP50: r.TimeToResult.P50, ResultP99: r.TimeToResult.P99,
			Sustained: ok, NotSustained: why,
		})
		if r.Interrupted && ctx.Err() != nil {
			rep.Interrupted = true
			return rep, nil
		}
		if !ok {
			rep.StoppedAtRate = rate
			return rep, nil
		}
		rep.MaxSustained = rate
	}
	return rep, nil
}

// WriteTable writes one line per rate and the highest sustained rate.
func (r *SweepReport) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "offered/s\tsubmitted/s\tachieved/s\tjobs\terrors\tsubmit p50\tsubmit p99\tresult p50\tresult p99\tsustained\t\n")
	for _, s := range r.Steps {
		verdict := "yes"
		if !s.Sustained {
			verdict = "no"
		}
		fmt.Fprintf(tw, "%.0f\t%.0f\t%.0f\t%d\t%d\t%.1f ms\t%.1f ms\t%.1f ms\t%.1f ms\t%s\t\n",
			s.Offered, s.Submitted, s.Achieved, s.Jobs, s.Errors, s.SubmitP50, s.SubmitP99, s.ResultP50, s.ResultP99, verdict)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, s := range r.Steps {
		if !s.Sustained {
			fmt.Fprintf(w, "not sustained at %.0f jobs/s: %s\n", s.Offered, s.NotSustained)
		}
	}
	if _, err := fmt.Fprintf(w, "highest sustained rate: %.0f jobs/s (objective: every job finishes, p99 time to result ≤ %.0f ms; %.0f s per rate, polls every %.0f ms)\n",
		r.MaxSustained, r.ObjectiveP99, r.DurationS, r.PollMS); err != nil {
		return err
	}
	if r.LimitAbove() {
		_, err := fmt.Fprintf(w, "every rate was sustained: the limit is above %.0f jobs/s; add higher rates to find it\n", r.MaxSustained)
		return err
	}
	return nil
}

// LimitAbove reports whether the sweep sustained every rate it ran to the
// end, so that the highest sustained rate is a floor, not the limit.
func (r *SweepReport) LimitAbove() bool {
	return r.StoppedAtRate == 0 && !r.Interrupted && r.MaxSustained > 0
}

// WriteJSON writes the report as one line of JSON, with LimitAbove as
// "limit_above".
func (r *SweepReport) WriteJSON(w io.Writer) error {
	return json.NewEncoder(w).Encode(struct {
		*SweepReport
		LimitAbove bool `json:"limit_above"`
	}{r, r.LimitAbove()})
}
