package procs

import (
	"net"
	"testing"
)

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

// TestReserveSkipsBusyPorts: a candidate something listens on, or one
// another holder has locked, is passed over for the next.
func TestReserveSkipsBusyPorts(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	free, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	freePort := free.Addr().(*net.TCPAddr).Port
	free.Close() // a port the kernel just gave out, now free
	locked, err := lockPort(dir, 20002)
	if err != nil {
		t.Fatal(err)
	}
	defer locked.Close()
	candidates := []int{busy.Addr().(*net.TCPAddr).Port, 20002, freePort}
	p, err := reservePort(dir, func() int {
		n := candidates[0]
		if len(candidates) > 1 {
			candidates = candidates[1:]
		}
		return n
	})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if p.Number != freePort {
		t.Errorf("reserved %d; want %d, the first candidate neither listened on nor locked", p.Number, freePort)
	}
}
