package console_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/asyncprime/asyncprime/internal/task"
	"github.com/asyncprime/asyncprime/internal/worker"
)

// startFailing runs the local system with a checker that fails every
// number starting 4242.
func startFailing(t *testing.T) string {
	t.Helper()
	base, sys := startLocal(t)
	sys.Poller.Handler = (&worker.Handler{Processor: &task.Processor{
		Store: sys.Store, MaxReceiveCount: 2,
		Check: func(ctx context.Context, n task.Number) (bool, error) {
			if strings.HasPrefix(string(n), "4242") {
				return false, errors.New("injected by the test: the checker is broken")
			}
			return task.CheckPrime(ctx, n)
		},
	}}).Handle
	return base
}

type point struct{ X, Y float64 }

// aim scrolls the element of selector to the middle of the window, keeps
// it as window.__target, and gives its centre.
func aim(t *testing.T, ctx context.Context, selector string) point {
	t.Helper()
	p, err := chromedp.Run(ctx, chromedp.Evaluate[point](fmt.Sprintf(`(() => {
		const e = document.querySelector(%q);
		e.scrollIntoView({block: "center"});
		window.__target = e;
		const r = e.getBoundingClientRect();
		window.__targetY = r.y;
		return {X: r.x + r.width / 2, Y: r.y + r.height / 2};
	})()`, selector)))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// notMoved fails t if window.__target (see aim) has moved or gone.
func notMoved(t *testing.T, ctx context.Context, what string) {
	t.Helper()
	moved, err := chromedp.Run(ctx, chromedp.Evaluate[[]any](`[window.__target.isConnected, window.__targetY, window.__target.getBoundingClientRect().y]`))
	if err != nil || moved[0] != true || moved[1] != moved[2] {
		t.Fatalf("%s: [connected, y at the press, y now] = %v, %v; want it in place", what, moved, err)
	}
}

// TestConsoleSlowClicks: a click held for 1.1 s while tasks come in lands
// on what it was aimed at, in the recent tasks and in the failures: the
// list under the pointer holds still, the rows that came meanwhile
// counted by its button.
func TestConsoleSlowClicks(t *testing.T) {
	t.Parallel()
	ctx := browser(t)
	base := startFailing(t)
	watchPage(t, ctx, nil)
	for _, n := range []string{"424201", "424202", "424203", "11", "12", "13"} {
		submit(t, base, n)
	}
	do(t, ctx, "load the console",
		chromedp.Navigate(base+"/console/"),
		poll(`document.querySelectorAll("#recent tbody tr").length === 6 && document.querySelectorAll("#failures li").length === 3`))

	// A press on the third row's link, held while three tasks come in
	// (one of them a failure), then released.
	p := aim(t, ctx, "#recent tbody tr:nth-child(3) a")
	do(t, ctx, "press a task link, hold it while tasks come in, release it", steps(
		chromedp.MouseEvent(chromedp.MouseMoved, p.X, p.Y),
		chromedp.MouseEvent(chromedp.MousePressed, p.X, p.Y, chromedp.ButtonLeft, chromedp.ClickCount(1)),
		chromedp.Evaluate[chromedp.Void](`window.__pressed = window.__target.title`),
	)...)
	for _, n := range []string{"17", "19", "424204"} {
		submit(t, base, n)
	}
	do(t, ctx, "see them wait, held 1.1 s", steps(
		poll(`text("total-submitted") === "9" && text("recent-held").startsWith("3 new")`),
		after(1100),
	)...)
	notMoved(t, ctx, "the link pressed")
	do(t, ctx, "release, and see the task inspected",
		chromedp.MouseEvent(chromedp.MouseReleased, p.X, p.Y, chromedp.ButtonLeft, chromedp.ClickCount(1)),
		poll(`location.hash === "#" + window.__pressed && text("inspect-json").includes(window.__pressed)`),
		chromedp.MouseEvent(chromedp.MouseMoved, 1, 1)) // off the lists

	// A press on the second failure's Retry, held while two failures come
	// in, then released: the dialog names the task pressed.
	do(t, ctx, "see the new failure listed, and the recent tasks caught up",
		poll(`document.querySelectorAll("#failures li").length === 4 && document.querySelectorAll("#recent tbody tr").length === 9`))
	p = aim(t, ctx, "#failures li:nth-child(2) button.retry")
	do(t, ctx, "press a Retry, hold it while failures come in", steps(
		chromedp.MouseEvent(chromedp.MouseMoved, p.X, p.Y),
		chromedp.MouseEvent(chromedp.MousePressed, p.X, p.Y, chromedp.ButtonLeft, chromedp.ClickCount(1)),
		chromedp.Evaluate[chromedp.Void](`window.__pressed = window.__target.dataset.task`),
	)...)
	for _, n := range []string{"424205", "424206"} {
		submit(t, base, n)
	}
	do(t, ctx, "see them wait, held 1.1 s", steps(
		poll(`text("total-failed") === "6" && text("failures-held").startsWith("2 new")`),
		after(1100),
	)...)
	notMoved(t, ctx, "the Retry pressed")
	do(t, ctx, "release, and see the retry of the task pressed asked",
		chromedp.MouseEvent(chromedp.MouseReleased, p.X, p.Y, chromedp.ButtonLeft, chromedp.ClickCount(1)),
		chromedp.WaitVisible(chromedp.ID("confirm")),
		poll(`text("confirm-text").includes(window.__pressed)`),
		chromedp.Click(chromedp.ID("confirm-cancel")),
		// The focus back on the Retry pressed; the focus and the pointer
		// gone from the list, it catches up.
		poll(`document.activeElement === window.__target`),
		chromedp.Focus(chromedp.ID("inspect-id")),
		chromedp.MouseEvent(chromedp.MouseMoved, 1, 1),
		poll(`document.querySelectorAll("#failures li").length === 6 && document.getElementById("failures-held").hidden`))
}

// TestConsoleTabUnderArrivals: Tab goes down the recent tasks row by row
// while tasks keep coming, more than the list holds: the focus never jumps
// back nor drops, every row tabbed to is the one below the last; the list
// shows what waits, and Shift+Tab reaches the button that shows it.
func TestConsoleTabUnderArrivals(t *testing.T) {
	t.Parallel()
	ctx := browser(t)
	base := startFailing(t)
	watchPage(t, ctx, nil)
	const rows = 20 // the list's length
	for i := range rows {
		submit(t, base, strconv.Itoa(100+i))
	}
	do(t, ctx, "load the console",
		chromedp.Navigate(base+"/console/"),
		poll(fmt.Sprintf(`document.querySelectorAll("#recent tbody tr").length === %d && text("total-succeeded") === "%d"`, rows, rows)),
		chromedp.Evaluate[chromedp.Void](`window.__rows = Array.from(document.querySelectorAll("#recent tbody tr a"))`),
		chromedp.Focus(chromedp.CSS("#recent tbody tr:first-child a")))

	// Four tasks a step, six steps: all the rows first listed have left
	// the server's list by the end.
	submitted := rows
	for i := 1; i <= 6; i++ {
		for range 4 {
			submitted++
			submit(t, base, strconv.Itoa(100+submitted))
		}
		do(t, ctx, "see the tasks come", poll(fmt.Sprintf(`text("total-submitted") === "%d"`, submitted)))
		do(t, ctx, fmt.Sprintf("press Tab, and land on row %d", i+1),
			chromedp.KeyEvent(kb.Tab),
			poll(fmt.Sprintf(`document.activeElement === window.__rows[%d] && window.__rows[%d].isConnected`, i, i)))
	}
	check(t, ctx, "the list held, counting the tasks waiting",
		fmt.Sprintf(`Array.from(document.querySelectorAll("#recent tbody tr a")).every((a, i) => a === window.__rows[i]) && text("recent-held").startsWith("%d new") && text("recent-held-live") !== ""`, rows))

	// Every task done, the server's list stands still. Back to the first
	// row, then Shift+Tab to the button: Enter shows that list, the focus
	// on its first row. (The list is in the order the tasks last changed:
	// two workers finish the tasks of a step in either order.)
	do(t, ctx, "see every task done", poll(fmt.Sprintf(`text("total-succeeded") === "%d"`, submitted)))
	want, err := json.Marshal(recentIDs(t, base))
	if err != nil {
		t.Fatal(err)
	}
	do(t, ctx, "show the tasks waiting",
		chromedp.Focus(chromedp.CSS("#recent tbody tr:first-child a")),
		chromedp.KeyEvent(kb.Tab, chromedp.KeyModifiers(chromedp.ModifierShift)),
		poll(`document.activeElement === document.getElementById("recent-held")`),
		chromedp.KeyEvent(kb.Enter),
		poll(fmt.Sprintf(`document.activeElement === document.querySelector("#recent tbody tr:first-child a") && text("recent-held") === "0 new \u2014 show" && JSON.stringify(Array.from(document.querySelectorAll("#recent tbody tr")).map((tr) => tr.dataset.task)) === %q`, want)))
}

// recentIDs gives the ids of the recent tasks the server lists, in order.
func recentIDs(t *testing.T, base string) []string {
	t.Helper()
	resp, err := http.Get(base + "/console/api/stats")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var s struct {
		SinceStart struct {
			Recent []struct {
				TaskID string `json:"task_id"`
			} `json:"recent"`
		} `json:"since_start"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil || resp.StatusCode != http.StatusOK || len(s.SinceStart.Recent) == 0 {
		t.Fatalf("GET /console/api/stats = %d, %v, %d recent tasks; want 200 and a list", resp.StatusCode, err, len(s.SinceStart.Recent))
	}
	ids := make([]string, len(s.SinceStart.Recent))
	for i, r := range s.SinceStart.Recent {
		ids[i] = r.TaskID
	}
	return ids
}
