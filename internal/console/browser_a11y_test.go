package console_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/asyncprime/asyncprime/internal/console"
	"github.com/asyncprime/asyncprime/internal/memory"
	"github.com/asyncprime/asyncprime/internal/metrics"
	"github.com/asyncprime/asyncprime/internal/task"
	"github.com/asyncprime/asyncprime/internal/worker"
)

// countStats makes the page count the stats requests it starts, in
// window.__stats.
var countStats = chromedp.Evaluate[chromedp.Void](`if (window.__stats === undefined) {
	window.__stats = 0;
	const f = window.fetch;
	window.fetch = (u, o) => { if (String(u).endsWith("api/stats")) window.__stats++; return f(u, o); };
}`)

// refreshes waits until the page has drawn n more refreshes (after
// countStats): requests go one at a time, so n+1 started means n drawn.
func refreshes(n int) []chromedp.Action[chromedp.Void] {
	return []chromedp.Action[chromedp.Void]{
		chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`window.__until = window.__stats + %d`, n+1)),
		poll(`window.__stats >= window.__until`),
	}
}

// check fails t unless expression is true in the page now; text(id) is
// as in poll.
func check(t *testing.T, ctx context.Context, what, expression string) {
	t.Helper()
	ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](withText(expression)))
	if err != nil || !ok {
		t.Errorf("%s: %s is %v, %v; want true", what, expression, ok, err)
	}
}

// steps joins steps made of several.
func steps(parts ...any) []chromedp.Action[chromedp.Void] {
	var out []chromedp.Action[chromedp.Void]
	for _, p := range parts {
		switch p := p.(type) {
		case chromedp.Action[chromedp.Void]:
			out = append(out, p)
		case []chromedp.Action[chromedp.Void]:
			out = append(out, p...)
		default:
			panic(fmt.Sprintf("steps: %T", p))
		}
	}
	return out
}

// TestConsoleKeepsFocus: the tables are updated in place, not redrawn, at
// each refresh: a link focused keeps the focus while rows come in above
// it, and while its own row moves to the top; Tab goes from one row to
// the next; and a click whose press and release straddle refreshes lands.
func TestConsoleKeepsFocus(t *testing.T) {
	t.Parallel()
	ctx := browser(t)
	base, sys := startLocal(t)
	var failing atomic.Bool
	failing.Store(true)
	sys.Poller.Handler = (&worker.Handler{Processor: &task.Processor{
		Store: sys.Store, MaxReceiveCount: 2,
		Check: func(ctx context.Context, n task.Number) (bool, error) {
			if n == "4242" && failing.Load() {
				return false, errors.New("injected by the test: the checker is broken")
			}
			return task.CheckPrime(ctx, n)
		},
	}}).Handle
	watchPage(t, ctx, nil)
	for _, n := range []string{"11", "12", "13"} {
		submit(t, base, n)
	}
	do(t, ctx, "load the console",
		chromedp.Navigate(base+"/console/"),
		poll(`document.querySelectorAll("#recent tbody tr").length === 3 && text("total-succeeded") === "3"`),
		countStats)

	// Tab from row to row, each focus outliving two refreshes.
	rowLink := func(i int) string {
		return fmt.Sprintf(`document.querySelector("#recent tbody tr:nth-child(%d) a")`, i)
	}
	do(t, ctx, "focus the first row's link", chromedp.Focus(chromedp.CSS("#recent tbody tr:first-child a")))
	for i := 1; i <= 3; i++ {
		if i > 1 {
			do(t, ctx, "press Tab", chromedp.KeyEvent(kb.Tab))
		}
		do(t, ctx, "wait two refreshes", steps(poll(`document.activeElement === `+rowLink(i)), refreshes(2))...)
		check(t, ctx, fmt.Sprintf("row %d's link focused after two refreshes", i), `document.activeElement === `+rowLink(i))
	}

	// Rows come in above the focused one.
	do(t, ctx, "keep the focused link", chromedp.Evaluate[chromedp.Void](`window.__focused = document.activeElement`))
	for _, n := range []string{"17", "19"} {
		submit(t, base, n)
	}
	do(t, ctx, "see two rows come in", steps(poll(`document.querySelectorAll("#recent tbody tr").length === 5`), refreshes(2))...)
	check(t, ctx, "the link focused still focused, in the last row",
		`document.activeElement === window.__focused && window.__focused.closest("tr") === document.querySelector("#recent tbody tr:last-child")`)

	// The focused row itself moves to the top: a failed task retried.
	failed := submit(t, base, "4242")
	do(t, ctx, "see the task fail",
		poll(fmt.Sprintf(`!!document.querySelector('#failures button.retry[data-task=%q]')`, failed)))
	submit(t, base, "23")
	do(t, ctx, "focus the failed task's link, under a newer row",
		poll(`document.querySelectorAll("#recent tbody tr").length === 7`),
		poll(fmt.Sprintf(`document.querySelector("#recent tbody tr:nth-child(2)").id === "task-%s"`, failed)),
		chromedp.Focus(chromedp.CSS(fmt.Sprintf(`#task-%s a`, failed))),
		chromedp.Evaluate[chromedp.Void](`window.__focused = document.activeElement`))
	failing.Store(false)
	do(t, ctx, "retry it, and see its row move to the top", steps(
		chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`runAction("retry", %q)`, failed)),
		poll(fmt.Sprintf(`document.querySelector("#recent tbody tr").id === "task-%s" && text("task-%s").includes("SUCCESS")`, failed, failed)),
		refreshes(2))...)
	check(t, ctx, "the moved row's link still focused", `document.activeElement === window.__focused && window.__focused.isConnected`)

	// A click pressed before refreshes and released after them lands.
	type point struct{ X, Y float64 }
	p, err := chromedp.Run(ctx, chromedp.Evaluate[point](`(() => { const a = `+rowLink(3)+`; a.scrollIntoView({block: "center"}); window.__target = a.title; const r = a.getBoundingClientRect(); return {X: r.x + r.width / 2, Y: r.y + r.height / 2}; })()`))
	if err != nil {
		t.Fatal(err)
	}
	do(t, ctx, "press, wait two refreshes, release", steps(
		chromedp.MouseEvent(chromedp.MousePressed, p.X, p.Y, chromedp.ButtonLeft, chromedp.ClickCount(1)),
		refreshes(2),
		chromedp.MouseEvent(chromedp.MouseReleased, p.X, p.Y, chromedp.ButtonLeft, chromedp.ClickCount(1)),
		poll(`location.hash === "#" + window.__target && text("inspect-json").includes(window.__target)`))...)
}

// TestConsoleInspectorNavigation: a task link sets the address's #id and
// takes the operator to the inspector (scrolled into view, its result
// focused); a #id changed by hand is inspected too; after a retry from the
// inspector the focus is on its result, not lost with the button; and an
// id of spaces is asked for, not sent.
func TestConsoleInspectorNavigation(t *testing.T) {
	t.Parallel()
	ctx := browser(t)
	base, sys := startLocal(t)
	var failing atomic.Bool
	failing.Store(true)
	sys.Poller.Handler = (&worker.Handler{Processor: &task.Processor{
		Store: sys.Store, MaxReceiveCount: 2,
		Check: func(ctx context.Context, n task.Number) (bool, error) {
			if n == "4242" && failing.Load() {
				return false, errors.New("injected by the test: the checker is broken")
			}
			return task.CheckPrime(ctx, n)
		},
	}}).Handle
	watchPage(t, ctx, nil)
	ok := submit(t, base, "11")
	failed := submit(t, base, "4242")
	inView := `(() => { const r = document.getElementById("inspector").getBoundingClientRect(); return r.top >= 0 && r.top < window.innerHeight; })()`
	do(t, ctx, "load the console in a short window",
		chromedp.EmulateViewport(1280, 600),
		chromedp.Navigate(base+"/console/"),
		poll(fmt.Sprintf(`!!document.querySelector('#failures button.retry[data-task=%q]')`, failed)),
		poll(`!`+inView))

	do(t, ctx, "click a task link",
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`#task-%s a`, ok))),
		poll(fmt.Sprintf(`location.hash === "#%s"`, ok)),
		poll(fmt.Sprintf(`text("inspect-json").includes(%q) && text("inspect-json").includes("SUCCESS")`, ok)),
		poll(inView+` && document.activeElement === document.getElementById("inspect-json")`))

	do(t, ctx, "change the address's #id",
		chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, 0); document.activeElement.blur()`),
		poll(`!`+inView),
		chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`location.hash = %q`, failed)),
		poll(fmt.Sprintf(`text("inspect-json").includes(%q) && text("inspect-json").includes("FAILURE")`, failed)),
		poll(inView+` && document.activeElement === document.getElementById("inspect-json")`))

	failing.Store(false)
	do(t, ctx, "retry from the inspector",
		chromedp.Click(chromedp.ID("inspect-retry")),
		chromedp.WaitVisible(chromedp.ID("confirm")),
		chromedp.Click(chromedp.ID("confirm-ok")),
		poll(`text("notice").includes("PENDING again")`),
		poll(`document.getElementById("inspect-retry").hidden && document.activeElement === document.getElementById("inspect-json")`))

	do(t, ctx, "inspect an id of spaces",
		chromedp.Evaluate[chromedp.Void](`document.getElementById("inspect-id").value = "   "; document.getElementById("inspect-form").requestSubmit()`),
		poll(`text("inspect-json").startsWith("enter a task id") && document.getElementById("inspect-json").classList.contains("error")`))
}

// TestConsoleOffline takes the server away under an open page: a banner
// says so wherever the page is scrolled, the figures are dimmed, the
// actions are off, and an action confirmed meanwhile says the server is
// not reachable; all comes back when the server answers again.
func TestConsoleOffline(t *testing.T) {
	t.Parallel()
	ctx := browser(t)
	q := newDeadLetterFake()
	q.set("not a task")
	counters := console.NewCounters(nil)
	store := memory.NewStore()
	id := task.NewID()
	now := time.Now()
	counters.Observe(t.Context(), metrics.Event{Kind: metrics.Submitted, Task: task.Task{ID: id, Status: task.StatusPending, Number: "4242", CreatedAt: now}})
	counters.Observe(t.Context(), metrics.Event{Kind: metrics.Finished, Task: task.Task{ID: id, Status: task.StatusFailure, Error: "broken", FinishedAt: now}})
	c := console.New(console.Config{Backend: "memory", Store: store, Queue: q, Counters: counters, MaxReceiveCount: 2, Logger: slog.New(slog.DiscardHandler)})
	var down atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if down.Load() {
			if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
				conn.Close()
			}
			return
		}
		c.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	watchPage(t, ctx, func(m chromedp.ConsoleMessage) bool {
		return m.Source == "network" && strings.Contains(m.Text, "net::ERR_")
	})

	actionsOn := `!document.getElementById("btn-redrive").disabled && !document.getElementById("btn-purge").disabled && ` +
		`Array.from(document.querySelectorAll("#failures button.retry")).every((b) => !b.disabled)`
	actionsOff := `document.getElementById("btn-redrive").disabled && document.getElementById("btn-purge").disabled && ` +
		`document.querySelectorAll("#failures button.retry").length === 1 && document.querySelector("#failures button.retry").disabled`
	do(t, ctx, "load the console, and open the redrive's dialog",
		chromedp.EmulateViewport(1280, 600),
		chromedp.Navigate(srv.URL+"/console/"),
		poll(`text("live") === "live" && text("dlq-count") === "1" && document.querySelectorAll("#failures li").length === 1`),
		poll(actionsOn+` && document.getElementById("offline").hidden && getComputedStyle(document.querySelector(".cards")).opacity === "1"`),
		chromedp.Click(chromedp.ID("btn-redrive")),
		chromedp.WaitVisible(chromedp.ID("confirm")))

	down.Store(true)
	do(t, ctx, "see the page offline, wherever it is scrolled",
		poll(`!document.getElementById("offline").hidden && text("offline-text").includes("not reachable")`),
		poll(actionsOff),
		poll(`Number(getComputedStyle(document.querySelector(".cards")).opacity) < 1`),
		chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, document.body.scrollHeight)`),
		poll(`window.scrollY > 0 && (() => { const r = document.getElementById("offline").getBoundingClientRect(); return r.top >= 0 && r.bottom <= window.innerHeight; })()`))
	do(t, ctx, "confirm the redrive with the server away",
		chromedp.Click(chromedp.ID("confirm-ok")),
		poll(`document.getElementById("notice").className === "error" && text("notice-text").includes("not reachable")`))
	check(t, ctx, "no raw fetch error", `!text("notice-text").includes("Failed to fetch")`)

	down.Store(false)
	do(t, ctx, "see the page live again",
		chromedp.Click(chromedp.ID("offline-retry")),
		poll(`text("live") === "live" && document.getElementById("offline").hidden && !document.body.classList.contains("offline")`),
		poll(actionsOn))
}

// contrast is a page function: the WCAG contrast ratio of two CSS colours
// given as rgb() or rgba() (an alpha of 0 is white, the page's panels).
const contrast = `((a, b) => {
	const lum = (c) => {
		const v = c.match(/[\d.]+/g).map(Number);
		if (v.length === 4 && v[3] === 0) return 1;
		return v.slice(0, 3).map((x) => { x /= 255; return x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4; })
			.reduce((s, x, i) => s + x * [0.2126, 0.7152, 0.0722][i], 0);
	};
	const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x);
	return (hi + 0.05) / (lo + 0.05);
})`

// TestConsoleLooks checks what the audit measured: the state badges and
// the buttons' borders meet WCAG AA's contrast; "failed" is red only above
// 0; the chart's peak says idle when nothing ran, and draws submissions
// over completions, dashed; the empty table's hint names this server; the
// live status is a polite live region; the dead-letter heading names only
// itself; and a notice is shown before its text is written.
func TestConsoleLooks(t *testing.T) {
	t.Parallel()
	ctx := browser(t)
	counters := console.NewCounters(nil)
	c := console.New(console.Config{Backend: "memory", Store: memory.NewStore(), Queue: newDeadLetterFake(), Counters: counters, Logger: slog.New(slog.DiscardHandler)})
	srv := httptest.NewServer(c)
	t.Cleanup(srv.Close)
	watchPage(t, ctx, nil)

	do(t, ctx, "load the console, with nothing done",
		chromedp.Navigate(srv.URL+"/console/"),
		poll(`text("live") === "live"`),
		poll(`text("chart-max") === "idle"`),
		poll(`text("submit-hint").startsWith("curl -X POST " + location.origin + "/ ")`),
		poll(`!document.getElementById("failed-total").classList.contains("bad") && getComputedStyle(document.getElementById("total-failed")).color === getComputedStyle(document.body).color`),
		poll(`document.getElementById("live").getAttribute("aria-live") === "polite"`),
		poll(`Array.from(document.querySelectorAll("h2")).some((h) => h.textContent.trim() === "Dead-letter queue")`),
		poll(`!document.querySelector("h2 button")`))
	check(t, ctx, "a notice shown before its text", `(() => { notice("hello", false); return !document.getElementById("notice").hidden && text("notice-text") === ""; })()`)
	do(t, ctx, "see the notice's text", poll(`text("notice-text") === "hello"`))

	ctxB := t.Context()
	now := time.Now()
	for _, s := range []task.Status{task.StatusPending, task.StatusStarted, task.StatusSuccess, task.StatusFailure, task.StatusRevoked} {
		id := task.NewID()
		counters.Observe(ctxB, metrics.Event{Kind: metrics.Submitted, Task: task.Task{ID: id, Status: task.StatusPending, Number: "11", CreatedAt: now}})
		switch s {
		case task.StatusStarted:
			counters.Observe(ctxB, metrics.Event{Kind: metrics.Started, Task: task.Task{ID: id, Status: s, Number: "11", Attempts: 1, CreatedAt: now}})
		case task.StatusSuccess, task.StatusFailure:
			counters.Observe(ctxB, metrics.Event{Kind: metrics.Finished, Task: task.Task{ID: id, Status: s, IsPrime: true, Error: "broken", FinishedAt: now}})
		case task.StatusRevoked:
			counters.Observe(ctxB, metrics.Event{Kind: metrics.Revoked, Task: task.Task{ID: id, Status: s}})
		}
	}
	do(t, ctx, "see a task in each state",
		poll(`document.querySelectorAll("#recent .state").length === 5 && text("total-failed") === "1"`),
		poll(`text("chart-max").startsWith("peak ")`))
	badges := `Array.from(document.querySelectorAll("#recent .state")).map((b) => { const s = getComputedStyle(b); return [b.textContent, ` + contrast + `(s.color, s.backgroundColor)]; })`
	got, err := chromedp.Run(ctx, chromedp.Evaluate[[][2]any](badges))
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range got {
		if r, _ := b[1].(float64); r < 4.5 {
			t.Errorf("the %v badge's contrast is %.2f:1; want 4.5:1 at least", b[0], r)
		}
	}
	borders := `Array.from(document.querySelectorAll("button")).filter((b) => getComputedStyle(b).borderTopColor !== "rgba(0, 0, 0, 0)" && !b.classList.contains("primary"))` +
		`.map((b) => [b.id || b.textContent, ` + contrast + `(getComputedStyle(b).borderTopColor, "rgb(255, 255, 255)")])`
	got, err = chromedp.Run(ctx, chromedp.Evaluate[[][2]any](borders))
	if err != nil || len(got) == 0 {
		t.Fatalf("buttons' borders: %v, %v", got, err)
	}
	for _, b := range got {
		if r, _ := b[1].(float64); r < 3 {
			t.Errorf("button %v's border contrast is %.2f:1 on white; want 3:1 at least", b[0], r)
		}
	}
	check(t, ctx, "failed red above 0", `document.getElementById("failed-total").classList.contains("bad") && getComputedStyle(document.getElementById("total-failed")).color !== getComputedStyle(document.body).color`)
	check(t, ctx, "submissions drawn over completions, dashed",
		`(() => { const p = Array.from(document.querySelectorAll("#chart path")); return p.length === 2 && p[0].getAttribute("class") === "completed" && p[1].getAttribute("class") === "submitted" && !!p[1].getAttribute("stroke-dasharray"); })()`)
}
