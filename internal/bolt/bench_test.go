package bolt_test

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/asyncprime/asyncprime/internal/bolt"
	"github.com/asyncprime/asyncprime/internal/task"
)

// BenchmarkCreateSend measures the writes of a submit from 128, 8 and 1
// concurrent callers, with fsync on: with the outbox (Store.CreateAndEnqueue,
// as task.Submitter does it) one operation in a group commit; without it
// (Store.Create, then Queue.Send of the task's message), two, each waited
// for.
func BenchmarkCreateSend(b *testing.B) {
	for _, outbox := range []bool{true, false} {
		for _, callers := range []int{128, 8, 1} {
			name := fmt.Sprintf("outbox=%v/callers=%d", outbox, callers)
			b.Run(name, func(b *testing.B) { benchmarkCreateSend(b, outbox, callers) })
		}
	}
}

func benchmarkCreateSend(b *testing.B, outbox bool, callers int) {
	db, _ := open(b, bolt.Options{})
	store, q := db.Store(), db.Queue()
	now := time.Now()
	submit := func() {
		tk := task.Task{ID: task.NewID(), Status: task.StatusPending, Number: "2305843009213693951", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
		if outbox {
			if err := store.CreateAndEnqueue(b.Context(), []task.Job{{Task: tk, Queue: q}}); err != nil {
				b.Fatal(err)
			}
			return
		}
		if err := store.Create(b.Context(), tk); err != nil {
			b.Fatal(err)
		}
		if _, err := q.Send(b.Context(), task.MessageFor(tk)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	before := db.Stats()
	b.ResetTimer()
	if callers > 1 {
		// RunParallel starts parallelism × GOMAXPROCS goroutines.
		b.SetParallelism(max(1, callers/runtime.GOMAXPROCS(0)))
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				submit()
			}
		})
	} else {
		for b.Loop() {
			submit()
		}
	}
	b.StopTimer()
	st := db.Stats().Sub(before)
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
	b.ReportMetric(st.MeanBatch(), "ops/commit")
	b.ReportMetric(float64(st.Commits)/float64(b.N), "commits/submit")
	if st.Commits > 0 {
		// Commits run back to back under load: the disk's pace.
		b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(st.Commits), "µs/commit")
	}
	b.Logf("N=%d: %d commits, batch sizes %s", b.N, st.Commits, st.Histogram())
}
