package loadgen

import (
	"context"
	"fmt"
	"net/http/httptest"
	"time"
)

// Run drives a server in-process, here the fake API behind httptest, and
// its verification pass says whether every accepted task ended final,
// under its own id, with a result that did not change.
func ExampleRun() {
	srv := httptest.NewServer(&fakeAPI{PollsToComplete: 2})
	defer srv.Close()

	cfg := DefaultConfig()
	cfg.URL = srv.URL
	cfg.Jobs = 100
	cfg.PollInterval = time.Millisecond
	res, err := Run(context.Background(), cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	v := res.Report.Verify
	fmt.Printf("accepted=%d finished=%d lost=%d duplicates=%d\n", v.Accepted, v.Finished, v.Lost, v.Duplicates)
	fmt.Println("ok:", res.Report.OK(), v.Finished == v.Accepted && v.Lost == 0 && v.Duplicates == 0)
	// Output:
	// accepted=100 finished=100 lost=0 duplicates=0
	// ok: true true
}
