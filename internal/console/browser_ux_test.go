package console_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/asyncprime/asyncprime/internal/task"
	"github.com/asyncprime/asyncprime/internal/worker"
)

// pageLog collects what the page writes to its console: exceptions,
// console calls and the browser's log (a failed request is an entry of
// the "network" source).
type pageLog struct {
	mu   sync.Mutex
	msgs []chromedp.ConsoleMessage
}

// watchPage starts collecting ctx's console messages; the test fails at
// its end on any exception, error or warning that allowed does not excuse.
func watchPage(t *testing.T, ctx context.Context, allowed func(chromedp.ConsoleMessage) bool) *pageLog {
	t.Helper()
	l := &pageLog{}
	msgs := chromedp.Console(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for m, err := range msgs {
			if err != nil {
				return
			}
			l.mu.Lock()
			l.msgs = append(l.msgs, m)
			l.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		for _, m := range l.msgs {
			bad := m.IsException() || m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleWarning
			if bad && (allowed == nil || !allowed(m)) {
				t.Errorf("page console: %s (%s %s)", m, m.Source, m.URL)
			}
		}
	})
	return l
}

// refused excuses the failed-request entries of the requests a test makes
// the API refuse on purpose: those whose URL contains one of paths.
func refused(paths ...string) func(chromedp.ConsoleMessage) bool {
	return func(m chromedp.ConsoleMessage) bool {
		if m.Source != "network" {
			return false
		}
		for _, p := range paths {
			if strings.Contains(m.URL, p) {
				return true
			}
		}
		return false
	}
}

// TestConsoleReconnects takes the server away under an open page: the page
// says it is disconnected and backs off (one failed request per retry,
// each retry further apart, not one a second), counting down each wait
// outside the live status (which says only "live" and "disconnected"),
// then reconnects when the server answers again.
func TestConsoleReconnects(t *testing.T) {
	t.Parallel()
	ctx := browser(t)
	_, sys := startLocal(t)
	var down atomic.Bool
	var failed atomic.Int64
	h := sys.Handler()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if down.Load() {
			if r.URL.Path == "/console/api/stats" {
				failed.Add(1)
			}
			// As a stopped server: the connection closes with no answer.
			conn, _, err := http.NewResponseController(w).Hijack()
			if err == nil {
				conn.Close()
			}
			return
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	// The outage's failed requests (stats, counted below, and whatever else
	// the browser asked for meanwhile) are excused; an HTTP error is not.
	watchPage(t, ctx, func(m chromedp.ConsoleMessage) bool {
		return m.Source == "network" && strings.Contains(m.Text, "net::ERR_")
	})

	do(t, ctx, "load the console, recording what its status and countdown say",
		chromedp.Navigate(srv.URL+"/console/"),
		poll(`text("live") === "live"`),
		chromedp.Evaluate[chromedp.Void](`window.__said = {live: new Set(), "retry-in": new Set()};
			for (const id of ["live", "retry-in"]) {
				const e = document.getElementById(id);
				new MutationObserver(() => window.__said[id].add(e.textContent.trim())).observe(e, {childList: true, characterData: true, subtree: true});
			}`))
	down.Store(true)
	do(t, ctx, "see the page back off, and count down",
		poll(`text("live") === "disconnected"`),
		poll(`window.__said["retry-in"].has(", retrying in 8 s") && window.__said["retry-in"].has(", retrying in 7 s")`),
		poll(`text("offline-text").includes("retrying in ")`))
	// Three failed requests so far (then waits of 2, 4 and 8 s), whatever
	// the time it took; Chromium may resend a request once when a kept-alive
	// connection closes, hence at most six.
	if n := failed.Load(); n > 6 {
		t.Errorf("%d failed stats requests before the 8 s wait; want at most 6 (a request a second is an error storm)", n)
	}
	down.Store(false)
	do(t, ctx, "reconnect", poll(`text("live") === "live" && text("retry-in") === ""`))
	check(t, ctx, "the live status said only its state", `Array.from(window.__said.live).every((s) => s === "live" || s === "disconnected")`)
}

// TestConsoleNarrow uses the console at a phone's width (375 px) with a
// 1000-digit number among the tasks and in the inspector: nothing is wider
// than the screen, the tasks table included, and an action started at the bottom of the page reports
// back where the operator can see it.
func TestConsoleNarrow(t *testing.T) {
	t.Parallel()
	ctx := browser(t)
	base, sys := startLocal(t)
	breakChecker(sys)
	watchPage(t, ctx, nil)
	big := "1" + strings.Repeat("0", 998) + "7" // 1000 digits
	bigID := submit(t, base, big)
	failed := submit(t, base, "4242")
	for _, n := range []string{"11", "12", "2305843009213693951"} {
		submit(t, base, n)
	}
	do(t, ctx, "load the console at 375 px",
		chromedp.EmulateViewport(375, 800),
		chromedp.Navigate(base+"/console/#"+bigID),
		poll(`text("total-succeeded") === "4" && text("total-failed") === "1"`),
		poll(`document.getElementById("inspect-json").textContent.includes("SUCCESS")`),
		// Every digit, not a float's rounding (nor null, for Infinity).
		poll(fmt.Sprintf(`text("inspect-json").includes('"number": %s,')`, big)))
	fits := `document.documentElement.scrollWidth <= window.innerWidth && ` +
		`document.querySelector("#inspect-form button").getBoundingClientRect().right <= window.innerWidth`
	do(t, ctx, "see nothing wider than the screen", poll(fits))
	// The tasks table fits too, with no hidden column to scroll to, each
	// id on one line.
	check(t, ctx, "the tasks table fits, its ids unbroken",
		`(() => { const s = document.getElementById("recent").parentElement; return s.scrollWidth <= s.clientWidth; })() && `+
			`Array.from(document.querySelectorAll("#recent td.id a")).every((a) => a.getClientRects().length === 1)`)

	do(t, ctx, "retry from the inspector, at the bottom of the page",
		chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`inspect(%q)`, failed)),
		poll(`!document.getElementById("inspect-retry").hidden`),
		chromedp.ScrollIntoView(chromedp.ID("inspect-retry")),
		chromedp.Click(chromedp.ID("inspect-retry")),
		chromedp.WaitVisible(chromedp.ID("confirm")),
		chromedp.Click(chromedp.ID("confirm-ok")),
		poll(`text("notice").includes("PENDING again")`),
		poll(`(() => { const r = document.getElementById("notice").getBoundingClientRect(); return r.top >= 0 && r.bottom <= window.innerHeight; })()`))
}

// TestConsoleStatesAndErrors checks what an operator reads: a cancelled
// task counted and shown as REVOKED, the inspector's refusals shown as
// errors (an empty id sends nothing), controls with accessible names, a
// dead-letter list that says when it shows only part of the queue, and
// markup in a message body or the address shown as text, never run.
func TestConsoleStatesAndErrors(t *testing.T) {
	t.Parallel()
	ctx := browser(t)
	base, sys := startLocal(t)
	release := make(chan struct{})
	sys.Poller.Handler = (&worker.Handler{Processor: &task.Processor{
		Store: sys.Store, MaxReceiveCount: 2,
		Check: func(ctx context.Context, n task.Number) (bool, error) {
			switch n {
			case "4242":
				return false, errors.New("injected by the test: the checker is broken")
			case "4343": // held until it is cancelled
				select {
				case <-release:
				case <-ctx.Done():
					return false, ctx.Err()
				}
			}
			return task.CheckPrime(ctx, n)
		},
	}}).Handle
	unknown := task.NewID()
	watchPage(t, ctx, refused("/console/api/tasks/"+unknown, "/console/api/tasks/%25"))

	held := submit(t, base, "4343")
	failed := submit(t, base, "4242")
	do(t, ctx, "load the console",
		chromedp.Navigate(base+"/console/"),
		poll(`text("total-failed") === "1" && text("total-pending") === "1"`))

	// A cancelled task is counted and shown as such.
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodDelete, base+"/"+held, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("cancel %s = %v, %v; want 200", held, resp, err)
	}
	resp.Body.Close()
	close(release)
	do(t, ctx, "see the cancelled task",
		poll(`text("total-revoked") === "1" && text("total-pending") === "0"`),
		poll(fmt.Sprintf(`(() => { const b = document.querySelector("#task-%s .state"); return !!b && b.textContent === "REVOKED" && getComputedStyle(b).backgroundColor !== "rgba(0, 0, 0, 0)"; })()`, held)))

	// The inspector's refusals read as errors; an empty id asks for one.
	do(t, ctx, "inspect an unknown task, with the keyboard",
		chromedp.SendKeys(chromedp.ID("inspect-id"), unknown+kb.Enter),
		poll(`text("inspect-json").includes("no task") && document.getElementById("inspect-json").classList.contains("error")`),
		// The address names the task inspected.
		poll(fmt.Sprintf(`location.hash === "#%s"`, unknown)))
	do(t, ctx, "inspect with no id",
		chromedp.Evaluate[chromedp.Void](`document.getElementById("inspect-id").value = ""; document.getElementById("inspect-form").requestSubmit()`),
		poll(`!document.getElementById("inspect-id").validity.valid && text("inspect-json").includes("no task")`))

	// Every control has a name a screen reader can say; the retry buttons
	// say which task.
	do(t, ctx, "check accessible names",
		poll(fmt.Sprintf(`!!document.querySelector('#failures button.retry[data-task=%q]')`, failed)),
		poll(`Array.from(document.querySelectorAll("input, button")).every((e) => (e.labels && e.labels.length > 0) || e.getAttribute("aria-label") || e.textContent.trim())`),
		poll(`Array.from(document.querySelectorAll("#failures button.retry")).every((b) => (b.getAttribute("aria-label") || "").includes(b.dataset.task))`))

	// Markup is text: in a dead letter's body and in the address.
	markup := `<img src=x onerror="window.__xss = 1"><script>window.__xss = 2</script>`
	for range 21 {
		if _, err := sys.Queue.Send(t.Context(), markup); err != nil {
			t.Fatal(err)
		}
	}
	// The failed task's message is dead too, and may be the held one's.
	do(t, ctx, "see 20 of the 22 or more dead letters listed, and told so",
		poll(`Number(text("dlq-count")) >= 22 && document.querySelectorAll("#dead-letters li").length === 20`),
		poll(deadLetter(markup)),
		poll(`text("dlq-more").includes("20 of " + text("dlq-count"))`),
		poll(`document.querySelectorAll("#dead-letters img, #dead-letters script").length === 0 && window.__xss === undefined`))
	do(t, ctx, "open an address with markup in its fragment",
		chromedp.Navigate(base+"/console/?again#"+markup),
		poll(`text("inspect-json").includes("malformed task id")`),
		poll(`document.querySelectorAll("main img, main script").length === 0 && window.__xss === undefined`))
}
