package local_test

import (
	"testing"
	"time"

	"github.com/asyncprime/asyncprime/internal/loadgen"
)

// TestSoakSmall is the scaled-down soak (make soak runs 100,000): a few
// thousand tasks through the durable embedded mode from 16 clients, then a
// re-read of every accepted task. Nothing may be lost or duplicated, and
// every result must be right.
func TestSoakSmall(t *testing.T) {
	t.Parallel()
	for _, bk := range backends[:2] { // memory and bolt; make soak covers bolt at full size
		t.Run(bk.name, func(t *testing.T) {
			t.Parallel()
			cfg := testConfig()
			base, _ := run(t, cfg, bk.open(t, cfg), nil)
			lg := loadgen.DefaultConfig()
			lg.URL, lg.Jobs, lg.Concurrency, lg.PollInterval = base, 3000, 16, 2*time.Millisecond
			res, err := loadgen.Run(t.Context(), lg)
			if err != nil {
				t.Fatal(err)
			}
			r := res.Report
			v := r.Verify
			t.Logf("accepted=%d finished=%d lost=%d duplicates=%d errors=%v", v.Accepted, v.Finished, v.Lost, v.Duplicates, r.Errors)
			// A 503 is the system shedding load when the store misses its
			// budget, which a loaded test machine causes now and then: a
			// task not accepted is not a task lost. Anything else, or more
			// than 1% shed, fails.
			shed := r.Errors["submit_http_503"] + r.Errors["status_http_503"]
			if shed != r.ErrorCount || shed > lg.Jobs/100 || r.Failed != 0 || r.Interrupted ||
				v.Accepted+r.Errors["submit_http_503"] != lg.Jobs || v.Finished != v.Accepted || v.Lost != 0 || v.Duplicates != 0 || v.Mismatched != 0 {
				t.Errorf("soak: %s", r.Problem())
			}
		})
	}
}
