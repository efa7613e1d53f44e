package console_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/asyncprime/asyncprime/internal/console"
	"github.com/asyncprime/asyncprime/internal/memory"
	"github.com/asyncprime/asyncprime/internal/queue"
	"github.com/asyncprime/asyncprime/internal/task"
	"github.com/asyncprime/asyncprime/internal/testkit"
)

// deadLetterFake is a task queue whose dead letters the test sets, each
// set at once (a letter can replace another with the count unchanged); it
// counts the looks at them.
type deadLetterFake struct {
	*memory.Queue
	mu      sync.Mutex
	letters []queue.Peeked
	peeks   atomic.Int64
}

func newDeadLetterFake() *deadLetterFake {
	return &deadLetterFake{Queue: memory.NewQueue(memory.QueueOptions{})}
}

// set makes bodies the dead letters, with ids of their own.
func (f *deadLetterFake) set(bodies ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.letters = nil
	for _, b := range bodies {
		f.letters = append(f.letters, queue.Peeked{ID: task.NewID(), Body: b, Sent: time.Now(), ReceiveCount: 2})
	}
}

func (f *deadLetterFake) DeadLetterCounts(context.Context) (queue.Counts, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return queue.Counts{Visible: len(f.letters)}, nil
}

func (f *deadLetterFake) PeekDeadLetters(_ context.Context, max int) ([]queue.Peeked, error) {
	f.peeks.Add(1)
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]queue.Peeked(nil), f.letters[:min(max, len(f.letters))]...), nil
}

func (f *deadLetterFake) PurgeDeadLetters(context.Context) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := len(f.letters)
	f.letters = nil
	return n, nil
}

// serveFake serves the console over a memory store and q; stats counts
// the requests for /console/api/stats.
func serveFake(t *testing.T, q *deadLetterFake) (base string, stats *atomic.Int64) {
	t.Helper()
	stats = new(atomic.Int64)
	c := console.New(console.Config{Backend: "memory", Store: memory.NewStore(), Queue: q, MaxReceiveCount: 2, Logger: slog.New(slog.DiscardHandler)})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/console/api/stats" {
			stats.Add(1)
		}
		c.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, stats
}

// after is a step that waits until a page timer of ms milliseconds set
// now has fired: timers of the same or a shorter delay set before it have
// then fired too (HTML runs timers of one page in that order).
func after(ms int) []chromedp.Action[chromedp.Void] {
	return []chromedp.Action[chromedp.Void]{
		chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`window.__fired = false; setTimeout(() => { window.__fired = true; }, %d)`, ms)),
		poll(`window.__fired`),
	}
}

// TestConsoleNotice: the notice of an action's outcome has a close
// button; an error stays until it is closed or replaced, a success clears
// itself, and a later notice replaces an earlier one, its own clearing
// included.
func TestConsoleNotice(t *testing.T) {
	t.Parallel()
	ctx := browser(t)
	q := newDeadLetterFake()
	q.set("not a task")
	base, _ := serveFake(t, q)
	unknown := task.NewID()
	watchPage(t, ctx, refused("/console/api/actions/retry"))

	shown := `!document.getElementById("notice").hidden`
	do(t, ctx, "load the console, with a success notice clearing itself after 1 ms",
		chromedp.Navigate(base+"/console/"),
		poll(`text("dlq-count") === "1"`),
		chromedp.Evaluate[chromedp.Void](`noticeClearAfter = 1`))

	// An error stays (a timer of 1 ms set after it fires, and it is still
	// there), until its close button, which has a name, is clicked.
	steps := []chromedp.Action[chromedp.Void]{
		chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`runAction("retry", %q)`, unknown)),
		poll(`document.getElementById("notice").className === "error" && text("notice-text").includes("no task")`),
	}
	steps = append(steps, after(1)...)
	steps = append(steps,
		poll(shown+` && text("notice-text").includes("no task")`),
		poll(`(() => { const b = document.getElementById("notice-close"); return !!b && b.tagName === "BUTTON" && b.getAttribute("aria-label") === "Dismiss this notice"; })()`),
		chromedp.Click(chromedp.ID("notice-close")),
		poll(`document.getElementById("notice").hidden`))
	do(t, ctx, "see an error stay until closed", steps...)

	// A success replaces an error, and clears itself.
	do(t, ctx, "see a success replace an error, then clear itself",
		chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`noticeClearAfter = 600000; runAction("retry", %q)`, unknown)),
		poll(shown+` && document.getElementById("notice").className === "error"`),
		chromedp.Click(chromedp.ID("btn-purge")),
		chromedp.WaitVisible(chromedp.ID("confirm")),
		chromedp.Click(chromedp.ID("confirm-ok")),
		poll(shown+` && document.getElementById("notice").className === "" && text("notice-text") === "deleted 1 dead letter"`),
		// Purge disabled with nothing left to purge, its focus goes to the
		// dead-letter heading, not to the page.
		poll(`document.getElementById("btn-purge").disabled && document.activeElement === document.getElementById("dead-heading")`),
		chromedp.Evaluate[chromedp.Void](`notice("done", false)`),
		chromedp.Evaluate[chromedp.Void](`noticeClearAfter = 1; notice("done again", false)`),
		poll(`document.getElementById("notice").hidden`))

	// An error replacing a success is not cleared by the success's timer.
	steps = []chromedp.Action[chromedp.Void]{
		chromedp.Evaluate[chromedp.Void](`noticeClearAfter = 50; notice("it worked", false); notice("it broke", true)`),
	}
	steps = append(steps, after(100)...)
	steps = append(steps, poll(shown+` && text("notice-text") === "it broke"`))
	do(t, ctx, "see an error outlive the success it replaced", steps...)
}

// TestConsoleDeadLetterList: the dead-letter list follows the queue even
// when a letter replaces another (the count unchanged), with one look per
// refresh at most; a long body shows its start and size, the whole of it
// a click away, as text; and a body opened stays open while the list does
// not change.
func TestConsoleDeadLetterList(t *testing.T) {
	t.Parallel()
	ctx := browser(t)
	q := newDeadLetterFake()
	q.set("first letter")
	base, stats := serveFake(t, q)
	watchPage(t, ctx, nil)

	do(t, ctx, "see the first letter",
		chromedp.Navigate(base+"/console/"),
		poll(`text("dlq-count") === "1" && `+deadLetter("first letter")))
	q.set("second letter")
	do(t, ctx, "see the second letter replace the first",
		poll(deadLetter("second letter")+` && !`+deadLetter("first letter")+` && document.querySelectorAll("#dead-letters li").length === 1`))

	// 256 KiB of markup and multi-byte text: the start is shown, with the
	// size in bytes; the whole body is in a <details>, as text.
	unit := `<img src=x onerror="window.__xss = 1">é`
	long := strings.Repeat(unit, 256*1024/len(unit))
	q.set("short", long)
	start := []rune(long)[:200]
	summary := fmt.Sprintf("%s\u2026 (%d bytes)", string(start), len(long))
	do(t, ctx, "see the start of a long body and its size",
		poll(deadLetter(long)+` && `+deadLetter("short")),
		poll(fmt.Sprintf(`(() => { const d = document.querySelector("#dead-letters details.body"); return !!d && !d.open && d.querySelector("summary").textContent === %q && d.querySelector("pre").textContent.length === %d; })()`, summary, len([]rune(long)))),
		poll(`Array.from(document.querySelectorAll("#dead-letters span.body")).some((s) => s.textContent === "short")`),
		poll(`document.querySelectorAll("#dead-letters img").length === 0 && window.__xss === undefined`),
		chromedp.Click(chromedp.CSS("#dead-letters details.body summary")),
		poll(`document.querySelector("#dead-letters details.body").open`))

	// The list is looked at again at the next refreshes, and not redrawn:
	// the body stays open.
	peeks := q.peeks.Load()
	testkit.Eventually(t, 2*time.Minute, func() bool { return q.peeks.Load() >= peeks+2 }, "the dead letters looked at twice more")
	do(t, ctx, "see the body still open",
		poll(`document.querySelector("#dead-letters details.body").open && document.querySelectorAll("#dead-letters li").length === 2`))
	if p, s := q.peeks.Load(), stats.Load(); p > s {
		t.Errorf("%d looks at the dead letters for %d refreshes; want at most one each", p, s)
	}
}

// TestConsolePausesWhenHidden: a hidden page (document.hidden, stubbed)
// asks for no stats, and asks at once when it is shown again.
func TestConsolePausesWhenHidden(t *testing.T) {
	t.Parallel()
	ctx := browser(t)
	base, _ := serveFake(t, newDeadLetterFake())
	watchPage(t, ctx, nil)

	do(t, ctx, "load the console, counting its stats requests",
		chromedp.Navigate(base+"/console/"),
		poll(`text("live") === "live"`),
		chromedp.Evaluate[chromedp.Void](`
			window.__stats = 0;
			const f = window.fetch;
			window.fetch = (u, o) => { if (String(u).endsWith("api/stats")) window.__stats++; return f(u, o); };
			window.__hidden = false;
			Object.defineProperty(document, "hidden", { configurable: true, get: () => window.__hidden });
			Object.defineProperty(document, "visibilityState", { configurable: true, get: () => window.__hidden ? "hidden" : "visible" });`),
		poll(`window.__stats >= 1`))

	// Hidden: the stats requests made so far (one may be under way) are
	// all. The page polls every second; 3 s without a request shows it
	// paused (a wait that bounds only how surely a page that does not
	// pause is caught: one that pauses passes whatever the machine's pace).
	steps := []chromedp.Action[chromedp.Void]{
		chromedp.Evaluate[chromedp.Void](`window.__hidden = true; document.dispatchEvent(new Event("visibilitychange")); window.__hiddenAt = window.__stats`),
	}
	steps = append(steps, after(3000)...)
	do(t, ctx, "hide the page", steps...)
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`window.__stats - window.__hiddenAt`))
	if err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("%d stats requests while the page was hidden; want 0", n)
	}

	do(t, ctx, "show the page again",
		chromedp.Evaluate[chromedp.Void](`window.__hidden = false; document.dispatchEvent(new Event("visibilitychange"))`),
		poll(`window.__stats > window.__hiddenAt`))
}
