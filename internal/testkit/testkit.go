// Package testkit holds what tests across the tree share. To wait without
// sleeping: Eventually polls a condition, Clock is time a test moves by
// hand, and WaitSignal tells when a callee has started waiting on a
// context. Output is where the processes a test starts write their logs,
// and FakeBin writes commands that stand in for real ones on a script's
// PATH. Only tests import it.
package testkit

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// pollInterval is how often Eventually checks its condition.
const pollInterval = 5 * time.Millisecond

// Eventually calls cond until it returns true, and fails the test (FailNow)
// if it has not within timeout. The timeout only bounds a failing test: pick
// one far beyond what a loaded machine needs, since a passing test returns as
// soon as cond holds. msgAndArgs, if given, is a format and its arguments
// describing what was awaited.
func Eventually(t testing.TB, timeout time.Duration, cond func() bool, msgAndArgs ...any) {
	t.Helper()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for !cond() {
		select {
		case <-timer.C:
			if !cond() {
				t.Fatalf("condition not met within %v: %s", timeout, describe(msgAndArgs))
			}
			return
		case <-tick.C:
		}
	}
}

func describe(msgAndArgs []any) string {
	if len(msgAndArgs) == 0 {
		return "(no description)"
	}
	if format, ok := msgAndArgs[0].(string); ok {
		return fmt.Sprintf(format, msgAndArgs[1:]...)
	}
	return fmt.Sprint(msgAndArgs...)
}

// Clock is a time.Now that moves only when the test says so. It is safe for
// concurrent use; the zero Clock stands at the zero time.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a Clock standing at t.
func NewClock(t time.Time) *Clock { return &Clock{now: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// WaitSignal returns a context derived from ctx, and a channel closed the
// first time anything asks that context for its Done channel. A callee that
// honours cancellation asks for Done when it starts to wait (a long poll
// selecting on ctx.Done()), so the channel tells the test that the call is
// underway and about to block, with no sleep to guess it. It may close
// earlier (a callee that derives a context asks at once), and never if the
// callee never looks at Done: use it to order events, not to prove that the
// callee blocked.
func WaitSignal(ctx context.Context) (context.Context, <-chan struct{}) {
	s := &signalCtx{Context: ctx, asked: make(chan struct{})}
	return s, s.asked
}

type signalCtx struct {
	context.Context
	once  sync.Once
	asked chan struct{}
}

func (s *signalCtx) Done() <-chan struct{} {
	s.once.Do(func() { close(s.asked) })
	return s.Context.Done()
}

// Output is where a process a test starts writes its logs: stderr under
// go test -v, else nowhere.
func Output() io.Writer {
	if testing.Verbose() {
		return os.Stderr
	}
	return io.Discard
}

// FakeBin writes each script, a bash body under its name, as an executable
// into a new directory, and returns the directory: put it first in a PATH
// to stand in for the commands a script under test runs.
func FakeBin(t testing.TB, scripts map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range scripts {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/usr/bin/env bash\n"+body+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}
