package loadgen

import (
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// newLatencies returns an empty latency histogram: microseconds from 1 µs
// to an hour, to three significant digits (exact below 2.048 ms, within
// 0.1% above), in a fixed couple of hundred KB however many it records.
func newLatencies() *hdrhistogram.Histogram {
	return hdrhistogram.New(1, int64(time.Hour/time.Microsecond), 3)
}

// recordLatency adds d to h, clamped to h's range.
func recordLatency(h *hdrhistogram.Histogram, d time.Duration) {
	_ = h.RecordValue(min(max(int64(d/time.Microsecond), 1), h.HighestTrackableValue()))
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

// Summarize summarizes a latency histogram.
func Summarize(h *hdrhistogram.Histogram) LatencySummary {
	s := LatencySummary{Count: int(h.TotalCount())}
	if s.Count == 0 {
		return s
	}
	s.Mean = round(h.Mean()/1000, 3)
	s.P50 = usToMillis(h.ValueAtQuantile(50))
	s.P95 = usToMillis(h.ValueAtQuantile(95))
	s.P99 = usToMillis(h.ValueAtQuantile(99))
	s.Max = usToMillis(h.Max())
	return s
}

func usToMillis(us int64) float64 { return millis(time.Duration(us) * time.Microsecond) }

// millis converts d to milliseconds rounded to the microsecond.
func millis(d time.Duration) float64 {
	return float64(d.Round(time.Microsecond)) / float64(time.Millisecond)
}
