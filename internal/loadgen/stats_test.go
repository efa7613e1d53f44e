package loadgen

import (
	"math"
	"slices"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// ms turns integers into millisecond durations.
func ms(vs ...int) []time.Duration {
	out := make([]time.Duration, len(vs))
	for i, v := range vs {
		out[i] = time.Duration(v) * time.Millisecond
	}
	return out
}

// seq returns 1..n milliseconds.
func seq(n int) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = time.Duration(i+1) * time.Millisecond
	}
	return out
}

// hist returns a latency histogram of ds.
func hist(ds ...time.Duration) *hdrhistogram.Histogram {
	h := newLatencies()
	for _, d := range ds {
		recordLatency(h, d)
	}
	return h
}

func TestSummarize(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		samples []time.Duration
		want    LatencySummary
	}{
		{name: "empty", samples: nil, want: LatencySummary{}},
		{
			name:    "unsorted input, exact below 2 ms",
			samples: []time.Duration{400 * time.Microsecond, 100 * time.Microsecond, 300 * time.Microsecond, 200 * time.Microsecond},
			want:    LatencySummary{Count: 4, Mean: 0.25, P50: 0.2, P95: 0.4, P99: 0.4, Max: 0.4},
		},
		{
			name:    "1..100 ms, within 0.1%",
			samples: seq(100),
			want:    LatencySummary{Count: 100, Mean: 50.5, P50: 50, P95: 95, P99: 99, Max: 100},
		},
		{
			name:    "microseconds, rounded down",
			samples: []time.Duration{1234567 * time.Nanosecond},
			want:    LatencySummary{Count: 1, Mean: 1.234, P50: 1.234, P95: 1.234, P99: 1.234, Max: 1.234},
		},
		{
			name:    "a million samples, beyond the range",
			samples: append(slices.Repeat([]time.Duration{time.Millisecond}, 1_000_000), 2*time.Hour),
			want:    LatencySummary{Count: 1_000_001, Mean: 4.6, P50: 1, P95: 1, P99: 1, Max: 3_600_000},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := Summarize(hist(tt.samples...))
			near := func(a, b float64) bool { return math.Abs(a-b) <= 0.001*b }
			if got.Count != tt.want.Count || !near(got.Mean, tt.want.Mean) || !near(got.P50, tt.want.P50) ||
				!near(got.P95, tt.want.P95) || !near(got.P99, tt.want.P99) || !near(got.Max, tt.want.Max) {
				t.Errorf("Summarize() = %+v; want %+v (within 0.1%%)", got, tt.want)
			}
		})
	}
}
