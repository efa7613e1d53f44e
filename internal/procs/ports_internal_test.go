package procs

import "testing"

// TestLockExcludes: while one holder has a port's lock, no other open of
// the lock file gets it (flock locks open files, so this holds within one
// process as across processes); closing releases it.
func TestLockExcludes(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	first, err := lockPort(dir, 20001)
	if err != nil {
		t.Fatal(err)
	}
	if second, err := lockPort(dir, 20001); err == nil {
		second.Close()
		t.Fatal("second lock of a held port = nil error; want it refused")
	}
	first.Close()
	again, err := lockPort(dir, 20001)
	if err != nil {
		t.Fatalf("lock after release = %v; want nil", err)
	}
	again.Close()
}
