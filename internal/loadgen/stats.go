package loadgen

import (
	"math"
	"slices"
	"time"
)

// Percentile returns the p-th percentile (0 <= p <= 100) of sorted, which
// must be in ascending order, by the nearest-rank method: the smallest sample
// that at least p percent of the samples are less than or equal to. It is
// always one of the samples; p <= 0 gives the minimum and p >= 100 the
// maximum. It returns 0 for no samples.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	if p <= 0 || math.IsNaN(p) {
		return sorted[0]
	}
	if p >= 100 {
		return sorted[n-1]
	}
	// p*n/100 rather than p/100*n: 95*100/100 is exactly 95, while 0.95*100
	// is not. The small epsilon absorbs the error of decimal p such as 99.9.
	rank := int(math.Ceil(p*float64(n)/100 - 1e-9))
	return sorted[min(max(rank, 1), n)-1]
}

// LatencySummary is the distribution of one kind of latency, in
// milliseconds.
type LatencySummary struct {
	Count int     `json:"count"`
	Mean  float64 `json:"mean_ms"`
	P50   float64 `json:"p50_ms"`
	P95   float64 `json:"p95_ms"`
	P99   float64 `json:"p99_ms"`
	Max   float64 `json:"max_ms"`
}

// Summarize sorts samples in place and summarizes them.
func Summarize(samples []time.Duration) LatencySummary {
	slices.Sort(samples)
	s := LatencySummary{Count: len(samples)}
	if len(samples) == 0 {
		return s
	}
	var sum time.Duration
	for _, d := range samples {
		sum += d
	}
	s.Mean = millis(sum / time.Duration(len(samples)))
	s.P50 = millis(Percentile(samples, 50))
	s.P95 = millis(Percentile(samples, 95))
	s.P99 = millis(Percentile(samples, 99))
	s.Max = millis(samples[len(samples)-1])
	return s
}

// millis converts d to milliseconds rounded to the microsecond.
func millis(d time.Duration) float64 {
	return float64(d.Round(time.Microsecond)) / float64(time.Millisecond)
}
