package bolt_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"go.etcd.io/bbolt"

	"github.com/asyncprime/asyncprime/internal/bolt"
	"github.com/asyncprime/asyncprime/internal/task"
)

// helperEnv names the database file the helper process writes to.
const helperEnv = "BOLT_CRASH_HELPER_DB"

// The helper's visibility timeout is long: messages in flight at the crash
// would stay invisible that long if the reopened DB did not make them
// visible at once.
const (
	helperVisibility = 30 * time.Second
	reopenVisibility = time.Second
	killAfter        = 400 // accepted tasks read before the kill
)

// TestHelperProcess is the process TestCrashRecovery kills. It submits tasks
// from several goroutines, printing "task <id> <number>" once Submit (record
// and message in one commit, the store's outbox) returned nil, while a
// worker receives messages and starts every other task, never finishing one.
func TestHelperProcess(t *testing.T) {
	path := os.Getenv(helperEnv)
	if path == "" {
		t.Skip("run by TestCrashRecovery")
	}
	db, err := bolt.Open(path, bolt.Options{VisibilityTimeout: helperVisibility, MaxReceiveCount: 5, Logger: discard})
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		os.Exit(2)
	}
	// Never outlive a parent that failed to kill us.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	go func() {
		for ctx.Err() == nil {
			msgs, err := db.Queue().Receive(ctx, 10, 100*time.Millisecond)
			if err != nil {
				continue
			}
			for i, m := range msgs {
				msg, err := task.DecodeMessage(m.Body)
				if err != nil || i%2 == 1 {
					continue
				}
				// Start is committed after the receive's bookkeeping,
				// which the committer took first.
				if _, err := db.Store().Start(ctx, msg.TaskID, time.Now()); err != nil {
					fmt.Fprintln(os.Stderr, "helper: start:", err)
					os.Exit(2)
				}
			}
		}
	}()
	s := &task.Submitter{Store: db.Store(), Queue: db.Queue(), Logger: discard}
	var out sync.Mutex
	var wg sync.WaitGroup
	const submitters = 8
	for g := range submitters {
		wg.Go(func() {
			for i := g; ctx.Err() == nil; i += submitters {
				n := task.Number(strconv.Itoa(1_000_000 + i))
				tk, err := s.Submit(ctx, n)
				if err != nil {
					fmt.Fprintln(os.Stderr, "helper: submit:", err)
					os.Exit(2)
				}
				// One write per line, so that a line is whole or absent.
				line := "task " + tk.ID + " " + string(n) + "\n"
				out.Lock()
				os.Stdout.WriteString(line)
				out.Unlock()
			}
		})
	}
	wg.Wait()
	os.Exit(3) // timed out: the parent never killed us
}

// TestCrashRecovery kills a process that is submitting and starting tasks
// with SIGKILL, reopens its file and checks that every task the process
// accepted is there with its message, then runs them all to SUCCESS.
func TestCrashRecovery(t *testing.T) {
	t.Parallel()
	if os.Getenv(helperEnv) != "" {
		t.Skip("in the helper process")
	}
	path := t.TempDir() + "/crash.db"
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), helperEnv+"="+path)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Read the accepted tasks; kill the helper mid-stream; keep reading
	// what it printed before it died.
	accepted := map[string]task.Number{}
	r := bufio.NewReader(stdout)
	killed := false
	timeout := time.AfterFunc(30*time.Second, func() { cmd.Process.Kill() })
	defer timeout.Stop()
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			if err != io.EOF {
				t.Errorf("reading the helper's output: %v", err)
			}
			break // a partial last line is impossible (one write per line); ignore it
		}
		f := strings.Fields(line)
		if len(f) != 3 || f[0] != "task" || !task.ValidID(f[1]) {
			continue // not ours (the testing package's own output)
		}
		accepted[f[1]] = task.Number(f[2])
		if len(accepted) == killAfter && !killed {
			killed = true
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
		}
	}
	err = cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("helper ended with %v after %d tasks; want killed by SIGKILL", err, len(accepted))
	}
	t.Logf("helper killed after printing %d accepted tasks", len(accepted))

	checkFile(t, path)
	db := openAt(t, path, bolt.Options{VisibilityTimeout: reopenVisibility, MaxReceiveCount: 5})
	ctx := t.Context()
	started := map[string]bool{}
	for id := range accepted {
		tk, err := db.Store().Get(ctx, id)
		switch {
		case err != nil:
			t.Errorf("accepted task %s: Get = %v; want it stored", id, err)
		case tk.Status == task.StatusStarted:
			started[id] = true
		case tk.Status != task.StatusPending:
			t.Errorf("accepted task %s is %s; want PENDING or STARTED", id, tk.Status)
		}
	}
	t.Logf("at reopen: %d tasks started, %d messages queued", len(started), db.Queue().Len())

	// Phase 1: take everything visible. Every accepted task's message is
	// back at once, also a started task's, which was received (in flight)
	// before its Start committed: the process that received it is gone.
	messageOf := map[string]bool{}
	var batch []events.SQSMessage
	for {
		msgs, err := db.Queue().Receive(ctx, 10, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(msgs) == 0 {
			break
		}
		batch = append(batch, msgs...)
	}
	visible := map[string]bool{}
	for _, m := range batch {
		if msg, err := task.DecodeMessage(m.Body); err == nil {
			visible[msg.TaskID] = true
		}
	}
	for id := range accepted {
		if !visible[id] {
			t.Errorf("message of accepted task %s (started: %v) not visible at reopen; want every message back at once", id, started[id])
		}
	}

	// Phase 2: run everything with a processor on the reopened store until
	// the queue is empty; in-flight messages come back meanwhile.
	p := &task.Processor{Store: db.Store(), MaxReceiveCount: 5, Logger: discard}
	process := func(msgs []events.SQSMessage) {
		var wg sync.WaitGroup
		var mu sync.Mutex
		for _, m := range msgs {
			wg.Go(func() {
				msg, err := task.DecodeMessage(m.Body)
				if err != nil {
					t.Errorf("undecodable message %q", m.Body)
					return
				}
				n := receiveCount(t, m)
				if started[msg.TaskID] && n < 2 {
					t.Errorf("message of started task %s redelivered with ApproximateReceiveCount %d; want at least 2", msg.TaskID, n)
				}
				if err := p.Process(ctx, task.Delivery{Body: m.Body, ReceiveCount: n}); err != nil {
					t.Errorf("Process(%s) = %v; want nil", msg.TaskID, err)
					return
				}
				if err := db.Queue().Delete(ctx, m.ReceiptHandle); err != nil {
					t.Errorf("Delete = %v", err)
				}
				mu.Lock()
				messageOf[msg.TaskID] = true
				mu.Unlock()
			})
		}
		wg.Wait()
	}
	process(batch)
	deadline := time.Now().Add(20 * time.Second)
	for db.Queue().Len() > 0 && time.Now().Before(deadline) {
		msgs, err := db.Queue().Receive(ctx, 10, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		process(msgs)
	}
	if n := db.Queue().Len(); n != 0 {
		t.Fatalf("%d messages left after 20 s", n)
	}
	if n := db.DLQ().Len(); n != 0 {
		t.Errorf("%d dead letters; want 0", n)
	}
	for id, n := range accepted {
		if !messageOf[id] {
			t.Errorf("accepted task %s had no message", id)
			continue
		}
		tk, err := db.Store().Get(ctx, id)
		v, _ := strconv.Atoi(string(n))
		if err != nil || tk.Status != task.StatusSuccess || tk.IsPrime != isPrime(v) {
			t.Errorf("task %s for %s = %s prime=%v, %v; want SUCCESS prime=%v", id, n, tk.Status, tk.IsPrime, err, isPrime(v))
		}
	}
}

// isPrime is trial division: slow, obviously right, independent of the
// code under test.
func isPrime(n int) bool {
	if n < 2 {
		return false
	}
	for d := 2; d*d <= n; d++ {
		if n%d == 0 {
			return false
		}
	}
	return true
}

// checkFile runs bbolt's consistency check on the file at path.
func checkFile(t *testing.T, path string) {
	t.Helper()
	raw, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatalf("open the crashed file: %v", err)
	}
	defer raw.Close()
	err = raw.View(func(tx *bbolt.Tx) error {
		for err := range tx.Check() {
			t.Errorf("consistency check: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
