package testkit

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// recorder is a testing.TB that keeps what Fatalf was given.
type recorder struct {
	testing.TB
	fatal string
}

func (r *recorder) Helper() {}
func (r *recorder) Fatalf(format string, args ...any) {
	r.fatal = fmt.Sprintf(format, args...)
}

func TestEventually(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	Eventually(t, time.Minute, func() bool { return calls.Add(1) == 3 }, "three calls")
	if got := calls.Load(); got != 3 {
		t.Errorf("cond called %d times; want 3 (stop once it holds)", got)
	}

	r := &recorder{TB: t}
	Eventually(r, time.Millisecond, func() bool { return false }, "task %s finished", "x")
	if !strings.Contains(r.fatal, "task x finished") {
		t.Errorf("Fatalf(%q); want the description of what was awaited", r.fatal)
	}
}

func TestClock(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	c := NewClock(t0)
	c.Advance(1500 * time.Millisecond)
	if got := c.Now(); !got.Equal(t0.Add(1500 * time.Millisecond)) {
		t.Errorf("Now = %v; want %v", got, t0.Add(1500*time.Millisecond))
	}
}

func TestWaitSignal(t *testing.T) {
	t.Parallel()
	ctx, asked := WaitSignal(t.Context())
	select {
	case <-asked:
		t.Fatal("signalled before anyone asked for Done")
	default:
	}
	waited := make(chan struct{})
	cctx, cancel := context.WithCancel(ctx)
	go func() {
		<-cctx.Done()
		close(waited)
	}()
	<-asked // context.WithCancel asked its parent for Done
	cancel()
	<-waited
	if ctx.Err() != nil {
		t.Errorf("Err = %v; want nil (the wrapper does not cancel)", ctx.Err())
	}
}
