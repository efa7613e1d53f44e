package console_test

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/asyncprime/asyncprime/internal/awstest"
	"github.com/asyncprime/asyncprime/internal/local"
	"github.com/asyncprime/asyncprime/internal/task"
	"github.com/asyncprime/asyncprime/internal/worker"
)

var screenshot = flag.String("screenshot", "", "write a PNG of the console, with dead letters and a failure, to this file")

// browserFlags are Chromium's flags for a headless run on a machine with
// no display, no GPU and no network but loopback.
func browserFlags(t *testing.T, path string) []chromedp.ExecAllocatorOption {
	return []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1360, 1180),
	}
}

// browser starts headless Chromium, or skips the test when there is none,
// or fails it when EMULATOR_REQUIRED=1 (CI, make test): a browser that
// cannot start is then a failure, never a skip.
func browser(t *testing.T) context.Context {
	t.Helper()
	path := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			path = p
			break
		}
	}
	if path == "" {
		awstest.Unavailable(t, errors.New("no chromium on PATH; run make tools (it installs Debian's chromium)"))
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), browserFlags(t, path)...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start %s: %v", path, err)
	}
	return ctx
}

// TestConsoleInBrowser drives the console in headless Chromium against the
// whole local system on the embedded (bolt) backend: the page loads, its
// counts move as tasks are submitted, a poison message appears among the
// dead letters, retry re-runs a FAILURE task, and redrive moves the dead
// letters back to the task queue.
func TestConsoleInBrowser(t *testing.T) {
	t.Parallel()
	ctx := browser(t)
	base, sys := startLocal(t)
	failing := breakChecker(sys)
	// Nothing goes wrong in the page but the retry refused at the end.
	watchPage(t, ctx, refused("/console/api/actions/retry"))

	// The page loads, and is live.
	do(t, ctx, "load the console",
		chromedp.Navigate(base+"/console/"),
		chromedp.WaitVisible(chromedp.ID("queue-visible")),
		poll(`document.getElementById("live").textContent === "live"`))

	// Counts move as tasks are submitted.
	for _, n := range []string{"11", "12", "2305843009213693951"} {
		submit(t, base, n)
	}
	do(t, ctx, "see three tasks succeed",
		poll(`text("total-submitted") === "3" && text("total-succeeded") === "3"`),
		poll(`document.querySelectorAll("#recent tbody tr").length === 3`),
		// Each row's link tells its task apart (time-ordered ids share
		// their first characters).
		poll(`new Set(Array.from(document.querySelectorAll("#recent tbody tr a")).map((a) => a.textContent)).size === 3`))

	// A task whose check keeps failing ends FAILURE, listed with its error;
	// its message, and a poison message, end up in the dead letters.
	failed := submit(t, base, "4242")
	if _, err := sys.Queue.Send(t.Context(), "not a task"); err != nil {
		t.Fatal(err)
	}
	do(t, ctx, "see the failure and the poison message",
		poll(fmt.Sprintf(`!!document.querySelector('#failures button.retry[data-task=%q]')`, failed)),
		poll(`text("total-failed") === "1"`),
		poll(`text("dlq-count") === "2"`),
		poll(deadLetter("not a task")),
		poll(deadLetter(task.MessageFor(task.Task{ID: failed, Number: "4242"}))))

	if *screenshot != "" {
		do(t, ctx, "inspect the failed task", chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`inspect(%q)`, failed)),
			poll(`document.getElementById("inspect-json").textContent.includes("FAILURE")`))
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot: %v", err)
		}
		if err := os.WriteFile(*screenshot, png, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// Retry re-runs the FAILURE task under its id: it ends SUCCESS.
	failing.Store(false)
	do(t, ctx, "retry the failed task",
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`#failures button.retry[data-task=%q]`, failed))),
		chromedp.WaitVisible(chromedp.ID("confirm")),
		chromedp.Click(chromedp.ID("confirm-ok")),
		poll(`text("notice").includes("PENDING again")`),
		poll(`text("total-retried") === "1"`),
		// The failure retried leaves the failures: no Retry of a task
		// that is PENDING again.
		poll(fmt.Sprintf(`!document.querySelector('#failures button.retry[data-task=%q]')`, failed)),
		poll(fmt.Sprintf(`(document.getElementById("task-%s") || {textContent: ""}).textContent.includes("SUCCESS")`, failed)))
	if got := status(t, base, failed); got != task.StatusSuccess {
		t.Errorf("retried task is %s; want SUCCESS", got)
	}

	// Redrive moves both dead letters back: the old message of the retried
	// task is then delivered (and dropped, its task being final), the
	// poison one fails again and comes back alone.
	do(t, ctx, "redrive the dead letters",
		chromedp.Click(chromedp.ID("btn-redrive")),
		chromedp.WaitVisible(chromedp.ID("confirm")),
		chromedp.Click(chromedp.ID("confirm-ok")),
		poll(`text("notice").includes("moved 2 dead letters back to the task queue")`),
		poll(`text("dlq-count") === "1" && document.querySelectorAll("#dead-letters li").length === 1 && `+deadLetter("not a task")))

	// An action refused is reported back: the retried task is no longer
	// FAILURE.
	do(t, ctx, "inspect and see retry refused",
		chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`runAction("retry", %q)`, failed)),
		poll(`document.getElementById("notice").className === "error" && text("notice").includes("only a FAILURE task can be retried")`))
}

// deadLetter is true when the dead letters list a message with this body.
func deadLetter(body string) string {
	b, _ := json.Marshal(body)
	return `Array.from(document.querySelectorAll("#dead-letters li")).some((li) => li.dataset.body === ` + string(b) + `)`
}

func do(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		state, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("main") ? document.querySelector("main").innerText.slice(0, 2000) : ""`))
		t.Fatalf("%s: %v\npage:\n%s", what, err, state)
	}
}

// poll waits until expression is true in the page; text(id) is the text of
// the element with that id. The timeout is generous: a loaded machine is
// slow, never wrong.
//
// Right after a navigation chromedp may still name the old document's
// execution context, which Chromium no longer knows ("Cannot find context
// with specified id"); the poll then starts again, in the new one.
func poll(expression string) chromedp.Action[chromedp.Void] {
	p := chromedp.Poll[chromedp.Void](withText(expression), chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(2*time.Minute))
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		for try := 0; ; try++ {
			v, err := p(ctx, t)
			if err == nil || try == 100 || !strings.Contains(err.Error(), "Cannot find context with specified id") {
				return v, err
			}
			select {
			case <-ctx.Done():
				return v, err
			case <-time.After(10 * time.Millisecond): // for chromedp to see the new context
			}
		}
	}
}

// withText gives expression text(id), the trimmed text of the element
// with that id ("" if none).
func withText(expression string) string {
	return `((text) => ` + expression + `)((id) => (document.getElementById(id) || {textContent: ""}).textContent.trim())`
}

// breakChecker makes sys's worker fail the check of 4242, as a broken
// checker would, while the flag it returns is set; it starts set.
func breakChecker(sys *local.System) *atomic.Bool {
	var failing atomic.Bool
	failing.Store(true)
	sys.Poller.Handler = (&worker.Handler{Processor: &task.Processor{
		Store: sys.Store, MaxReceiveCount: 2, // startLocal's
		Check: func(ctx context.Context, n task.Number) (bool, error) {
			if n == "4242" && failing.Load() {
				return false, errors.New("injected by the test: the checker is broken")
			}
			return task.CheckPrime(ctx, n)
		},
	}}).Handle
	return &failing
}

// startLocal runs the local system, as make run does, on a bolt file of
// its own, with a one-second visibility timeout and two deliveries before
// the dead-letter queue.
func startLocal(t *testing.T) (string, *local.System) {
	t.Helper()
	cfg := local.Config{
		Backend: "bolt", DataDir: filepath.Join(t.TempDir(), "data"), Workers: 2, BatchSize: 10,
		VisibilityTimeout: time.Second, MaxReceiveCount: 2, WorkerTimeout: 10 * time.Second, Retention: time.Hour,
	}
	log := slog.New(slog.DiscardHandler)
	b, err := local.OpenBackend(t.Context(), cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	sys := local.NewSystem(cfg, &local.Backend{Store: b.Store, Queue: b.Queue}, log)
	ctx, cancel := context.WithCancel(context.Background())
	addr := make(chan net.Addr, 1)
	served := make(chan error, 1)
	go func() { served <- sys.Serve(ctx, "127.0.0.1:0", log, func(a net.Addr) { addr <- a }) }()
	t.Cleanup(func() {
		cancel()
		if err := <-served; err != nil {
			t.Errorf("Serve = %v", err)
		}
		b.Close()
	})
	select {
	case a := <-addr:
		return "http://" + a.String(), sys
	case err := <-served:
		t.Fatalf("Serve = %v", err)
	}
	return "", nil
}

func submit(t *testing.T, base, n string) string {
	t.Helper()
	resp, err := http.Post(base+"/", "application/json", strings.NewReader(`{"number": `+strconv.Quote(n)+`}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r struct {
		TaskID string `json:"task_id"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("submit %s = %d, %v; want 202", n, resp.StatusCode, err)
	}
	return r.TaskID
}

func status(t *testing.T, base, id string) task.Status {
	t.Helper()
	resp, err := http.Get(base + "/" + id)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r struct {
		Status task.Status `json:"status"`
	}
	json.NewDecoder(resp.Body).Decode(&r)
	return r.Status
}
