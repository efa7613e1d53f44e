// Command loadgen drives the asyncprime HTTP API with prime-check jobs and
// reports throughput, exact latency percentiles, errors by kind and,
// optionally, the peak memory of a local server process. Then it reads
// every accepted task again to verify that none was lost, handed out
// twice, or changed its result (see -verify).
//
//	go run ./cmd/loadgen -url http://127.0.0.1:8000 -n 2000 -c 16
//	go run ./cmd/loadgen -url https://abc.execute-api.eu-west-1.amazonaws.com -n 600 -rate 20 -poll 200ms
//	go run ./cmd/loadgen -url http://127.0.0.1:8000 -sweep 500,1000,2000 -duration 10s -poll 10ms
//
// With -sweep it runs the open loop at each rate in turn and stops at the
// first one not sustained (see -objective-p99), printing a line per rate
// and the highest sustained rate.
//
// It prints an aligned table on stdout followed by the same report as one
// JSON line (see -json), and exits 1 if any error occurred, any task ended
// in FAILURE, the verification found a lost task or a duplicate, or the run
// was interrupted.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"

	"github.com/asyncprime/asyncprime/internal/loadgen"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		// After the first signal the run winds down and reports; a second
		// one kills the process the usual way.
		<-ctx.Done()
		stop()
	}()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

// options are the flags that are not part of loadgen.Config.
type options struct {
	cpuProfile string
	jsonPath   string
	svgPath    string
	sweep      []float64 // -sweep: the rates, in order
	objective  loadgen.Objective
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, opts, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	if opts.cpuProfile != "" {
		stopProfile, err := startCPUProfile(opts.cpuProfile)
		if err != nil {
			return err
		}
		defer stopProfile()
	}
	if len(opts.sweep) > 0 {
		return sweep(ctx, cfg, opts, stdout)
	}
	res, err := loadgen.Run(ctx, cfg)
	if err != nil {
		return err
	}
	if err := writeReport(&res.Report, opts.jsonPath, stdout); err != nil {
		return err
	}
	if opts.svgPath != "" {
		if err := writeFile(opts.svgPath, res.WriteSVG); err != nil {
			return fmt.Errorf("write SVG: %w", err)
		}
	}
	if !res.Report.OK() {
		return errors.New(res.Report.Problem())
	}
	return nil
}

// sweep runs the open loop at each rate of -sweep until one is not
// sustained, and prints a line per rate and the highest sustained rate.
func sweep(ctx context.Context, cfg loadgen.Config, opts options, stdout io.Writer) error {
	rep, err := loadgen.Sweep(ctx, cfg, opts.sweep, opts.objective, loadgen.Run)
	if rep != nil {
		if werr := writeReport(rep, opts.jsonPath, stdout); werr != nil {
			return werr
		}
	}
	if err != nil {
		return err
	}
	if rep.Interrupted {
		return errors.New("interrupted")
	}
	return nil
}

// startCPUProfile profiles the load generator itself until stop.
func startCPUProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("-cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("-cpuprofile: %w", err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// writeReport writes rep as a table on stdout, then as JSON to jsonPath:
// stdout if it is "-", nowhere if it is empty.
func writeReport(rep interface {
	WriteTable(io.Writer) error
	WriteJSON(io.Writer) error
}, jsonPath string, stdout io.Writer) error {
	if err := rep.WriteTable(stdout); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	var err error
	switch jsonPath {
	case "":
	case "-":
		err = rep.WriteJSON(stdout)
	default:
		err = writeFile(jsonPath, rep.WriteJSON)
	}
	if err != nil {
		return fmt.Errorf("write JSON report: %w", err)
	}
	return nil
}

// parseRates parses -sweep: increasing rates separated by commas.
func parseRates(s string) ([]float64, error) {
	var rates []float64
	for f := range strings.SplitSeq(s, ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil || v <= 0 || math.IsInf(v, 0) || math.IsNaN(v) {
			return nil, fmt.Errorf("-sweep %q: %q is not a positive rate", s, f)
		}
		if len(rates) > 0 && v <= rates[len(rates)-1] {
			return nil, fmt.Errorf("-sweep %q: rates must increase", s)
		}
		rates = append(rates, v)
	}
	return rates, nil
}

func parseFlags(args []string, stderr io.Writer) (loadgen.Config, options, error) {
	cfg := loadgen.DefaultConfig()
	var opts options
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: loadgen [flags]

Submits -n prime-check jobs to the asyncprime API and polls each until it is
SUCCESS or FAILURE. Closed loop by default (-c workers, one job at a time
each); -rate switches to an open loop that starts jobs at a fixed rate.
Then, with -verify, reads every accepted task again. Prints a table and a
JSON line; exits 1 on any error, FAILURE, lost or duplicate task, or
interrupt.

Flags:
`)
		fs.PrintDefaults()
	}
	fs.StringVar(&cfg.URL, "url", "http://127.0.0.1:8000", "base `URL` of the API, with or without a trailing slash (an API Gateway stage path is fine)")
	fs.IntVar(&cfg.Jobs, "n", cfg.Jobs, "total number of jobs")
	fs.IntVar(&cfg.Concurrency, "c", cfg.Concurrency, "closed loop: number of workers, each running one job at a time")
	fs.Float64Var(&cfg.Rate, "rate", 0, "open loop: start this many `jobs/s` instead of the closed loop (0: closed loop)")
	fs.DurationVar(&cfg.Duration, "duration", 0, "open loop: run for this long (rate × duration jobs) instead of -n jobs")
	sweepRates := fs.String("sweep", "", "open loop: run each of these increasing `rates` (jobs/s, comma-separated) for -duration, and stop at the first not sustained")
	opts.objective = loadgen.DefaultObjective
	fs.DurationVar(&opts.objective.P99TimeToResult, "objective-p99", opts.objective.P99TimeToResult, "with -sweep: a rate is sustained when every job finishes and the p99 time to result is at most this")
	fs.IntVar(&cfg.MaxInFlight, "max-inflight", cfg.MaxInFlight, "open loop: most unfinished jobs at once; further starts wait for a slot")
	fs.DurationVar(&cfg.PollInterval, "poll", cfg.PollInterval, "pause between status requests of a job")
	fs.DurationVar(&cfg.JobTimeout, "timeout", cfg.JobTimeout, "per-job limit from submit to final state; a job past it counts as a timeout error")
	fs.Var((*intFlag)(&cfg.Min), "min", "smallest random number, an `integer` (1e6 notation accepted)")
	fs.Var((*intFlag)(&cfg.Max), "max", "largest random number, an `integer`, inclusive")
	fs.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "random seed; the same seed submits the same numbers")
	fs.BoolVar(&cfg.Check, "check", cfg.Check, "verify each SUCCESS: same number back, is_prime equal to math/big ProbablyPrime(20)")
	fs.BoolVar(&cfg.Verify, "verify", cfg.Verify, "after the load phase, read every accepted task again (-c at a time, 16 in open loop; up to -timeout more for unfinished ones) and count the lost ones, duplicate ids and changed results")
	fs.IntVar(&cfg.PID, "pid", 0, "`PID` of a local server whose memory to sample from /proc/PID/status (0: off)")
	fs.DurationVar(&cfg.RSSInterval, "rss-every", cfg.RSSInterval, "with -pid: VmRSS sampling interval")
	fs.StringVar(&opts.jsonPath, "json", "-", "write the report as one JSON line to this `path`; - for stdout after the table, empty for none")
	fs.StringVar(&opts.svgPath, "svg", "", "write latency histograms as an SVG image to this `path`")
	progress := fs.Duration("progress", 0, "print a progress line on stderr at this interval (0: off)")
	fs.StringVar(&opts.cpuProfile, "cpuprofile", "", "write the load generator's own CPU profile to this `path` (go tool pprof)")
	if err := fs.Parse(args); err != nil {
		return cfg, opts, err
	}
	if fs.NArg() > 0 {
		return cfg, opts, fmt.Errorf("unexpected arguments %q; all options are flags", fs.Args())
	}
	if *progress > 0 {
		cfg.Progress, cfg.ProgressInterval = stderr, *progress
	}
	if *sweepRates != "" {
		rates, err := parseRates(*sweepRates)
		if err != nil {
			return cfg, opts, err
		}
		if cfg.Duration <= 0 {
			return cfg, opts, errors.New("-sweep needs -duration, the length of each rate's run")
		}
		opts.sweep, cfg.Rate = rates, rates[0]
	}
	if err := cfg.Validate(); err != nil {
		return cfg, opts, err
	}
	return cfg, opts, nil
}

func writeFile(path string, write func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// intFlag is an int64 flag that also accepts whole numbers in float
// notation, such as 1e6.
type intFlag int64

func (f *intFlag) String() string { return strconv.FormatInt(int64(*f), 10) }

func (f *intFlag) Set(s string) error {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		*f = intFlag(n)
		return nil
	}
	v, err := strconv.ParseFloat(s, 64)
	// 2^63 is exactly representable; anything at or beyond it is not an int64.
	if err != nil || v != math.Trunc(v) || v >= math.MaxInt64 || v < math.MinInt64 {
		return fmt.Errorf("%q is not a whole number in the int64 range", s)
	}
	*f = intFlag(int64(v))
	return nil
}
