package console_test

import (
	"context"
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
	"github.com/asyncprime/asyncprime/internal/testkit"
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
// each refresh: Tab goes from one row to the next, each focus outliving
// refreshes; while the focus is in the list it holds still: rows that come
// meanwhile wait, counted by a button, and the rows shown are updated
// where they are (a task retried turns SUCCESS in its place); the button
// shows the rows waiting, the focus on the newest; and the list catches
// up by itself once the focus has left it.
func TestConsoleKeepsFocus(t *testing.T) {
	t.Parallel()
	ctx := browser(t)
	base, sys := startLocal(t)
	failing := breakChecker(sys)
	watchPage(t, ctx, nil)
	// The failed task is the oldest: its row is the last (a row moves to
	// the top at each change of its task).
	failed := submit(t, base, "4242")
	testkit.Eventually(t, 2*time.Minute, func() bool { return status(t, base, failed) == task.StatusFailure }, "task 4242 FAILURE")
	for _, n := range []string{"11", "12", "13"} {
		submit(t, base, n)
	}
	do(t, ctx, "load the console",
		chromedp.Navigate(base+"/console/"),
		poll(`document.querySelectorAll("#recent tbody tr").length === 4 && text("total-succeeded") === "3" && text("total-failed") === "1"`),
		poll(fmt.Sprintf(`document.querySelector("#recent tbody tr:last-child").id === "task-%s"`, failed)),
		countStats)

	// Tab from row to row, each focus outliving two refreshes.
	rowLink := func(i int) string {
		return fmt.Sprintf(`document.querySelector("#recent tbody tr:nth-child(%d) a")`, i)
	}
	do(t, ctx, "focus the first row's link", chromedp.Focus(chromedp.CSS("#recent tbody tr:first-child a")))
	for i := 1; i <= 4; i++ {
		if i > 1 {
			do(t, ctx, "press Tab", chromedp.KeyEvent(kb.Tab))
		}
		do(t, ctx, "wait two refreshes", steps(poll(`document.activeElement === `+rowLink(i)), refreshes(2))...)
		check(t, ctx, fmt.Sprintf("row %d's link focused after two refreshes", i), `document.activeElement === `+rowLink(i))
	}

	// Rows that come while the focus is in the list wait, counted; the
	// focused row stays where it is.
	do(t, ctx, "keep the focused link", chromedp.Evaluate[chromedp.Void](`window.__focused = document.activeElement`))
	for _, n := range []string{"17", "19"} {
		submit(t, base, n)
	}
	do(t, ctx, "see two rows wait", steps(
		poll(`text("total-submitted") === "6" && !document.getElementById("recent-held").hidden && text("recent-held").startsWith("2 new")`),
		refreshes(2))...)
	check(t, ctx, "the list held, its focused link still focused in the last row",
		`document.querySelectorAll("#recent tbody tr").length === 4 && document.activeElement === window.__focused && `+
			`window.__focused.closest("tr") === document.querySelector("#recent tbody tr:last-child") && text("recent-held-live").includes("2 new")`)

	// The focused row's task is retried: it turns SUCCESS where it is
	// (unheld, its row would move to the top).
	failing.Store(false)
	do(t, ctx, "retry the focused row's task, and see it succeed in its place", steps(
		chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`runAction("retry", %q)`, failed)),
		poll(fmt.Sprintf(`text("task-%s").includes("SUCCESS") && text("total-retried") === "1"`, failed)),
		refreshes(2))...)
	check(t, ctx, "the retried row still last, its link still focused",
		fmt.Sprintf(`document.querySelector("#recent tbody tr:last-child").id === "task-%s" && document.activeElement === window.__focused`, failed))

	// The button shows the rows waiting: the focus goes to the newest.
	newest := submit(t, base, "23")
	do(t, ctx, "show the rows waiting, with the keyboard",
		poll(`text("total-submitted") === "7" && text("recent-held").startsWith("3 new")`),
		chromedp.Focus(chromedp.ID("recent-held")),
		chromedp.KeyEvent(kb.Enter),
		poll(fmt.Sprintf(`document.querySelectorAll("#recent tbody tr").length === 7 && document.activeElement === %s && %s.closest("tr").id === "task-%s"`, rowLink(1), rowLink(1), newest)),
		poll(`document.getElementById("recent-held").hidden && text("recent-held-live") === ""`))

	// The focus gone, the list catches up by itself.
	last := submit(t, base, "29")
	do(t, ctx, "see a row wait, then come in once the focus leaves",
		poll(`text("total-submitted") === "8" && text("recent-held").startsWith("1 new")`),
		chromedp.Focus(chromedp.ID("inspect-id")),
		poll(fmt.Sprintf(`document.querySelector("#recent tbody tr").id === "task-%s" && document.getElementById("recent-held").hidden`, last)))
}

// TestConsoleInspectorNavigation: a task link sets the address's #id and
// takes the operator to the inspector (scrolled into view, its result
// focused); a #id changed by hand is inspected too; the inspector's retry
// acts on the task shown, not on another id typed in the box meanwhile;
// after a retry from the inspector the focus is on its result, not lost
// with the button; and an id of spaces is asked for, not sent.
func TestConsoleInspectorNavigation(t *testing.T) {
	t.Parallel()
	ctx := browser(t)
	base, sys := startLocal(t)
	failing := breakChecker(sys)
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
	do(t, ctx, "type another id, and retry from the inspector",
		chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.getElementById("inspect-id").value = %q`, ok)),
		chromedp.Click(chromedp.ID("inspect-retry")),
		chromedp.WaitVisible(chromedp.ID("confirm")),
		poll(fmt.Sprintf(`text("confirm-text").includes(%q) && !text("confirm-text").includes(%q)`, failed, ok)),
		chromedp.Click(chromedp.ID("confirm-ok")),
		poll(`text("notice").includes("PENDING again")`),
		poll(fmt.Sprintf(`text("inspect-json").includes(%q) && document.getElementById("inspect-id").value === %q`, failed, ok)),
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
	if err := store.Create(t.Context(), task.Task{ID: id, Status: task.StatusFailure, Number: "4242", Error: "broken", CreatedAt: now, FinishedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
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
		poll(`Number(getComputedStyle(document.querySelector(".cards")).opacity) < 1 && Number(getComputedStyle(document.querySelector("header .since")).opacity) < 1`),
		chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, document.body.scrollHeight)`),
		poll(`window.scrollY > 0 && (() => { const r = document.getElementById("offline").getBoundingClientRect(); return r.top >= 0 && r.bottom <= window.innerHeight; })()`))
	do(t, ctx, "confirm the redrive with the server away",
		chromedp.Click(chromedp.ID("confirm-ok")),
		poll(`document.getElementById("notice").className === "error" && text("notice-text").includes("not reachable")`))
	do(t, ctx, "inspect a task with the server away",
		chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.getElementById("inspect-id").value = %q; document.getElementById("inspect-form").requestSubmit()`, id)),
		poll(`text("inspect-json").includes("not reachable") && document.getElementById("inspect-json").classList.contains("error")`))
	check(t, ctx, "no raw fetch error", `!text("notice-text").includes("Failed to fetch")`)

	down.Store(false)
	do(t, ctx, "see the page live again",
		chromedp.Click(chromedp.ID("offline-retry")),
		poll(`text("live") === "live" && document.getElementById("offline").hidden && !document.body.classList.contains("offline")`),
		// The banner gone with its button, the focus is on the status.
		poll(`document.activeElement === document.getElementById("live")`),
		poll(actionsOn),
		// The inspector's error goes: the task is read again.
		poll(fmt.Sprintf(`text("inspect-json").includes(%q) && text("inspect-json").includes("FAILURE") && !document.getElementById("inspect-json").classList.contains("error")`, id)))
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
		// The status is named for what it says, not for a tooltip.
		poll(`document.getElementById("live").getAttribute("aria-label") === "connection" && !document.getElementById("live").hasAttribute("title")`),
		// The chart's heading names only itself, not its legend.
		poll(`Array.from(document.querySelectorAll("h2")).some((h) => h.textContent.trim() === "Per second, last 5 minutes") && !document.querySelector("h2 .legend")`),
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
	// A number not prime, 1, reads so (not "composite").
	one := task.NewID()
	counters.Observe(ctxB, metrics.Event{Kind: metrics.Submitted, Task: task.Task{ID: one, Status: task.StatusPending, Number: "1", CreatedAt: now}})
	counters.Observe(ctxB, metrics.Event{Kind: metrics.Finished, Task: task.Task{ID: one, Status: task.StatusSuccess, IsPrime: false, FinishedAt: now}})
	do(t, ctx, "see a task in each state",
		poll(`document.querySelectorAll("#recent .state").length === 6 && text("total-failed") === "1"`),
		poll(fmt.Sprintf(`text("task-%s").endsWith("SUCCESS not prime") || text("task-%s").includes("SUCCESS not prime")`, one, one)),
		poll(`!document.body.textContent.includes("composite")`),
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
