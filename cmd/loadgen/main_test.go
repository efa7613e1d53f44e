package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/asyncprime/asyncprime/internal/loadgen"
	"github.com/asyncprime/asyncprime/internal/local"
	"github.com/asyncprime/asyncprime/internal/memory"
	"github.com/asyncprime/asyncprime/internal/queue"
	"github.com/asyncprime/asyncprime/internal/worker"
)

// newSystem serves the whole system in memory, as `make run` with
// BACKEND=memory does, and returns its URL. wrap, if not nil, wraps its HTTP
// handler.
func newSystem(t *testing.T, wrap func(http.Handler) http.Handler) string {
	t.Helper()
	cfg := local.Config{Workers: 2, BatchSize: queue.DefaultBatchSize, WorkerTimeout: worker.DefaultTimeout}
	log := slog.New(slog.DiscardHandler)
	sys := local.NewSystem(cfg, &local.Backend{Store: memory.NewStore(), Queue: memory.NewQueue(memory.QueueOptions{})}, log)
	var h http.Handler = sys.API
	if wrap != nil {
		h = wrap(h)
	}
	srv := httptest.NewServer(h)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { sys.Poller.Run(ctx); close(done) }()
	t.Cleanup(func() { srv.Close(); cancel(); <-done })
	return srv.URL
}

// failSubmits answers 503 to every submit.
func failSubmits(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			http.Error(w, `{"error":"down"}`, http.StatusServiceUnavailable)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// TestRun runs the command against the real system. The faults a run must
// report are injected in internal/loadgen's own tests.
func TestRun(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		wrap          func(http.Handler) http.Handler
		extra         []string
		wantErr       bool
		wantCompleted int
		// wantVerify is the verify summary line of the table, "" for none.
		wantVerify string
	}{
		{name: "clean", wantCompleted: 20, wantVerify: "accepted=20 finished=20 lost=0 duplicates=0"},
		{name: "open loop", extra: []string{"-rate", "2000"}, wantCompleted: 20,
			wantVerify: "accepted=20 finished=20 lost=0 duplicates=0"},
		{name: "503s exit non-zero", wrap: failSubmits, wantErr: true, wantCompleted: 0,
			wantVerify: "accepted=0 finished=0 lost=0 duplicates=0"},
		{name: "no verify", extra: []string{"-verify=false"}, wantCompleted: 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			url := newSystem(t, tt.wrap)
			dir := t.TempDir()
			svg := filepath.Join(dir, "latency.svg")
			args := append([]string{"-url", url + "/", "-n", "20", "-c", "4", "-poll", "1ms", "-svg", svg}, tt.extra...)
			var stdout, stderr bytes.Buffer
			err := run(t.Context(), args, &stdout, &stderr)
			if (err != nil) != tt.wantErr {
				t.Fatalf("run() error = %v; want error: %t\nstderr: %s", err, tt.wantErr, stderr.String())
			}
			out := stdout.String()
			if !strings.Contains(out, "latency (ms)") || !strings.Contains(out, "time to result") {
				t.Errorf("stdout has no latency table:\n%s", out)
			}
			lines := strings.Split(strings.TrimSpace(out), "\n")
			var rep loadgen.Report
			if err := json.Unmarshal([]byte(lines[len(lines)-1]), &rep); err != nil {
				t.Fatalf("last stdout line is not the JSON report: %v\n%s", err, out)
			}
			if rep.Completed != tt.wantCompleted {
				t.Errorf("JSON completed = %d; want %d", rep.Completed, tt.wantCompleted)
			}
			verifyLine := regexp.MustCompile(`(?m)^verify +(.*)$`).FindStringSubmatch(out)
			switch {
			case tt.wantVerify == "" && (verifyLine != nil || rep.Verify != nil):
				t.Errorf("report has a verify section with -verify=false:\n%s", out)
			case tt.wantVerify != "" && (verifyLine == nil || verifyLine[1] != tt.wantVerify):
				t.Errorf("verify line = %q; want %q\n%s", verifyLine, "verify  "+tt.wantVerify, out)
			case tt.wantVerify != "" && rep.Verify == nil:
				t.Errorf("JSON has no verify section:\n%s", out)
			}
			if b, err := os.ReadFile(svg); err != nil || !bytes.HasPrefix(b, []byte("<svg")) {
				t.Errorf("SVG file: %v, starts %q; want an <svg> document", err, b[:min(len(b), 10)])
			}
		})
	}
}

func TestRunJSONToFile(t *testing.T) {
	t.Parallel()
	url := newSystem(t, nil)
	path := filepath.Join(t.TempDir(), "report.json")
	var stdout bytes.Buffer
	args := []string{"-url", url, "-n", "5", "-poll", "1ms", "-json", path}
	if err := run(t.Context(), args, &stdout, io.Discard); err != nil {
		t.Fatalf("run() error = %v; want nil", err)
	}
	if strings.Contains(stdout.String(), "{") {
		t.Errorf("stdout has JSON although -json names a file:\n%s", stdout.String())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var rep loadgen.Report
	if err := json.Unmarshal(b, &rep); err != nil || rep.Completed != 5 {
		t.Errorf("JSON file = %s (error %v); want a report with 5 completed", b, err)
	}
}

func TestParseFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		args    []string
		check   func(loadgen.Config) bool
		wantErr bool
	}{
		{name: "defaults", args: nil, check: func(c loadgen.Config) bool {
			return c.URL == "http://127.0.0.1:8000" && c.Concurrency == 16 && c.Min == 1_000_000 && c.Max == 10_000_000 && c.Check && !c.OpenLoop()
		}},
		{name: "float notation", args: []string{"-min", "1e9", "-max", "2e9"}, check: func(c loadgen.Config) bool {
			return c.Min == 1_000_000_000 && c.Max == 2_000_000_000
		}},
		{name: "open loop", args: []string{"-rate", "50", "-max-inflight", "8"}, check: func(c loadgen.Config) bool {
			return c.OpenLoop() && c.Rate == 50 && c.MaxInFlight == 8
		}},
		{name: "no check", args: []string{"-check=false"}, check: func(c loadgen.Config) bool { return !c.Check }},
		{name: "verify by default", args: nil, check: func(c loadgen.Config) bool { return c.Verify }},
		{name: "no verify", args: []string{"-verify=false"}, check: func(c loadgen.Config) bool { return !c.Verify }},
		{name: "progress", args: []string{"-progress", "2s"}, check: func(c loadgen.Config) bool { return c.Progress != nil }},
		{name: "fractional min", args: []string{"-min", "1.5"}, wantErr: true},
		{name: "min too large", args: []string{"-min", "1e19"}, wantErr: true},
		{name: "empty range", args: []string{"-min", "10", "-max", "9"}, wantErr: true},
		{name: "zero jobs", args: []string{"-n", "0"}, wantErr: true},
		{name: "bad url", args: []string{"-url", "localhost:8000"}, wantErr: true},
		{name: "stray argument", args: []string{"2000"}, wantErr: true},
		{name: "unknown flag", args: []string{"-bogus"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg, _, err := parseFlags(tt.args, io.Discard)
			if (err != nil) != tt.wantErr {
				t.Fatalf("parseFlags(%q) error = %v; want error: %t", tt.args, err, tt.wantErr)
			}
			if !tt.wantErr && !tt.check(cfg) {
				t.Errorf("parseFlags(%q) = %+v; not what the flags say", tt.args, cfg)
			}
		})
	}
}

func TestRunHelp(t *testing.T) {
	t.Parallel()
	var stderr bytes.Buffer
	if err := run(t.Context(), []string{"-h"}, io.Discard, &stderr); err != nil {
		t.Errorf("run(-h) error = %v; want nil", err)
	}
	if !strings.Contains(stderr.String(), "-rate") {
		t.Errorf("usage does not mention -rate:\n%s", stderr.String())
	}
}
