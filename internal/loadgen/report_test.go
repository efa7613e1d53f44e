package loadgen

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// sampleReport is a fixed report with every section filled in.
func sampleReport() Report {
	return Report{
		Mode: "closed", URL: "http://127.0.0.1:8000", Concurrency: 16,
		PollMS: 5, TimeoutMS: 30000, Seed: 1, Min: 1000000, Max: 10000000, Check: true,
		Jobs: 2000, Submitted: 2000, Accepted: 1990,
		Completed: 1985, Succeeded: 1984, Failed: 1, Primes: 131,
		FailureExample: "task abc (number 1000003): worker crashed",
		JobsErrored:    15, ErrorCount: 27,
		Errors: map[string]int{"submit_http_503": 10, "status_http_503": 12, "timeout": 5},
		ErrorExamples: map[string]string{
			"submit_http_503": `submit 1234567: HTTP 503: backend "unavailable"`,
			"timeout":         "task abc: no final state within 30s (6000 polls)",
		},
		WallSeconds: 3.2105, SubmitsPerSec: 619.84, CompletedPerSec: 618.28,
		StatusRequests: 6543, PollsPerJob: 3.2961,
		SubmitLatency: LatencySummary{Count: 1990, Mean: 0.41, P50: 0.35, P95: 0.9, P99: 1.52, Max: 12.345},
		StatusLatency: LatencySummary{Count: 6531, Mean: 0.2, P50: 0.18, P95: 0.4, P99: 0.75, Max: 8.1},
		TimeToResult:  LatencySummary{Count: 1985, Mean: 18.2, P50: 16.5, P95: 31.04, P99: 45.9, Max: 30001.5},
		RSS: &RSSReport{PID: 4242, PeakMiB: 48.25, HWMMiB: 48.25, MaxSampledMiB: 47.9,
			StartMiB: 12.5, EndMiB: 40.1, Samples: 33},
		Verify: &VerifyReport{Accepted: 1990, Finished: 1987, Lost: 3, Duplicates: 3, DuplicateIDs: 1, ChangedResults: 2,
			Mismatched: 2, Stragglers: 4, Requests: 2011, Seconds: 1.2345,
			Examples: map[string]string{
				VerifyLost:        "task abc (number 1000003): HTTP 404: task not found",
				VerifyDuplicateID: "task def returned by 2 accepted submits (numbers 1000033, 1000037)",
				VerifyChanged:     "task ghi (number 1000039): SUCCESS is_prime=true during the run, SUCCESS is_prime=false now",
				VerifyMismatched:  "task ghi: is_prime(1000039) = false; want true",
			}},
	}
}

func TestWriteTable(t *testing.T) {
	t.Parallel()
	open := sampleReport()
	open.Mode, open.Concurrency, open.Rate, open.MaxInFlight = "open", 0, 500, 256
	open.InflightWaits, open.MaxScheduleLagMS = 3, 12.5
	open.RSS, open.Errors, open.ErrorExamples, open.ErrorCount, open.JobsErrored = nil, map[string]int{}, nil, 0, 0
	open.Failed, open.FailureExample, open.Interrupted = 0, "", true
	open.Completed, open.Succeeded, open.Primes, open.TimeToResult = 0, 0, 0, LatencySummary{}
	open.Verify = &VerifyReport{Accepted: 1990, Finished: 1500, Unverified: 490, Requests: 1500, Seconds: 0.5}

	tests := []struct {
		name   string
		report Report
		golden string
	}{
		{name: "closed loop with errors and rss", report: sampleReport(), golden: "report_closed.golden"},
		{name: "open loop interrupted", report: open, golden: "report_open.golden"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			if err := tt.report.WriteTable(&buf); err != nil {
				t.Fatalf("WriteTable() error = %v", err)
			}
			path := filepath.Join("testdata", tt.golden)
			if *update {
				if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			wantB, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("read golden file (run with -update to create it): %v", err)
			}
			if got := buf.String(); got != string(wantB) {
				t.Errorf("WriteTable() =\n%s\nwant\n%s", got, wantB)
			}
		})
	}
}

func TestWriteJSON(t *testing.T) {
	t.Parallel()
	r := sampleReport()
	var buf bytes.Buffer
	if err := r.WriteJSON(&buf); err != nil {
		t.Fatalf("WriteJSON() error = %v", err)
	}
	out := buf.String()
	if strings.Count(out, "\n") != 1 || !strings.HasSuffix(out, "\n") {
		t.Errorf("WriteJSON() wrote %q; want exactly one line", out)
	}
	var back Report
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
		t.Fatalf("unmarshal WriteJSON output: %v", err)
	}
	if back.Accepted != r.Accepted || back.Errors["timeout"] != 5 || back.TimeToResult.P99 != 45.9 || back.RSS == nil || back.RSS.PeakMiB != 48.25 ||
		back.Verify == nil || back.Verify.Lost != 3 || back.Verify.ChangedResults != 2 {
		t.Errorf("round trip = %+v; want %+v", back, r)
	}
	var raw map[string]any
	if err := json.Unmarshal(buf.Bytes(), &raw); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"accepted", "completed", "success", "failure", "errors", "wall_s", "submits_per_s",
		"completed_per_s", "submit_latency", "status_latency", "time_to_result", "polls_per_job", "server_rss", "verify"} {
		if _, ok := raw[key]; !ok {
			t.Errorf("JSON line has no %q key", key)
		}
	}
	verify, _ := raw["verify"].(map[string]any)
	for _, key := range []string{"accepted", "finished", "lost", "duplicates", "duplicate_ids", "changed_results", "verify_s"} {
		if _, ok := verify[key]; !ok {
			t.Errorf("JSON verify section has no %q key", key)
		}
	}
}

func TestClip(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("é", maxExampleMessageSize) // two bytes each
	tests := []struct {
		name string
		in   string
		want string
	}{
		{name: "short", in: "HTTP 503", want: "HTTP 503"},
		{name: "exactly the limit", in: strings.Repeat("a", maxExampleMessageSize), want: strings.Repeat("a", maxExampleMessageSize)},
		{name: "cut on a rune boundary", in: long, want: long[:maxExampleMessageSize] + "…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := clip(tt.in); got != tt.want {
				t.Errorf("clip(%d bytes) = %q; want %q", len(tt.in), got, tt.want)
			}
		})
	}
}

func TestReportOK(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		edit        func(*Report)
		wantOK      bool
		wantProblem string
	}{
		{name: "clean", edit: func(*Report) {}, wantOK: true},
		{name: "errors", edit: func(r *Report) { r.ErrorCount, r.JobsErrored = 3, 2 }, wantProblem: "3 errors (2 jobs without a result)"},
		{name: "failures", edit: func(r *Report) { r.Failed = 1 }, wantProblem: "1 tasks ended in FAILURE"},
		{name: "interrupted", edit: func(r *Report) { r.Interrupted = true }, wantProblem: "interrupted"},
		{name: "verified clean", edit: func(r *Report) { r.Verify = &VerifyReport{Accepted: 5, Finished: 5} }, wantOK: true},
		{name: "verify lost", edit: func(r *Report) { r.Verify = &VerifyReport{Accepted: 5, Finished: 3, Lost: 2} },
			wantProblem: "verify: 2 tasks lost"},
		{name: "verify duplicates", edit: func(r *Report) {
			r.Verify = &VerifyReport{Accepted: 5, Finished: 5, Duplicates: 3, DuplicateIDs: 1, ChangedResults: 2, Mismatched: 2}
		}, wantProblem: "verify: 3 duplicates (1 duplicate ids, 2 changed results), 2 wrong results on re-read"},
		{name: "verify unfinished", edit: func(r *Report) {
			r.Verify = &VerifyReport{Accepted: 5, Finished: 4, Unverified: 1}
			r.Interrupted = true
		}, wantProblem: "verify: 1 tasks not verified, interrupted"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var r Report
			tt.edit(&r)
			if got := r.OK(); got != tt.wantOK {
				t.Errorf("OK() = %t; want %t", got, tt.wantOK)
			}
			if got := r.Problem(); got != tt.wantProblem {
				t.Errorf("Problem() = %q; want %q", got, tt.wantProblem)
			}
		})
	}
}
