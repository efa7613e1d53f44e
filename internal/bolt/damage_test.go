package bolt_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/asyncprime/asyncprime/internal/bolt"
	"github.com/asyncprime/asyncprime/internal/task"
)

// TestOpenRefusesAnEmptyFile: a truncated file is not a new database.
func TestOpenRefusesAnEmptyFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "asyncprime.db")
	if err := openWritten(t, path, nil); !strings.Contains(err.Error(), "the file is empty (0 bytes)") || !strings.Contains(err.Error(), path) {
		t.Errorf("Open = %v; want it to name the file and say it is empty", err)
	}
}

// TestOpenRefusedBySystem: a file the system will not open (unreadable, a
// read-only file system, a symlink loop) or a directory is not called damaged, and its
// path is named once.
func TestOpenRefusedBySystem(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		root   bool // whether the case holds for root too
		make   func(path string) error
		reason string
	}{
		{"symlink loop", true, func(path string) error { return os.Symlink(filepath.Base(path), path) }, "too many levels of symbolic links"},
		{"directory", true, func(path string) error { return os.Mkdir(path, 0o755) }, "is a directory, not a database file"},
		{"unreadable file", false, func(path string) error {
			db, err := bolt.Open(path, bolt.Options{Logger: discard, SweepInterval: -1, NoSync: true})
			if err != nil {
				return err
			}
			if err := db.Close(); err != nil {
				return err
			}
			return os.Chmod(path, 0)
		}, "permission denied"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if !tt.root && os.Geteuid() == 0 {
				t.Skip("root reads and writes any file")
			}
			path := filepath.Join(t.TempDir(), "asyncprime.db")
			if err := tt.make(path); err != nil {
				t.Fatal(err)
			}
			db, err := bolt.Open(path, bolt.Options{Logger: discard, SweepInterval: -1})
			if err == nil {
				db.Close()
				t.Fatal("Open = nil; want an error")
			}
			if msg := err.Error(); strings.Count(msg, path) != 1 || !strings.Contains(msg, tt.reason) || errors.Is(err, bolt.ErrDamagedFile) {
				t.Errorf("Open = %v; want it to name the file once, say %q, and not call it damaged", err, tt.reason)
			}
		})
	}
}

// openWritten writes b to path and returns the error of opening it, which
// must not be nil.
func openWritten(t *testing.T, path string, b []byte) error {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	db, err := bolt.Open(path, bolt.Options{Logger: discard, SweepInterval: -1})
	if err == nil {
		db.Close()
		t.Fatalf("Open of %d bytes written to the file = nil; want an error", len(b))
	}
	return err
}

// writeTasks creates a file holding n SUCCESS tasks and closes it.
func writeTasks(t *testing.T, numbers ...task.Number) (string, []task.Task) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "asyncprime.db")
	db, err := bolt.Open(path, bolt.Options{Logger: discard, SweepInterval: -1, NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	var tasks []task.Task
	for _, n := range numbers {
		tk := pendingTask(n)
		tk.ExpiresAt = time.Now().Add(24 * time.Hour)
		if err := db.Store().Create(t.Context(), tk); err != nil {
			t.Fatal(err)
		}
		out := task.Outcome{Status: task.StatusSuccess, IsPrime: true, FinishedAt: time.Now(), ExpiresAt: tk.ExpiresAt}
		if err := db.Store().Finish(t.Context(), tk.ID, out); err != nil {
			t.Fatal(err)
		}
		tasks = append(tasks, tk)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return path, tasks
}

// manyPages writes a file of 300 tasks, enough for many pages, and
// returns its path and its bytes.
func manyPages(t *testing.T) (string, []byte) {
	t.Helper()
	numbers := make([]task.Number, 300)
	for i := range numbers {
		numbers[i] = "1000000075"
	}
	path, _ := writeTasks(t, numbers...)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return path, b
}

// TestOpenDamagedPages: pages whose headers are overwritten make Open fail
// with an error that names the file and what to do, not a panic.
func TestOpenDamagedPages(t *testing.T) {
	t.Parallel()
	path, b := manyPages(t)
	page := os.Getpagesize()
	// Every page after the two meta pages: its header's flags and count.
	for off := 2 * page; off+16 <= len(b); off += page {
		copy(b[off+8:off+16], []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	}
	if err := openWritten(t, path, b); !errors.Is(err, bolt.ErrDamagedFile) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "backup") {
		t.Errorf("Open = %v; want ErrDamagedFile naming the file and what to do", err)
	}
}

// TestOpenTruncatedFile: a file cut short below the pages its last commit
// reaches (a copy that stopped early, a full disk while copying) makes Open
// fail with an error that names the file and what to do. Without the check,
// reading a page past the end of the mapped file is a SIGBUS that crashes
// the process with a stack trace.
func TestOpenTruncatedFile(t *testing.T) {
	t.Parallel()
	path, b := manyPages(t)
	used := usedBytes(t, path)
	page := os.Getpagesize()
	if used <= 4*page {
		t.Fatalf("the file's pages reach %d bytes; want more than 4 pages to cut", used)
	}
	for _, size := range []int{used - page, used / 2, 3 * page} {
		err := openWritten(t, path, b[:size])
		if !errors.Is(err, bolt.ErrDamagedFile) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "backup") {
			t.Errorf("Open of the file cut to %d of its %d bytes = %v; want ErrDamagedFile naming the file and what to do", size, used, err)
		}
	}
}

// usedBytes is how far into the file at path its last commit's pages reach.
func usedBytes(t *testing.T, path string) int {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var size int64
	if err := db.View(func(tx *bbolt.Tx) error { size = tx.Size(); return nil }); err != nil {
		t.Fatal(err)
	}
	return int(size)
}

// TestFlippedBitsAreDetected: a record whose bytes changed on disk reads as
// task.ErrDamaged, never as a wrong result.
func TestFlippedBitsAreDetected(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		change func(rec []byte) // rec is the task's binary record
	}{
		{name: "number", change: func(rec []byte) {
			i := bytes.Index(rec, []byte("1000000075"))
			rec[i+4] = '2' // 1000200075
		}},
		{name: "status", change: func(rec []byte) { rec[5] = 4 }},      // SUCCESS becomes FAILURE
		{name: "answer", change: func(rec []byte) { rec[6] ^= 1 }},     // is_prime flips
		{name: "attempts", change: func(rec []byte) { rec[7] = 0x7f }}, // 0 becomes 127
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path, tasks := writeTasks(t, "1000000075")
			db := openAt(t, path, bolt.Options{SweepInterval: -1})
			stored, err := db.Store().Get(t.Context(), tasks[0].ID)
			if err != nil {
				t.Fatal(err)
			}
			db.Close()
			rec, err := bolt.EncodeTask(stored)
			if err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Contains(b, rec) {
				t.Fatalf("the file does not hold the record %x", rec)
			}
			damaged := bytes.Clone(rec)
			tt.change(damaged)
			// Freed pages may hold older copies of the record: change them all.
			if err := os.WriteFile(path, bytes.ReplaceAll(b, rec, damaged), 0o600); err != nil {
				t.Fatal(err)
			}
			db = openAt(t, path, bolt.Options{SweepInterval: -1})
			got, err := db.Store().Get(t.Context(), tasks[0].ID)
			if !errors.Is(err, task.ErrDamaged) {
				t.Errorf("Get = %+v, %v; want ErrDamaged", got, err)
			}
			if _, err := db.Store().Start(t.Context(), tasks[0].ID, time.Now()); !errors.Is(err, task.ErrDamaged) {
				t.Errorf("Start = %v; want ErrDamaged", err)
			}
		})
	}
}

// TestOpenDamagedMessage: a queued message whose body changed on disk (a
// digit of the number it carries, which the worker checks) makes Open
// fail with ErrDamagedFile, rather than deliver it and record the answer
// for another number as the task's.
func TestOpenDamagedMessage(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "asyncprime.db")
	db := openAt(t, path, bolt.Options{SweepInterval: -1})
	s := &task.Submitter{Store: db.Store(), Queue: db.Queue(), Logger: discard}
	if _, err := s.Submit(t.Context(), "1000003"); err != nil {
		t.Fatal(err)
	}
	b := closeAndRead(t, db, path)
	body := []byte(`"number\":1000003}`) // as the message record quotes it
	if !bytes.Contains(b, body) {
		t.Fatalf("the file holds no message body with %s", body)
	}
	err := openWritten(t, path, bytes.ReplaceAll(b, body, []byte(`"number\":1000001}`)))
	if !errors.Is(err, bolt.ErrDamagedFile) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "MD5") {
		t.Errorf("Open = %v; want ErrDamagedFile naming the file and the message's MD5", err)
	}
}

// TestDamagedClaimIsDetected: an idempotency claim whose task ids changed
// on disk is ErrDamaged, never read as naming other tasks; a retry with
// its key would be answered with them.
func TestDamagedClaimIsDetected(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "asyncprime.db")
	db := openAt(t, path, bolt.Options{SweepInterval: -1})
	now := time.Now()
	c := task.Claim{Key: "key-1", Hash: "h", TaskIDs: []string{task.NewID()}, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	if _, err := db.Store().Claim(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	b := closeAndRead(t, db, path)
	id := []byte(c.TaskIDs[0])
	if !bytes.Contains(b, id) {
		t.Fatalf("the file holds no claim naming %s", id)
	}
	other := bytes.Clone(id)
	other[len(other)-1] ^= 1 // another valid-looking id
	if err := os.WriteFile(path, bytes.ReplaceAll(b, id, other), 0o600); err != nil {
		t.Fatal(err)
	}
	db = openAt(t, path, bolt.Options{SweepInterval: -1})
	if got, err := db.Store().Holder(t.Context(), c.Key, now); !errors.Is(err, task.ErrDamaged) {
		t.Errorf("Holder = %+v, %v; want ErrDamaged", got, err)
	}
}

// TestClaimFormats: a claim written before the checksum (the JSON alone)
// is read as it is; anything else without a valid checksum is damaged.
func TestClaimFormats(t *testing.T) {
	t.Parallel()
	legacy := `{"hash":"h","task_ids":["01a2384b-d7ed-7c11-9d01-2facf33469e5"],"created_at":"2026-12-02T12:00:00Z","expires_at":"2026-12-03T12:00:00Z"}`
	c, err := bolt.DecodeClaim("k", []byte(legacy))
	if err != nil || c.Hash != "h" || len(c.TaskIDs) != 1 || c.TaskIDs[0] != "01a2384b-d7ed-7c11-9d01-2facf33469e5" {
		t.Errorf("DecodeClaim(legacy JSON) = %+v, %v; want its claim", c, err)
	}
	for _, b := range []string{"", "x", "c00000000" + legacy, "czzzzzzzz" + legacy} {
		if _, err := bolt.DecodeClaim("k", []byte(b)); !errors.Is(err, task.ErrDamaged) {
			t.Errorf("DecodeClaim(%.20q) = %v; want ErrDamaged", b, err)
		}
	}
}

// closeAndRead closes db and returns the bytes of its file at path.
func closeAndRead(t *testing.T, db *bolt.DB, path string) []byte {
	t.Helper()
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
