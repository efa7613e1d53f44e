package bolt_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/asyncprime/asyncprime/internal/bolt"
	"github.com/asyncprime/asyncprime/internal/task"
)

// fullEnv names the database file the full-disk helper writes to.
const fullEnv = "BOLT_FULL_HELPER_DB"

// fullLimit is the size the helper's files may not grow past
// (RLIMIT_FSIZE): the disk it writes to is full beyond it.
const fullLimit = 256 << 10

// outboxWatch is the store the helper submits to: the DB's, noting the
// tasks of a create that failed and counting the roll-backs asked.
type outboxWatch struct {
	*bolt.Store
	refused  []string // the tasks of the last create that failed
	abandons int
}

func (w *outboxWatch) CreateAndEnqueue(ctx context.Context, jobs []task.Job) error {
	err := w.Store.CreateAndEnqueue(ctx, jobs)
	if err != nil {
		w.refused = w.refused[:0]
		for _, j := range jobs {
			w.refused = append(w.refused, j.Task.ID)
		}
	}
	return err
}

func (w *outboxWatch) Abandon(ctx context.Context, t task.Task) error {
	w.abandons++
	return w.Store.Abandon(ctx, t)
}

// TestFullDiskHelper is the process TestFullDisk runs. Its files cannot
// grow past fullLimit, as if the disk were full. It submits tasks one at a
// time, printing "task <id>" for each accepted, until one is refused; then
// it prints "refused <id> <abandons> <unavailable> <not written>", checks
// that it still reads what it accepted, and closes the DB.
func TestFullDiskHelper(t *testing.T) {
	path := os.Getenv(fullEnv)
	if path == "" {
		t.Skip("run by TestFullDisk")
	}
	fail := func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, "helper: "+format+"\n", args...)
		os.Exit(2)
	}
	db, err := bolt.Open(path, bolt.Options{Logger: discard})
	if err != nil {
		fail("%v", err)
	}
	// A write past the limit then fails with EFBIG rather than killing
	// the process.
	signal.Ignore(syscall.SIGXFSZ)
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &syscall.Rlimit{Cur: fullLimit, Max: fullLimit}); err != nil {
		fail("setrlimit: %v", err)
	}
	ctx := context.Background()
	store := &outboxWatch{Store: db.Store()}
	s := &task.Submitter{Store: store, Queue: db.Queue(), Logger: discard}
	var last string
	for i := 0; ; i++ {
		if i == 100_000 {
			fail("100000 tasks accepted; want one refused")
		}
		tk, err := s.Submit(ctx, task.Number(fmt.Sprint(1_000_000+i)))
		if err != nil {
			if len(store.refused) != 1 {
				fail("submit: %v, with no create refused", err)
			}
			fmt.Printf("refused %s %d %v %v\n", store.refused[0], store.abandons,
				errors.Is(err, task.ErrUnavailable), errors.Is(err, task.ErrNotWritten))
			break
		}
		fmt.Printf("task %s\n", tk.ID)
		last = tk.ID
	}
	if last == "" {
		fail("the first task was refused")
	}
	if tk, err := db.Store().Get(ctx, last); err != nil || tk.Status != task.StatusPending {
		fail("after the refusal, Get of an accepted task = %s, %v; want PENDING", tk.Status, err)
	}
	if err := db.Close(); err != nil {
		fail("close: %v", err)
	}
	os.Exit(0)
}

// TestFullDisk: on a full disk a submit is refused as unavailable, with
// nothing written and so nothing to roll back (no Abandon, which would
// fail the same way for as long as it may retry); what was accepted
// before is intact, each task with its message, and the refused task left
// neither record nor message.
func TestFullDisk(t *testing.T) {
	t.Parallel()
	if os.Getenv(fullEnv) != "" {
		t.Skip("in the helper process")
	}
	path := t.TempDir() + "/full.db"
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestFullDiskHelper$", "-test.count=1")
	cmd.Env = append(os.Environ(), fullEnv+"="+path)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("helper: %v", err)
	}
	accepted := map[string]bool{}
	var refused []string
	for sc := bufio.NewScanner(strings.NewReader(string(out))); sc.Scan(); {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) == 2 && f[0] == "task":
			accepted[f[1]] = true
		case len(f) == 5 && f[0] == "refused":
			refused = f[1:]
		}
	}
	if refused == nil {
		t.Fatalf("helper accepted %d tasks and printed no refusal:\n%s", len(accepted), out)
	}
	t.Logf("%d tasks accepted before the disk was full", len(accepted))
	if id, abandons, unavailable, notWritten := refused[0], refused[1], refused[2], refused[3]; abandons != "0" || unavailable != "true" || notWritten != "true" {
		t.Errorf("refused task %s: %s roll-backs, ErrUnavailable %s, ErrNotWritten %s; want 0, true, true", id, abandons, unavailable, notWritten)
	}

	db := openAt(t, path, bolt.Options{})
	if tk, err := db.Store().Get(t.Context(), refused[0]); !errors.Is(err, task.ErrNotFound) {
		t.Errorf("refused task: Get = %s, %v; want ErrNotFound", tk.Status, err)
	}
	for id := range accepted {
		if tk, err := db.Store().Get(t.Context(), id); err != nil || tk.Status != task.StatusPending {
			t.Errorf("accepted task %s: Get = %s, %v; want PENDING", id, tk.Status, err)
		}
	}
	queued := map[string]bool{}
	for {
		msgs, err := db.Queue().Receive(t.Context(), 10, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(msgs) == 0 {
			break
		}
		for _, m := range msgs {
			msg, err := task.DecodeMessage(m.Body)
			if err != nil || !accepted[msg.TaskID] || queued[msg.TaskID] {
				t.Errorf("message %q: want one for each accepted task, no other", m.Body)
			}
			queued[msg.TaskID] = true
		}
	}
	if len(queued) != len(accepted) {
		t.Errorf("%d messages queued for %d accepted tasks; want one each", len(queued), len(accepted))
	}
}
