package loadgen

import (
	"testing"
	"time"
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

func TestPercentile(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{name: "empty", sorted: nil, p: 50, want: 0},
		{name: "single p50", sorted: ms(7), p: 50, want: 7 * time.Millisecond},
		{name: "single p99", sorted: ms(7), p: 99, want: 7 * time.Millisecond},
		{name: "p0 is min", sorted: ms(1, 2, 3), p: 0, want: 1 * time.Millisecond},
		{name: "negative p is min", sorted: ms(1, 2, 3), p: -5, want: 1 * time.Millisecond},
		{name: "p100 is max", sorted: ms(1, 2, 3), p: 100, want: 3 * time.Millisecond},
		{name: "even count p50 is lower middle", sorted: ms(1, 2, 3, 4), p: 50, want: 2 * time.Millisecond},
		{name: "odd count p50 is middle", sorted: ms(1, 2, 3, 4, 5), p: 50, want: 3 * time.Millisecond},
		{name: "p50 just above half", sorted: ms(1, 2, 3, 4), p: 50.1, want: 3 * time.Millisecond},
		{name: "p95 of 1..100", sorted: seq(100), p: 95, want: 95 * time.Millisecond},
		{name: "p99 of 1..100", sorted: seq(100), p: 99, want: 99 * time.Millisecond},
		{name: "p99 of 1..10 is max", sorted: seq(10), p: 99, want: 10 * time.Millisecond},
		{name: "p90 of 1..10", sorted: seq(10), p: 90, want: 9 * time.Millisecond},
		{name: "p99.9 of 1..1000", sorted: seq(1000), p: 99.9, want: 999 * time.Millisecond},
		{name: "p99 of 1..1000", sorted: seq(1000), p: 99, want: 990 * time.Millisecond},
		{name: "p1 of 1..1000", sorted: seq(1000), p: 1, want: 10 * time.Millisecond},
		{name: "duplicates", sorted: ms(5, 5, 5, 9), p: 75, want: 5 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Percentile(tt.sorted, tt.p); got != tt.want {
				t.Errorf("Percentile(%d samples, %v) = %v; want %v", len(tt.sorted), tt.p, got, tt.want)
			}
		})
	}
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
			name:    "unsorted input",
			samples: ms(4, 1, 3, 2),
			want:    LatencySummary{Count: 4, Mean: 2.5, P50: 2, P95: 4, P99: 4, Max: 4},
		},
		{
			name:    "1..100",
			samples: seq(100),
			want:    LatencySummary{Count: 100, Mean: 50.5, P50: 50, P95: 95, P99: 99, Max: 100},
		},
		{
			name:    "sub-millisecond rounds to the microsecond",
			samples: []time.Duration{1234567 * time.Nanosecond},
			want:    LatencySummary{Count: 1, Mean: 1.235, P50: 1.235, P95: 1.235, P99: 1.235, Max: 1.235},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Summarize(tt.samples); got != tt.want {
				t.Errorf("Summarize() = %+v; want %+v", got, tt.want)
			}
		})
	}
}
