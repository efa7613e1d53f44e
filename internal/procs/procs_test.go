package procs_test

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/asyncprime/asyncprime/internal/procs"
	"github.com/asyncprime/asyncprime/internal/testkit"
)

// TestStopKillsTheGroup: Stop kills the child and what it started, and the
// child's output is kept.
func TestStopKillsTheGroup(t *testing.T) {
	t.Parallel()
	// The shell starts a grandchild and prints its pid.
	p, err := procs.Start(exec.Command("sh", "-c", `sleep 600 & echo "grandchild $!"; wait`))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Stop() })
	var grandchild int
	err = p.WaitReady(t.Context(), func(context.Context) bool {
		_, pid, ok := strings.Cut(p.Output(), "grandchild ")
		grandchild, _ = strconv.Atoi(strings.TrimSpace(pid))
		return ok && grandchild > 0
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Stop(); err != nil {
		t.Errorf("Stop = %v; want nil", err)
	}
	if !p.Exited() {
		t.Error("Exited = false after Stop; want true")
	}
	if err := p.Stop(); err != nil {
		t.Errorf("second Stop = %v; want nil", err)
	}
	// The grandchild was reparented; once its new parent reaps it, it is gone.
	testkit.Eventually(t, time.Minute, func() bool {
		return errors.Is(syscall.Kill(grandchild, 0), syscall.ESRCH)
	}, "grandchild %d killed with its process group", grandchild)
}

// TestWaitReadyExited: a child that exits before it is ready ends the wait
// with its output, and a later Stop says it had exited.
func TestWaitReadyExited(t *testing.T) {
	t.Parallel()
	p, err := procs.Start(exec.Command("sh", "-c", "echo bind: address already in use >&2; exit 3"))
	if err != nil {
		t.Fatal(err)
	}
	err = p.WaitReady(t.Context(), func(context.Context) bool { return false })
	if err == nil || !strings.Contains(err.Error(), "address already in use") || !strings.Contains(err.Error(), "exit status 3") {
		t.Errorf("WaitReady = %v; want an error with the exit status and the output", err)
	}
	if err := p.Stop(); err == nil {
		t.Error("Stop of a child that had exited = nil; want an error")
	}
}

// TestStartReleasesHeld: what the process holds is released when it exits.
func TestStartReleasesHeld(t *testing.T) {
	t.Parallel()
	port, err := procs.ReservePort()
	if err != nil {
		t.Fatal(err)
	}
	p, err := procs.Start(exec.Command("sh", "-c", "exit 0"), port)
	if err != nil {
		t.Fatal(err)
	}
	// A readiness check that never passes returns once the process exits.
	_ = p.WaitReady(t.Context(), func(context.Context) bool { return false })
	if err := port.Close(); !errors.Is(err, os.ErrClosed) {
		t.Errorf("Close after the process exited = %v; want os.ErrClosed (already released)", err)
	}
}

// TestReservePort: a reservation lies outside the ephemeral range and
// excludes every other reservation of the same port until released.
func TestReservePort(t *testing.T) {
	t.Parallel()
	lo, hi := ephemeralRange(t)
	seen := map[int]*procs.Port{}
	for range 20 {
		p, err := procs.ReservePort()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { p.Close() })
		if lo <= p.Number && p.Number <= hi {
			t.Errorf("port %d is in the ephemeral range %d-%d", p.Number, lo, hi)
		}
		if seen[p.Number] != nil {
			t.Errorf("port %d reserved twice", p.Number)
		}
		seen[p.Number] = p
		// That it was free when reserved is TestReserveSkipsBusyPorts's:
		// a bind here could lose to a program outside the scheme, as the
		// doc comment says.
	}
}

func ephemeralRange(t *testing.T) (lo, hi int) {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 49152, 65535
	}
	f := strings.Fields(string(b))
	lo, _ = strconv.Atoi(f[0])
	hi, _ = strconv.Atoi(f[1])
	return lo, hi
}

// TestListeningIsTheChilds: a port counts as the child's only if the child
// itself listens on it; this process listening on it does not make the
// child ready.
func TestListeningIsTheChilds(t *testing.T) {
	t.Parallel()
	if runtime.GOOS != "linux" {
		t.Skip("ListeningPorts reads /proc")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	if !procs.Listening(t.Context(), os.Getpid(), port) {
		t.Errorf("Listening(this process, %d) = false; want true", port)
	}

	// A child that inherits the socket listens on it too; one that does not,
	// does not.
	f, err := ln.(*net.TCPListener).File()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	with := exec.Command("sleep", "600")
	with.ExtraFiles = []*os.File{f}
	without := exec.Command("sleep", "600")
	for _, tt := range []struct {
		name string
		cmd  *exec.Cmd
		want bool
	}{{"inherits the socket", with, true}, {"does not", without, false}} {
		p, err := procs.Start(tt.cmd)
		if err != nil {
			t.Fatal(err)
		}
		defer p.Stop()
		if got := procs.Listening(t.Context(), p.Pid(), port); got != tt.want {
			t.Errorf("child that %s: Listening = %v; want %v", tt.name, got, tt.want)
		}
	}
}
