package local_test

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/asyncprime/asyncprime/internal/local"
	"github.com/asyncprime/asyncprime/internal/task"
)

// TestSmallTasksDoNotWaitBehindBigOnes: with every big check held up, a
// small task submitted after many big ones still finishes: the big ones
// have a queue and workers of their own. Run on each embedded backend.
func TestSmallTasksDoNotWaitBehindBigOnes(t *testing.T) {
	t.Parallel()
	for _, backend := range []string{"memory", "bolt"} {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			cfg := testConfig()
			cfg.Backend, cfg.DataDir = backend, filepath.Join(t.TempDir(), "data")
			cfg.WorkerTimeout = time.Minute // a held batch would hold the queue past waitFinal's patience
			cfg.VisibilityTimeout = 6 * time.Minute
			cfg.BigWorkers, cfg.BigBatchSize = 1, 5
			b, err := local.OpenBackend(t.Context(), cfg, quiet())
			if err != nil {
				t.Fatal(err)
			}
			sys := local.NewSystem(cfg, b, quiet())
			release := make(chan struct{})
			sys.Poller.Handler = workerWith(&task.Processor{Store: sys.Store, Check: func(ctx context.Context, n task.Number) (bool, error) {
				if task.Big(n) {
					select {
					case <-release:
					case <-ctx.Done():
						return false, ctx.Err()
					}
				}
				return task.CheckPrime(ctx, n)
			}})
			sys.BigPoller.Handler = sys.Poller.Handler
			srv := httptest.NewServer(sys.API)
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() {
				defer close(done)
				polled := make(chan struct{})
				pollers := []*local.Poller{sys.Poller, sys.BigPoller}
				for _, p := range pollers {
					go func() { p.Run(ctx); polled <- struct{}{} }()
				}
				for range pollers {
					<-polled
				}
			}()
			t.Cleanup(func() { srv.Close(); close(release); cancel(); <-done; b.Close() })

			const bigPrime = `{"number": "170141183460469231731687303715884105727"}`
			for range 30 {
				submit(t, srv.URL, bigPrime)
			}
			small := submit(t, srv.URL, `{"number": 11}`)
			if got := waitFinal(t, srv.URL, small); got.Status != task.StatusSuccess {
				t.Fatalf("small task = %s; want SUCCESS", got.Status)
			}
			release <- struct{}{} // at least one big check was still held
		})
	}
}
