package bolt

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"go.etcd.io/bbolt"

	"github.com/asyncprime/asyncprime/internal/testkit"
)

var testBucket = []byte("t")

// newTestCommitter returns a committer on a fresh file with one bucket.
func newTestCommitter(t *testing.T, noSync bool) (*committer, *bbolt.DB) {
	t.Helper()
	db, err := bbolt.Open(filepath.Join(t.TempDir(), "c.db"), 0o600, &bbolt.Options{NoSync: noSync})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bbolt.Tx) error { _, err := tx.CreateBucket(testBucket); return err }); err != nil {
		t.Fatal(err)
	}
	c := newCommitter(db, 0, 0, slog.New(slog.NewTextHandler(io.Discard, nil)))
	t.Cleanup(func() {
		c.Close()
		db.Close()
	})
	return c, db
}

func putOp(key, val string) opFunc {
	return func(tx *txn) error { return tx.put(testBucket, []byte(key), []byte(val)) }
}

func get(t *testing.T, db *bbolt.DB, key string) (string, bool) {
	t.Helper()
	var v []byte
	db.View(func(tx *bbolt.Tx) error {
		if b := tx.Bucket(testBucket).Get([]byte(key)); b != nil {
			v = append([]byte{}, b...)
		}
		return nil
	})
	return string(v), v != nil
}

var errOdd = errors.New("odd key refused")

// block makes the committer wait inside a transaction until release is
// closed, so that operations queued meanwhile form one batch.
func block(t *testing.T, c *committer) (release func(), finished <-chan error) {
	t.Helper()
	entered, unblock := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- c.Do(context.Background(), func(*txn) error {
			close(entered)
			<-unblock
			return nil
		})
	}()
	<-entered
	return func() { close(unblock) }, done
}

// waitQueued waits until n operations are queued behind the running batch.
func waitQueued(t *testing.T, c *committer, n int) {
	t.Helper()
	testkit.Eventually(t, time.Minute, func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return len(c.queue) >= n
	}, "%d operations queued", n)
}

func TestCommitterConcurrentOps(t *testing.T) {
	t.Parallel()
	c, db := newTestCommitter(t, false)
	const n = 500
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			key := fmt.Sprint(i)
			errs[i] = c.Do(t.Context(), func(tx *txn) error {
				if i%2 == 1 {
					return fmt.Errorf("key %d: %w", i, errOdd) // refused before writing
				}
				return putOp(key, "v"+key)(tx)
			})
		})
	}
	wg.Wait()
	for i, err := range errs {
		key := fmt.Sprint(i)
		v, ok := get(t, db, key)
		switch {
		case i%2 == 1 && (!errors.Is(err, errOdd) || err.Error() != "key "+key+": odd key refused"):
			t.Errorf("op %d = %v; want its own errOdd", i, err)
		case i%2 == 1 && ok:
			t.Errorf("refused op %d wrote %q", i, v)
		case i%2 == 0 && (err != nil || v != "v"+key):
			t.Errorf("op %d = %v, wrote %q; want nil and %q", i, err, v, "v"+key)
		}
	}
	st := c.Stats()
	if st.Ops != n || st.Commits == 0 || st.Commits > n {
		t.Errorf("stats %+v; want %d ops in at most %d commits", st, n, n)
	}
	t.Logf("%d ops in %d commits (mean %.1f, max %d): %s", st.Ops, st.Commits, st.MeanBatch(), st.MaxBatch, st.Histogram())
}

func TestCommitterBatchesWhileBusy(t *testing.T) {
	t.Parallel()
	c, db := newTestCommitter(t, true)
	release, first := block(t, c)
	const n = 10
	errs := make(chan error, n)
	for i := range n {
		go func() { errs <- c.Do(t.Context(), putOp(fmt.Sprint(i), "x")) }()
	}
	waitQueued(t, c, n)
	release()
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	for range n {
		if err := <-errs; err != nil {
			t.Errorf("Do = %v; want nil", err)
		}
	}
	st := c.Stats()
	if st.Commits != 2 || st.BatchSizes[batchBucket(n)] != 1 || st.MaxBatch != n {
		t.Errorf("stats %+v (%s); want 2 commits, the second of %d ops", st, st.Histogram(), n)
	}
	for i := range n {
		if _, ok := get(t, db, fmt.Sprint(i)); !ok {
			t.Errorf("key %d not written", i)
		}
	}
}

// TestCommitterAbortSparesTheBatch: an operation that fails after writing
// commits none of its writes, however it fails (an error from bbolt, a
// domain error found too late, a panic), while the other operations of its
// batch commit.
func TestCommitterAbortSparesTheBatch(t *testing.T) {
	t.Parallel()
	c, db := newTestCommitter(t, true)
	if err := c.Do(t.Context(), putOp("kept", "old")); err != nil {
		t.Fatal(err)
	}
	release, first := block(t, c)
	boom := errors.New("disk says no")
	writeThen := func(key string, err error) opFunc {
		return func(tx *txn) error {
			if err := tx.put(testBucket, []byte(key), []byte("half")); err != nil {
				return err
			}
			return err
		}
	}
	tests := []struct {
		name    string
		fn      opFunc
		key     string
		wantErr error  // nil: none
		want    string // the key's value on disk; "" for none
	}{
		{name: "before", fn: putOp("a", "1"), key: "a", want: "1"},
		{name: "writes then fails", fn: writeThen("b", boom), key: "b", wantErr: boom},
		{name: "domain error", fn: func(*txn) error { return errOdd }, key: "c", wantErr: errOdd},
		{name: "writes then gives a domain error", fn: writeThen("c2", fmt.Errorf("checked too late: %w", errOdd)), key: "c2", wantErr: errOdd},
		{name: "deletes then gives a domain error", key: "kept", wantErr: errOdd, want: "old", fn: func(tx *txn) error {
			if err := tx.delete(testBucket, []byte("kept")); err != nil {
				return err
			}
			return errOdd
		}},
		{name: "panics after writing", key: "d", wantErr: errors.New("panicked"), fn: func(tx *txn) error {
			tx.put(testBucket, []byte("d"), []byte("half"))
			panic("bug")
		}},
		{name: "after", fn: putOp("e", "1"), key: "e", want: "1"},
	}
	errs := make([]chan error, len(tests))
	for i, tt := range tests {
		errs[i] = make(chan error, 1)
		go func() { errs[i] <- c.Do(t.Context(), tt.fn) }()
		waitQueued(t, c, i+1) // keep the order
	}
	release()
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	for i, tt := range tests {
		err := <-errs[i]
		if got, _ := get(t, db, tt.key); got != tt.want {
			t.Errorf("%s: %s = %q on disk; want %q", tt.name, tt.key, got, tt.want)
		}
		switch {
		case tt.wantErr == nil && err != nil:
			t.Errorf("%s: Do = %v; want nil", tt.name, err)
		case tt.wantErr != nil && (err == nil || !errors.Is(err, tt.wantErr) && !strings.Contains(err.Error(), tt.wantErr.Error())):
			t.Errorf("%s: Do = %v; want %v", tt.name, err, tt.wantErr)
		}
	}
	if st := c.Stats(); st.Commits != 3 || st.Ops != 5 {
		t.Errorf("stats %+v; want 3 commits (kept, the blocker, the batch) of 5 ops (a, c and e of the batch: a refusal before any write stays in it)", st)
	}
}

func TestCommitterCancelWhileQueued(t *testing.T) {
	t.Parallel()
	c, db := newTestCommitter(t, true)
	release, first := block(t, c)
	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() { errc <- c.Do(ctx, putOp("k", "v")) }()
	waitQueued(t, c, 1)
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled Do = %v; want context.Canceled", err)
	}
	release()
	<-first
	// A later op commits after the withdrawn one would have.
	if err := c.Do(t.Context(), putOp("later", "v")); err != nil {
		t.Fatal(err)
	}
	if v, ok := get(t, db, "k"); ok {
		t.Errorf("withdrawn op wrote %q; want nothing", v)
	}
}

func TestCommitterCloseFlushes(t *testing.T) {
	t.Parallel()
	c, db := newTestCommitter(t, true)
	release, first := block(t, c)
	const n = 20
	for i := range n {
		if err := c.Go("test", putOp(fmt.Sprint(i), "x")); err != nil {
			t.Fatalf("Go = %v; want nil", err)
		}
	}
	closed := make(chan struct{})
	go func() {
		c.Close()
		close(closed)
	}()
	// Close waits for the queued ops; new ones are refused meanwhile.
	testkit.Eventually(t, time.Minute, func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.closed
	}, "Close under way")
	if err := c.Do(t.Context(), putOp("late", "x")); !errors.Is(err, ErrClosed) {
		t.Errorf("Do during Close = %v; want ErrClosed", err)
	}
	if err := c.Go("test", putOp("late", "x")); !errors.Is(err, ErrClosed) {
		t.Errorf("Go during Close = %v; want ErrClosed", err)
	}
	release()
	<-first
	<-closed
	for i := range n {
		if _, ok := get(t, db, fmt.Sprint(i)); !ok {
			t.Errorf("async op %d not flushed by Close", i)
		}
	}
	if _, ok := get(t, db, "late"); ok {
		t.Error("op refused after Close was written")
	}
	if err := c.Do(t.Context(), putOp("after", "x")); !errors.Is(err, ErrClosed) {
		t.Errorf("Do after Close = %v; want ErrClosed", err)
	}
}

// TestCommitterIdleCommitsAtOnce checks that no timer delays a lone
// operation (bbolt's Batch would wait 10 ms for company): in a synctest
// bubble, where time moves only when every goroutine waits, each op must be
// committed by the time the committer waits again, with no time passed.
func TestCommitterIdleCommitsAtOnce(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "c.db")
	synctest.Test(t, func(t *testing.T) {
		db, err := bbolt.Open(path, 0o600, &bbolt.Options{NoSync: true})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if err := db.Update(func(tx *bbolt.Tx) error { _, err := tx.CreateBucket(testBucket); return err }); err != nil {
			t.Fatal(err)
		}
		c := newCommitter(db, 0, 0, slog.New(slog.NewTextHandler(io.Discard, nil)))
		defer c.Close()
		start := time.Now()
		// Go, not Do: Do's ops come from a pool shared with other tests,
		// and a channel made in a bubble must not leave it.
		for i := range 100 {
			if err := c.Go("test", putOp(fmt.Sprint(i), "x")); err != nil {
				t.Fatal(err)
			}
			synctest.Wait()
			if st := c.Stats(); st.Commits != uint64(i+1) {
				t.Fatalf("op %d: %d commits once the committer waits again; want %d (a lone op commits at once)", i, st.Commits, i+1)
			}
		}
		if d := time.Since(start); d != 0 {
			t.Errorf("bubble time moved by %v; want 0 (no timer in the committer's path)", d)
		}
		if st := c.Stats(); st.BatchSizes[0] != 100 {
			t.Errorf("stats %+v; want 100 commits of 1 op", st)
		}
	})
}

func TestBatchBucket(t *testing.T) {
	t.Parallel()
	tests := []struct{ n, want int }{{1, 0}, {2, 1}, {3, 2}, {4, 2}, {5, 3}, {8, 3}, {9, 4}, {1000, 10}, {1024, 10}, {1025, 11}, {1 << 20, 11}}
	for _, tt := range tests {
		if got := batchBucket(tt.n); got != tt.want {
			t.Errorf("batchBucket(%d) = %d; want %d", tt.n, got, tt.want)
		}
	}
	var s Stats
	s.BatchSizes[0], s.BatchSizes[2], s.BatchSizes[11] = 3, 1, 2
	if got, want := s.Histogram(), "1:3 3-4:1 1025+:2"; got != want {
		t.Errorf("Histogram = %q; want %q", got, want)
	}
}

// TestCommitInterval: writes that arrive within the interval after a commit
// wait for the rest of it and share the next commit; a write to an idle
// database commits at once.
func TestCommitInterval(t *testing.T) {
	t.Parallel()
	db, err := bbolt.Open(filepath.Join(t.TempDir(), "c.db"), 0o600, &bbolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Update(func(tx *bbolt.Tx) error { _, err := tx.CreateBucket(testBucket); return err }); err != nil {
		t.Fatal(err)
	}
	c := newCommitter(db, 0, time.Hour, slog.New(slog.DiscardHandler))
	t.Cleanup(c.Close) // after t.Context() is done, which ends a held sleep
	waiting, release := make(chan struct{}), make(chan struct{})
	c.sleep = func(time.Duration) {
		select {
		case waiting <- struct{}{}:
			select {
			case <-release:
			case <-t.Context().Done():
			}
		case <-t.Context().Done():
		}
	}

	// Idle: no wait, even for a write that comes well within the interval
	// of the last commit.
	for _, k := range []string{"a", "b"} {
		done := make(chan error, 1)
		go func() { done <- c.Do(t.Context(), putOp(k, "1")) }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-waiting:
			t.Fatalf("write %q waited for the interval with nothing else queued", k)
		}
	}
	// Busy: writes that queue up while a commit runs wait for the rest of
	// the interval, and share the next commit.
	running, unblock := make(chan struct{}), make(chan struct{})
	errs := make(chan error, 3)
	go func() {
		errs <- c.Do(t.Context(), func(tx *txn) error {
			close(running)
			select {
			case <-unblock:
			case <-t.Context().Done():
			}
			return tx.put(testBucket, []byte("held"), []byte("1"))
		})
	}()
	<-running
	for _, k := range []string{"c", "d"} {
		go func() { errs <- c.Do(t.Context(), putOp(k, "1")) }()
	}
	testkit.Eventually(t, time.Minute, func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return len(c.queue) == 2
	})
	close(unblock)
	select {
	case <-waiting:
	case <-time.After(time.Minute):
		t.Fatal("the committer did not wait for the interval with writes queued up during a commit")
	}
	close(release)
	for range 3 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if st := c.Stats(); st.Commits != 4 || st.MaxBatch != 2 {
		t.Errorf("stats = %+v; want 4 commits, the last of 2 writes", st)
	}
}
