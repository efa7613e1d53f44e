package bolt_test

import (
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"
)

// BenchmarkFdatasync measures the disk under the store: one 4 KiB write
// then one fdatasync, as bbolt does twice per commit (its pages, then its
// meta page) on Linux. Its p99 bounds what a submit, which waits for a
// commit, can reach at the tail (see docs/benchmarks.md, Capacity).
func BenchmarkFdatasync(b *testing.B) {
	f, err := os.OpenFile(filepath.Join(b.TempDir(), "sync"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	const pages = 256
	if _, err := f.Write(make([]byte, pages*4096)); err != nil {
		b.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		b.Fatal(err)
	}
	page := make([]byte, 4096)
	var took []time.Duration
	for i := 0; b.Loop(); i++ {
		if _, err := f.WriteAt(page, int64(i%pages)*4096); err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		if err := syscall.Fdatasync(int(f.Fd())); err != nil {
			b.Fatal(err)
		}
		took = append(took, time.Since(start))
	}
	slices.Sort(took)
	at := func(q float64) float64 { return float64(took[int(q*float64(len(took)-1))].Microseconds()) }
	b.ReportMetric(at(0.50), "p50-µs")
	b.ReportMetric(at(0.99), "p99-µs")
	b.ReportMetric(at(1), "max-µs")
}
